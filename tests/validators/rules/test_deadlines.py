"""Deadlines at their edges, counted in calendar days from the transmission date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from config import OfficeRegistry
from edi_formats.models import DUA, Modality
from tests.validators.helpers import change, findings_of, sample_dua
from validators.engine import RuleContext

ARRIVAL = date(2025, 3, 10)
ANTICIPADO = Modality(code="1-0", arrival_point="03", arrival_option="A")
URGENCIA = Modality(code="0-1", category="g")
EXCEPCIONAL = Modality(code="0-0")


def _dua(modality: Modality, arrival: date | None, discharged: date | None = None) -> DUA:
    dua = sample_dua()
    transport = change(dua.transport, arrival_date=arrival, discharge_end_date=discharged)
    return change(dua, modality=modality, transport=transport)


def _on(offices: OfficeRegistry, day: date) -> RuleContext:
    return RuleContext(as_of=day, offices=offices)


@pytest.mark.parametrize(
    ("offset", "ok"), [(-16, False), (-15, True), (-1, True), (0, True), (1, False)]
)
def test_anticipado_window(offices: OfficeRegistry, offset: int, ok: bool) -> None:
    ctx = _on(offices, ARRIVAL + timedelta(days=offset))
    assert (findings_of(_dua(ANTICIPADO, ARRIVAL), ctx, "DL-ANTICIPADO") == []) is ok


def test_anticipado_after_arrival_says_excepcional(offices: OfficeRegistry) -> None:
    """Seed 004 VI.7 a: "vencido este plazo, las mercancías se someterán al despacho
    excepcional"; from DS 367-2019-EF (seed 001 art. 230) the 0-0 is the "despacho diferido"."""
    (finding,) = findings_of(
        _dua(ANTICIPADO, ARRIVAL), _on(offices, date(2025, 3, 11)), "DL-ANTICIPADO"
    )
    assert "despacho diferido" in finding.message and "0-0" in finding.message
    old = _dua(ANTICIPADO, date(2015, 3, 10))
    (finding,) = findings_of(old, _on(offices, date(2015, 3, 11)), "DL-ANTICIPADO")
    assert "despacho excepcional" in finding.message


def test_anticipado_needs_the_arrival_date(offices: OfficeRegistry) -> None:
    (finding,) = findings_of(_dua(ANTICIPADO, None), _on(offices, ARRIVAL), "DL-ANTICIPADO")
    assert finding.field == "transport.arrival_date"


@pytest.mark.parametrize(("offset", "ok"), [(7, True), (8, False)])
def test_urgente_closes_seven_days_after_discharge(
    offices: OfficeRegistry, offset: int, ok: bool
) -> None:
    discharged = ARRIVAL + timedelta(days=2)
    ctx = _on(offices, discharged + timedelta(days=offset))
    assert (findings_of(_dua(URGENCIA, ARRIVAL, discharged), ctx, "DL-URGENTE") == []) is ok


def test_urgente_opening_changed_in_2019(offices: OfficeRegistry) -> None:
    arrival = date(2019, 12, 30) + timedelta(days=16)
    before = _on(offices, date(2019, 12, 30))
    after = _on(offices, date(2019, 12, 31))
    (finding,) = findings_of(_dua(URGENCIA, arrival), before, "DL-URGENTE")
    assert "15 días calendario antes" in finding.message
    assert findings_of(_dua(URGENCIA, arrival + timedelta(days=1)), after, "DL-URGENTE") == []
    # Before 2019-12-31 the arrival date was needed to count the 15 days; afterwards it is not.
    assert findings_of(_dua(URGENCIA, None), before, "DL-URGENTE")
    assert findings_of(_dua(URGENCIA, None), after, "DL-URGENTE") == []


@pytest.mark.parametrize(("offset", "ok"), [(0, True), (30, True), (31, False)])
def test_excepcional_thirty_days_after_discharge(
    offices: OfficeRegistry, offset: int, ok: bool
) -> None:
    discharged = OLD_ARRIVAL + timedelta(days=1)
    ctx = _on(offices, discharged + timedelta(days=offset))
    decl = _dua(EXCEPCIONAL, OLD_ARRIVAL, discharged)
    assert (findings_of(decl, ctx, "DL-EXCEPCIONAL") == []) is ok


