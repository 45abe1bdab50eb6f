from __future__ import annotations

import pytest

from edi_formats.codes import TransportMode
from edi_formats.models import Modality
from tests.validators.helpers import change, findings_of, rule_ids, sample_dua
from validators.engine import RuleContext
from validators.findings import Severity
from validators.samples import break_rule


@pytest.mark.parametrize(
    ("modality", "field"),
    [
        (Modality(code="1-0"), "modality.arrival_point"),
        (Modality(code="1-0", arrival_point="05"), "modality.arrival_point"),
        (Modality(code="1-0", arrival_point="03"), "modality.arrival_option"),
        (Modality(code="1-0", arrival_point="04", arrival_option="A"), "modality.arrival_option"),
        (
            Modality(code="1-0", arrival_point="03", arrival_option="A", category="a"),
            "modality.category",
        ),
        (Modality(code="0-1"), "modality.category"),
        (Modality(code="0-2", category="k"), "modality.category"),
        (Modality(code="0-0", category="a"), "modality.category"),
        (Modality(code="0-0", arrival_point="03"), "modality.arrival_point"),
    ],
)
def test_modality_codes_that_do_not_fit(ctx: RuleContext, modality: Modality, field: str) -> None:
    (finding,) = findings_of(change(sample_dua(), modality=modality), ctx, "MOD-CODE")
    assert finding.field == field and "Destinación" in finding.message


@pytest.mark.parametrize(
    "modality",
    [
        Modality(code="1-0", arrival_point="03", arrival_option="B"),
        Modality(code="1-0", arrival_point="04"),
        Modality(code="0-1", category="n"),
        Modality(code="0-2", category="i"),
        Modality(code="0-0"),
    ],
)
def test_modality_codes_that_fit(ctx: RuleContext, modality: Modality) -> None:
    assert findings_of(change(sample_dua(), modality=modality), ctx, "MOD-CODE") == []


def test_warehouse_code_in_03a_by_sea(ctx: RuleContext) -> None:
    dua = sample_dua()
    with_warehouse = change(dua, transport=change(dua.transport, warehouse_code="3014"))
    (finding,) = findings_of(with_warehouse, ctx, "MOD-TDOC")
    assert finding.field == "transport.warehouse_code" and "CODI_ALMA" in finding.message
    option_b = change(
        with_warehouse, modality=Modality(code="1-0", arrival_point="03", arrival_option="B")
    )
    assert findings_of(option_b, ctx, "MOD-TDOC") == []
    by_air = change(
        with_warehouse, transport=change(with_warehouse.transport, mode=TransportMode.AIR)
    )
    assert findings_of(by_air, ctx, "MOD-TDOC") == []


def test_transport_document_type_only_required_in_anticipado(ctx: RuleContext) -> None:
    dua = sample_dua()
    untyped = change(dua.transport.documents[0], doc_type=None)
    declaration = change(dua, transport=change(dua.transport, documents=(untyped,)))
    assert findings_of(declaration, ctx, "MOD-TDOC")
    excepcional = change(declaration, modality=Modality(code="0-0"))
    assert findings_of(excepcional, ctx, "MOD-TDOC") == []


@pytest.mark.parametrize(
    "text",
    [
        "E.A.:0000 AV. NESTOR GAMBETTA 5502, CALLAO UBIGEO 070101",
        "E.A.:0012 JR. LOS PINOS 120 URB. SANTA ROSA, ATE 150103",
        "e.a.: 0003 Calle Las Begonias 441, San Isidro ubigeo: 150131",
    ],
)
def test_place_in_7_38_accepted(ctx: RuleContext, text: str) -> None:
    declaration = change(
        sample_dua(),
        modality=Modality(code="1-0", arrival_point="04"),
        observations_7_38=f"AUTORIZACION ZP: 118-ZP-0042 {text}",
    )
    assert rule_ids(declaration, ctx) == set()


