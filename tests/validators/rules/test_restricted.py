"""PROHIBITED and RESTR-*: each rule passing and failing, TPROD, entities, offices, terms."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from config import OfficeRegistry
from config.reference import Flow
from edi_formats.codes import GoodsState
from edi_formats.models import DUA, OE, ControlDocument, Modality
from tests.validators.helpers import change, findings_of, rule_ids, sample_dua, sample_oe
from validators.engine import RuleContext
from validators.findings import Severity

AS_OF = date(2025, 3, 3)


def first(decl: DUA | OE, **changes: Any) -> DUA | OE:
    series = list(decl.series)
    series[0] = change(series[0], **changes)
    return change(decl, series=tuple(series))


def doc(
    entity: str, code: str = "01", issued: int = -10, expires: int | None = 200
) -> ControlDocument:
    return ControlDocument(
        entity_code=entity,
        document_code=code,
        number="DOC-2025-0001",
        issued_on=AS_OF + timedelta(days=issued),
        expires_on=None if expires is None else AS_OF + timedelta(days=expires),
    )


# -- PROHIBITED -----------------------------------------------------------------------------------


def test_prohibited_import_is_rejected_and_tprod_97_or_99_clears_it(ctx: RuleContext) -> None:
    used_clothes = first(sample_dua(), subpartida="6309000000")
    (finding,) = findings_of(used_clothes, ctx, "PROHIBITED")
    assert finding.field == "series[0].subpartida"
    assert "importación prohibida" in finding.message and "TPROD" in finding.message
    assert findings_of(first(used_clothes, tprod="97"), ctx, "PROHIBITED") == []
    assert findings_of(first(used_clothes, tprod="99"), ctx, "PROHIBITED") == []
    assert findings_of(first(used_clothes, tprod="98"), ctx, "PROHIBITED")


def test_prohibitions_follow_the_flow(ctx: RuleContext) -> None:
    assert findings_of(first(sample_oe(), subpartida="6309000000"), ctx, "PROHIBITED") == []
    (finding,) = findings_of(first(sample_oe(), subpartida="4403490000"), ctx, "PROHIBITED")
    assert (
        "exportación prohibida" in finding.message and "exportación definitiva" in finding.message
    )


def test_a_used_goods_prohibition_spares_new_goods(ctx: RuleContext) -> None:
    xray = first(sample_dua(), subpartida="9022140000", state=GoodsState.NEW)
    assert findings_of(xray, ctx, "PROHIBITED") == []
    used = first(xray, state=GoodsState.USED)
    assert findings_of(used, ctx, "PROHIBITED")


# -- RESTR-DOC ------------------------------------------------------------------------------------


def test_restricted_goods_need_a_control_document(ctx: RuleContext) -> None:
    medicine = first(sample_dua(), subpartida="3004902900")
    (finding,) = findings_of(medicine, ctx, "RESTR-DOC")
    assert finding.field == "series[0].control_documents"
    assert "casilla 7.37" in finding.message and "03 (DIGEMID)" in finding.message
    assert "XX XX número dd/mm/aaaa dd/mm/aaaa" in finding.message
    assert (
        findings_of(first(medicine, control_documents=(doc("03", "08"),)), ctx, "RESTR-DOC") == []
    )
    assert findings_of(first(medicine, tprod="98"), ctx, "RESTR-DOC") == []


def test_the_oe_names_box_4_13(ctx: RuleContext) -> None:
    (finding,) = findings_of(first(sample_oe(), subpartida="3101000000"), ctx, "RESTR-DOC")
    assert "casilla 4.13" in finding.message and "14 (PROABONOS)" in finding.message


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (doc("98"), "entity_code", "Anexo A"),
        (doc("03", "55"), "document_code", "Anexo B"),
        (doc("03", expires=None), "expires_on", "falta la fecha de vencimiento"),
        (doc("03", issued=-400, expires=-1), "expires_on", "venció el 02/03/2025"),
        (doc("03", issued=3), "issued_on", "posterior a la transmisión"),
    ],
)
def test_a_control_document_must_be_well_formed_and_in_force(
    ctx: RuleContext, document: ControlDocument, field: str, words: str
) -> None:
    decl = first(sample_dua(), subpartida="3004902900", control_documents=(document,))
    (finding,) = findings_of(decl, ctx, "RESTR-DOC")
    assert finding.field == f"series[0].control_documents[0].{field}"
    assert words in finding.message


def test_expiry_is_judged_on_the_transmission_date(offices: OfficeRegistry) -> None:
    decl = first(sample_dua(), subpartida="3004902900", control_documents=(doc("03", expires=0),))
    assert findings_of(decl, RuleContext(as_of=AS_OF, offices=offices), "RESTR-DOC") == []
    later = RuleContext(as_of=AS_OF + timedelta(days=1), offices=offices)
    assert findings_of(decl, later, "RESTR-DOC")


# -- RESTR-ENTITY ---------------------------------------------------------------------------------


def test_the_entity_must_be_competent_for_the_goods(ctx: RuleContext) -> None:
    medicine = first(sample_dua(), subpartida="3004902900", control_documents=(doc("05", "09"),))
    (finding,) = findings_of(medicine, ctx, "RESTR-ENTITY")
    assert "05 (SENASA)" in finding.message and "corresponde a 03 (DIGEMID)" in finding.message
    assert "serie propia" in finding.message
    good = first(medicine, control_documents=(doc("03", "08"),))
    assert findings_of(good, ctx, "RESTR-ENTITY") == []


def test_goods_of_two_annexes_accept_either_entity(ctx: RuleContext) -> None:
    pesticide = first(sample_dua(), subpartida="3808911000")
    for entity in ("04", "05"):
        decl = first(pesticide, control_documents=(doc(entity, "02"),))
        assert findings_of(decl, ctx, "RESTR-ENTITY") == []
    assert findings_of(first(pesticide, control_documents=(doc("08"),)), ctx, "RESTR-ENTITY")


# -- RESTR-TPROD ----------------------------------------------------------------------------------


def test_tprod_codes(ctx: RuleContext) -> None:
    (wrong,) = findings_of(first(sample_dua(), tprod="12"), ctx, "RESTR-TPROD")
    assert wrong.severity is Severity.ERROR and "no existe" in wrong.message
    (stray,) = findings_of(first(sample_dua(), tprod="98"), ctx, "RESTR-TPROD")
    assert stray.severity is Severity.WARNING and "no corresponde" in stray.message
    assert (
        findings_of(first(sample_dua(), subpartida="3004902900", tprod="98"), ctx, "RESTR-TPROD")
        == []
    )
    assert (
        findings_of(first(sample_dua(), subpartida="6309000000", tprod="97"), ctx, "RESTR-TPROD")
        == []
    )
    assert (
        findings_of(first(sample_dua(), subpartida="3604100000", tprod="99"), ctx, "RESTR-TPROD")
        == []
    )


# -- RESTR-OFFICE ---------------------------------------------------------------------------------


def _arms(office: str, observations: str | None = None) -> DUA | OE:
    decl = first(
        sample_dua(),
        subpartida="9302000000",
        control_documents=(doc("02", "02"),),
        observations=observations,
    )
    return change(decl, office=office)


def test_arms_only_through_callao_or_the_office_the_resolution_names(ctx: RuleContext) -> None:
    assert findings_of(_arms("118"), ctx, "RESTR-OFFICE") == []
    assert findings_of(_arms("235"), ctx, "RESTR-OFFICE") == []
    (finding,) = findings_of(_arms("163"), ctx, "RESTR-OFFICE")
    assert finding.field == "office" and "118 (Marítima del Callao)" in finding.message
    assert "ADUANA AUTORIZADA: 163" in finding.message
    assert findings_of(_arms("163", "RD 0457: ADUANA AUTORIZADA: 163"), ctx, "RESTR-OFFICE") == []
    assert findings_of(_arms("163", "ADUANA AUTORIZADA: 172"), ctx, "RESTR-OFFICE")


def test_chemical_inputs_and_narcotics_have_their_offices(ctx: RuleContext) -> None:
    acetone = first(
        sample_dua(), subpartida="2914110000", control_documents=(doc("17", expires=20),)
    )
    assert findings_of(change(acetone, office="163"), ctx, "RESTR-OFFICE") == []  # Ilo
    assert findings_of(change(acetone, office="154"), ctx, "RESTR-OFFICE")  # Arequipa
    coca = first(sample_oe(), subpartida="1211300000", control_documents=(doc("03", "03"),))
    assert findings_of(change(coca, office="145"), ctx, "RESTR-OFFICE") == []  # Matarani
    coca_in = first(sample_dua(), subpartida="1211300000", control_documents=(doc("03", "03"),))
    (finding,) = findings_of(change(coca_in, office="145"), ctx, "RESTR-OFFICE")
    assert "ingresar al país" in finding.message


# -- RESTR-VALIDITY -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "subpartida", "issued", "last_valid"),
    [
        ("17", "2914110000", -30, -30 + 30),  # DIQPF: 30 days from the day after issue
        ("02", "9302000000", -364, 1),  # DICSCAMEC: one year, date to date (2024 was leap)
        ("03", "1211300000", -179, 0),  # DIGEMID narcotics certificate: 180 days from issue
        ("05", "0201100000", -89, 0),  # SENASA zoosanitary permit: 90 days from issue
    ],
)
def test_entity_terms(
    offices: OfficeRegistry, entity: str, subpartida: str, issued: int, last_valid: int
) -> None:
    document = doc(entity, issued=issued, expires=None)
    decl = first(
        sample_dua(),
        subpartida=subpartida,
        control_documents=(document.model_copy(update={"expires_on": None}),),
    )
    on_last = RuleContext(as_of=AS_OF + timedelta(days=last_valid), offices=offices)
    assert findings_of(decl, on_last, "RESTR-VALIDITY") == []
    after = RuleContext(as_of=AS_OF + timedelta(days=last_valid + 1), offices=offices)
    (finding,) = findings_of(decl, after, "RESTR-VALIDITY")
    assert "venció el" in finding.message and "INTA-PE.00.06 VII.A" in finding.message


@pytest.mark.parametrize(
    ("entity", "subpartida"), [("17", "2914110000"), ("02", "9302000000"), ("05", "0201100000")]
)
def test_a_document_issued_at_the_calendars_end_is_answered_not_an_internal_error(
    ctx: RuleContext, entity: str, subpartida: str
) -> None:
    # Its term (30 days, a year, 90 days) went past Python's calendar: the rule raised.
    document = ControlDocument(
        entity_code=entity, document_code="01", number="DOC-1", issued_on=date(9999, 12, 31)
    )
    decl = first(sample_dua(), subpartida=subpartida, control_documents=(document,))
    findings = findings_of(decl, ctx, "RESTR-VALIDITY")
    assert all("Error interno" not in finding.message for finding in findings), findings


def test_a_declared_expiry_beyond_the_term_is_refused(ctx: RuleContext) -> None:
    long = doc("17", issued=-5, expires=60)
    decl = first(sample_dua(), subpartida="2914110000", control_documents=(long,))
    (finding,) = findings_of(decl, ctx, "RESTR-VALIDITY")
    assert finding.field.endswith("expires_on") and "a más tardar el 28/03/2025" in finding.message


def test_an_oto_permit_lasts_its_calendar_year(offices: OfficeRegistry) -> None:
    permit = ControlDocument(
        entity_code="18", document_code="09", number="OTO-1", issued_on=date(2024, 11, 2)
    )
    decl = first(sample_dua(), subpartida="8415101000", control_documents=(permit,))
    assert (
        findings_of(decl, RuleContext(as_of=date(2024, 12, 31), offices=offices), "RESTR-VALIDITY")
        == []
    )
    assert findings_of(decl, RuleContext(as_of=date(2025, 1, 2), offices=offices), "RESTR-VALIDITY")


def test_terms_of_other_entities_are_their_own_expiry(ctx: RuleContext) -> None:
    long = doc("03", "08", issued=-2000, expires=2000)  # a sanitary registry, years long
    decl = first(sample_dua(), subpartida="3004902900", control_documents=(long,))
    assert rule_ids(decl, ctx) == set()


def test_the_restricted_rules_start_with_inta_pe_00_06(offices: OfficeRegistry) -> None:
    decl = first(sample_dua(as_of=date(2004, 7, 10)), subpartida="3004902900")
    before = RuleContext(as_of=date(2004, 7, 22), offices=offices)
    on = RuleContext(as_of=date(2004, 7, 23), offices=offices)
    assert "RESTR-DOC" not in rule_ids(decl, before)
    assert "RESTR-DOC" in rule_ids(decl, on)


@pytest.mark.parametrize(
    ("subpartida", "norm", "first_day"),
    [
        ("6309000000", "DL 25789", date(1992, 10, 21)),
        ("4012200000", "DS 003-97-SA", date(1997, 6, 7)),
    ],
)
def test_prohibitions_take_effect_on_their_norms_date(
    offices: OfficeRegistry, subpartida: str, norm: str, first_day: date
) -> None:
    """Seed 003 V.B: "Vestidos y calzados usados, aprobado por Decreto Ley Nº 25789 publicado
    el 21.10.1992" and "Neumáticos usados, Decreto Supremo Nº 003-97-SA, publicada el
    07.06.1997": each prohibition applies from its norm's date, before INTA-PE.00.06 (2004)
    existed, and a 1997 rejection cites the norm, not the later procedure."""
    decl = first(sample_dua(as_of=date(1997, 3, 3)), subpartida=subpartida)
    (finding,) = findings_of(
        decl, RuleContext(as_of=date(1997, 8, 4), offices=offices), "PROHIBITED"
    )
    assert norm in finding.message and "INTA-" not in finding.message + finding.citation
    assert "Norma que prohíbe la mercancía" in finding.citation
    on = RuleContext(as_of=first_day, offices=offices)
    assert findings_of(decl, on, "PROHIBITED")
    before = RuleContext(as_of=first_day - timedelta(days=1), offices=offices)
    assert findings_of(decl, before, "PROHIBITED") == []


def test_a_document_the_seed_lets_come_later_is_a_warning_with_its_deadline(
    ctx: RuleContext,
) -> None:
    """Seed 004 VI.5: the documents are needed before numbering "salvo en aquellos casos que
    la referida documentación se obtenga luego de numerada la declaración"; seed 003 VII.A
    6.1.1 d: the SENASA number may be "El número del informe de inspección y verificación,
    para la regularización de los despachos urgentes y anticipados". Apples in an anticipado
    without their document are numbered with a warning that gives the deadline; in an
    excepcional, or medicines in an anticipado, the document is still required."""
    apples = first(sample_dua(), subpartida="0808100000", description="MANZANAS FRESCAS")
    (finding,) = findings_of(apples, ctx, "RESTR-DOC")
    assert finding.severity is Severity.WARNING
    assert "regularización" in finding.message and "15 días" in finding.message
    assert isinstance(apples, DUA)
    discharged = change(apples, transport=change(apples.transport, discharge_end_date=AS_OF))
    (finding,) = findings_of(discharged, ctx, "RESTR-DOC")
    assert f"hasta el {(AS_OF + timedelta(days=15)):%d/%m/%Y}" in finding.message
    excepcional = change(discharged, modality=Modality(code="0-0"))
    (finding,) = findings_of(excepcional, ctx, "RESTR-DOC")
    assert finding.severity is Severity.ERROR
    medicines = first(sample_dua(), subpartida="3004902900")
    (finding,) = findings_of(medicines, ctx, "RESTR-DOC")
    assert finding.severity is Severity.ERROR


def test_each_restricted_row_has_its_norm_and_date(ctx: RuleContext) -> None:
    """Seed 003 V.A: "Productos farmacéuticos ... Ley General de Salud, aprobada por Ley
    Nº 26842, publicada el 20.07.1997"; "Importación de bienes, maquinaria y equipos usados
    que utilicen fuentes radiactivas, Ley Nº 27757 publicada el 19.06.2002". The rejection
    names the norm; the table applies each row from its norm's date."""
    medicines = first(sample_dua(), subpartida="3004902900")
    (finding,) = findings_of(medicines, ctx, "RESTR-DOC")
    assert "Ley 26842 (20.07.1997)" in finding.message
    reference = ctx.reference
    assert reference.restricted_for("9022140000", Flow.IMPORT, date(2002, 6, 19))
    assert not reference.restricted_for("9022140000", Flow.IMPORT, date(2002, 6, 18))
    assert all(row.legal_basis and row.effective_from for row in reference.restricted)
    assert all(row.legal_basis and row.effective_from for row in reference.prohibited)