def test_excepcional_needs_the_end_of_discharge(offices: OfficeRegistry) -> None:
    decl = _dua(EXCEPCIONAL, OLD_ARRIVAL)
    (finding,) = findings_of(decl, _on(offices, OLD_ARRIVAL), "DL-EXCEPCIONAL")
    assert finding.field == "transport.discharge_end_date"


OLD_ARRIVAL = date(2015, 3, 10)


@pytest.mark.parametrize(
    ("offset", "extension", "ok"),
    [(15, False, True), (16, False, False), (16, True, True), (30, True, True), (31, True, False)],
)
def test_deferred_dispatch_15_days_and_one_extension_of_15(
    offices: OfficeRegistry, offset: int, extension: bool, ok: bool
) -> None:
    """Seed 001 art. 187: the owner may request the extension "del plazo establecido en el
    cuarto párrafo del artículo 130 de la Ley, para el despacho diferido, dentro de los quince
    (15) días calendario contados a partir del día siguiente del término de la descarga" and
    it is granted "por una sola vez y por un plazo adicional de quince (15) días calendario".
    From 31.12.2019 the 0-0 has these terms, not DL-EXCEPCIONAL's 30 days."""
    discharged = ARRIVAL + timedelta(days=1)
    ctx = _on(offices, discharged + timedelta(days=offset))
    decl = _dua(EXCEPCIONAL, ARRIVAL, discharged)
    if extension:
        decl = change(decl, observations_7_38="PRORROGA: 118-2025-000123")
    assert findings_of(decl, ctx, "DL-EXCEPCIONAL") == []
    found = findings_of(decl, ctx, "DL-DIFERIDO")
    assert (found == []) is ok
    assert all("despacho diferido" in f.message for f in found)


def test_excepcional_gives_way_to_diferido_on_31_12_2019(offices: OfficeRegistry) -> None:
    """Seed 001, Primera DCF 2: "A partir del 31 de diciembre de 2019: a) ... los artículos
    ... 187 ... 230"."""
    discharged = date(2019, 12, 10)
    decl = _dua(EXCEPCIONAL, date(2019, 12, 9), discharged)
    on_30th = _on(offices, date(2019, 12, 30))
    assert findings_of(decl, on_30th, "DL-EXCEPCIONAL") == []
    assert findings_of(decl, on_30th, "DL-DIFERIDO") == []
    on_31st = _on(offices, date(2019, 12, 31))
    assert findings_of(decl, on_31st, "DL-EXCEPCIONAL") == []
    (finding,) = findings_of(decl, on_31st, "DL-DIFERIDO")
    assert "PRORROGA" in finding.message


def test_deadlines_not_in_force_in_1997(offices: OfficeRegistry) -> None:
    late = _dua(EXCEPCIONAL, date(1997, 1, 2), date(1997, 1, 3))
    assert (
        findings_of(change(late, office="118"), _on(offices, date(1997, 3, 3)), "DL-EXCEPCIONAL")
        == []
    )


@pytest.mark.parametrize(
    ("rule_id", "modality", "arrival", "discharged"),
    [
        ("DL-ANTICIPADO", ANTICIPADO, date(1, 1, 1), None),
        ("DL-URGENTE", URGENCIA, ARRIVAL, date(9999, 12, 31)),
        ("DL-DIFERIDO", EXCEPCIONAL, ARRIVAL, date(9999, 12, 31)),
    ],
)
def test_a_date_at_the_calendars_end_is_answered_not_an_internal_error(
    offices: OfficeRegistry,
    rule_id: str,
    modality: Modality,
    arrival: date,
    discharged: date | None,
) -> None:
    """Terms counted from a typo such as 0001-01-01 or 9999-12-31 went past Python's calendar:
    the rule raised, and the broker read "Error interno de la aduana" for their own date."""
    findings = findings_of(_dua(modality, arrival, discharged), _on(offices, ARRIVAL), rule_id)
    assert all("Error interno" not in finding.message for finding in findings), findings