@pytest.mark.parametrize(
    "text",
    [
        "AV. NESTOR GAMBETTA 5502, CALLAO 070101",  # no E.A. code
        "E.A.:12 AV. NESTOR GAMBETTA 5502 070101",  # code not 4 digits
        "E.A.:0000 070101",  # no address
        "E.A.:0000 AV. NESTOR GAMBETTA 5502, CALLAO",  # no ubigeo
    ],
)
def test_place_in_7_38_rejected(ctx: RuleContext, text: str) -> None:
    declaration = change(
        sample_dua(), modality=Modality(code="1-0", arrival_point="04"), observations_7_38=text
    )
    (finding,) = findings_of(declaration, ctx, "MOD-04-PLACE")
    assert finding.field == "observations_7_38" and "7.38" in finding.message


def test_missing_manifest_data_are_warnings(ctx: RuleContext) -> None:
    dua = sample_dua()
    consolidated = change(dua.transport.documents[0], doc_type="2", master_number=None)
    transport = change(dua.transport, manifest=None, documents=(consolidated,), containers=())
    findings = findings_of(change(dua, transport=transport), ctx, "MOD-ANT-MANIFEST")
    assert {f.field for f in findings} == {
        "transport.manifest",
        "transport.documents[0].master_number",
    }
    assert all(f.severity is Severity.WARNING for f in findings)
    no_documents = change(dua, transport=change(dua.transport, documents=()))
    (finding,) = findings_of(no_documents, ctx, "MOD-ANT-MANIFEST")
    assert finding.field == "transport.documents"


def test_break_bulk_cargo_without_containers_gets_no_container_warning(ctx: RuleContext) -> None:
    """Seed 004 VII.A.3: the anticipado carries "el número de documento de transporte máster y
    el número del contenedor o contenedores de corresponder": a maritime DUA of break-bulk
    cargo, with no containers, is not warned; one missing its manifest still is."""
    dua = sample_dua()
    assert dua.transport.mode.value and dua.modality.code == "1-0"
    bulk = change(dua, transport=change(dua.transport, mode="1", containers=()))
    assert findings_of(bulk, ctx, "MOD-ANT-MANIFEST") == []
    no_manifest = change(bulk, transport=change(bulk.transport, manifest=None))
    (finding,) = findings_of(no_manifest, ctx, "MOD-ANT-MANIFEST")
    assert finding.field == "transport.manifest"


def test_anticipado_04_needs_its_approved_special_authorization(ctx: RuleContext) -> None:
    """Seed 004 VI.14: "La solicitud de 'Autorización Especial de Zona Primaria' (Anexo 2)
    ... debe haber sido aprobada (procedente) por el intendente ... antes de la numeración de
    la declaración." The broker states its number in box 7.38."""
    place = "E.A.:0000 AV. NESTOR GAMBETTA 5502, CALLAO UBIGEO 070101"
    dua = change(sample_dua(), modality=Modality(code="1-0", arrival_point="04"))
    (finding,) = findings_of(change(dua, observations_7_38=place), ctx, "MOD-04-AUTH")
    assert "Autorización Especial de Zona Primaria" in finding.message
    authorized = change(dua, observations_7_38=f"{place} AUTORIZACION ZP: 118-ZP-0042")
    assert rule_ids(authorized, ctx) == set()
    assert findings_of(change(sample_dua(), observations_7_38=None), ctx, "MOD-04-AUTH") == []


@pytest.mark.parametrize(("code", "inciso"), [("0-1", "n"), ("0-2", "i")])
def test_incisos_n_and_i_need_the_qualification_of_anexo_6(
    ctx: RuleContext, code: str, inciso: str
) -> None:
    """Seed 004 VII.A.2: "En el Anexo 6 se encuentra el modelo de solicitud para atender los
    casos que requieran la calificación del jefe del área que administra el régimen para su
    autorización o rechazo, según lo señalado en los incisos n) (envíos de urgencia) e i)
    (envíos de socorro)"."""
    dua = break_rule(sample_dua(), "MOD-QUALIFY")
    urgent = change(dua, modality=Modality(code=code, category=inciso))
    (finding,) = findings_of(urgent, ctx, "MOD-QUALIFY")
    assert "Anexo 6" in finding.message and f"inciso {inciso})" in finding.message
    qualified = change(urgent, observations_7_38="CALIFICACION: 118-2025-ANX6-0007")
    assert findings_of(qualified, ctx, "MOD-QUALIFY") == []
    listed = change(urgent, modality=Modality(code=code, category="b"))
    assert findings_of(listed, ctx, "MOD-QUALIFY") == []
