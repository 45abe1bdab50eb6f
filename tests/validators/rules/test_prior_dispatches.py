"""CTRL-SINGLE-USE, URG-REGULARIZE and MOD-04-OVERDUE as pure functions of the store's facts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from edi_formats.models import DUA, ControlDocument, Modality
from tests.validators.conftest import AS_OF
from tests.validators.helpers import change, findings_of, sample_dua, sample_oe
from validators.engine import RuleContext
from validators.facts import ImportHistory
from validators.samples import break_rule


@dataclass(frozen=True)
class FakeFacts:
    uses: dict[tuple[str, str, str], str] = field(default_factory=dict)
    overdue: dict[str, tuple[str, ...]] = field(default_factory=dict)
    premises: dict[str, tuple[tuple[date, date | None], ...]] = field(default_factory=dict)

    def imports_in_year(self, doc_type: str, doc_number: str, year: int) -> ImportHistory:
        return ImportHistory(year)

    def control_document_use(self, entity_code: str, document_code: str, number: str) -> str | None:
        return self.uses.get((entity_code, document_code, number))

    def overdue_regularizations(self, kind: str) -> tuple[str, ...]:
        return self.overdue.get(kind, ())

    def premises_incidents(self, establishment: str) -> tuple[tuple[date, date | None], ...]:
        return self.premises.get(establishment, ())


PERMIT = ControlDocument(
    entity_code="03",
    document_code="08",
    number="RS-2025-0042",
    issued_on=AS_OF - timedelta(days=10),
    expires_on=AS_OF + timedelta(days=300),
)


def _medicines() -> DUA:
    dua = break_rule(sample_dua(), "RESTR-DOC")
    assert isinstance(dua, DUA)
    series = list(dua.series)
    series[0] = change(series[0], control_documents=(PERMIT,))
    return change(dua, series=tuple(series))


def test_a_control_document_serves_one_dispatch(ctx: RuleContext) -> None:
    """Seed 003 VI.10: "El documento de control se utiliza en un solo despacho"."""
    used = replace(ctx, facts=FakeFacts(uses={("03", "08", "RS-2025-0042"): "118-2025-10-000007"}))
    (finding,) = findings_of(_medicines(), used, "CTRL-SINGLE-USE")
    assert "118-2025-10-000007" in finding.message and "un solo despacho" in finding.message
    assert findings_of(_medicines(), replace(ctx, facts=FakeFacts()), "CTRL-SINGLE-USE") == []
    assert findings_of(_medicines(), ctx, "CTRL-SINGLE-USE") == []  # offline: no facts


def test_an_importer_with_overdue_urgent_dispatches_gets_no_urgent_dispatch(
    ctx: RuleContext,
) -> None:
    """Seed 004 VII.B.13: "No se otorga el tratamiento de despacho urgente al importador que no
    regularice sus despachos anteriores dentro del plazo establecido, excepto en los casos
    previstos en los incisos a) y g) del artículo 231° y del artículo 232° del Reglamento"."""
    urgent = break_rule(sample_dua(), "DL-URGENTE")
    assert isinstance(urgent, DUA)
    urgent = change(
        urgent, transport=change(urgent.transport, arrival_date=AS_OF, discharge_end_date=AS_OF)
    )
    late = replace(ctx, facts=FakeFacts(overdue={"urgente": ("118-2025-10-000003",)}))
    (finding,) = findings_of(urgent, late, "URG-REGULARIZE")
    assert "118-2025-10-000003" in finding.message
    assert findings_of(urgent, replace(ctx, facts=FakeFacts()), "URG-REGULARIZE") == []
    for exempt in (Modality(code="0-1", category="g"), Modality(code="0-2", category="b")):
        assert findings_of(change(urgent, modality=exempt), late, "URG-REGULARIZE") == []


def test_no_anticipado_04_with_similar_dispatches_overdue(ctx: RuleContext) -> None:
    """Seed 004 VI.15: the SIGAD "no permite la numeración de la declaración en el despacho
    anticipado con traslado a la zona primaria con autorización especial de aquellos dueños o
    consignatarios que tengan despachos similares pendientes de regularización cuyo plazo se
    encuentra vencido"."""
    dua = change(
        sample_dua(),
        modality=Modality(code="1-0", arrival_point="04"),
        observations_7_38="AUTORIZACION ZP: 7 E.A.:0000 AV. ARGENTINA 2833 CALLAO 070101",
    )
    late = replace(ctx, facts=FakeFacts(overdue={"anticipado-04": ("118-2025-10-000001",)}))
    (finding,) = findings_of(dua, late, "MOD-04-OVERDUE")
    assert "118-2025-10-000001" in finding.message
    assert findings_of(sample_dua(), late, "MOD-04-OVERDUE") == []  # 03: not concerned
    assert findings_of(sample_oe(), late, "MOD-04-OVERDUE") == []


def test_premises_with_code_44_take_no_anticipado_04(ctx: RuleContext) -> None:
    """Seed 004 VII.A.51: "El código 44 imposibilita automáticamente que se numere una nueva
    declaración bajo la modalidad de despacho anticipado con traslado en dicho local. El
    importador puede presentar un expediente subsanando las observaciones, con lo cual
    automáticamente se habilita nuevamente el referido local. Si en el lapso de un (1) año
    existe reincidencia del código 44 en el mismo local, éste queda restringido para el
    despacho anticipado por un (1) año a partir del registro de la segunda incidencia\"."""
    dua = change(
        sample_dua(),
        modality=Modality(code="1-0", arrival_point="04"),
        observations_7_38="AUTORIZACION ZP: 7 E.A.:0003 AV. ARGENTINA 2833 CALLAO 070101",
    )
    open_44 = FakeFacts(premises={"0003": ((date(2025, 1, 10), None),)})
    (finding,) = findings_of(dua, replace(ctx, facts=open_44), "MOD-04-PREMISES")
    assert "E.A.:0003" in finding.message and "10/01/2025" in finding.message
    cured = FakeFacts(premises={"0003": ((date(2025, 1, 10), date(2025, 2, 1)),)})
    assert findings_of(dua, replace(ctx, facts=cured), "MOD-04-PREMISES") == []
    other = FakeFacts(premises={"0001": ((date(2025, 1, 10), None),)})
    assert findings_of(dua, replace(ctx, facts=other), "MOD-04-PREMISES") == []
    twice = FakeFacts(
        premises={
            "0003": (
                (date(2024, 6, 1), date(2024, 6, 20)),
                (date(2025, 2, 1), date(2025, 2, 10)),
            )
        }
    )
    (finding,) = findings_of(dua, replace(ctx, facts=twice), "MOD-04-PREMISES")
    assert "restringido" in finding.message and "01/02/2026" in finding.message
    a_year_on = replace(ctx, as_of=date(2026, 2, 1), facts=twice)
    assert findings_of(dua, a_year_on, "MOD-04-PREMISES") == []
