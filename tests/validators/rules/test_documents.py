"""DOCS-REGIME and ANT-MANDATORY (DS 367-2019-EF arts. 60 and 62A)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from config import OfficeRegistry
from edi_formats.models import DUA, ControlDocument, Modality
from tests.validators.helpers import change, findings_of, rule_ids, sample_dua, sample_oe
from validators.engine import RuleContext
from validators.samples import break_rule

AS_OF = date(2025, 3, 3)


def test_invoice_or_sworn_statement(ctx: RuleContext) -> None:
    (finding,) = findings_of(change(sample_dua(), invoices=()), ctx, "DOCS-REGIME")
    assert finding.field == "invoices" and "art. 60" in finding.message
    assert (
        findings_of(change(sample_dua(), invoices=(), sworn_statement=True), ctx, "DOCS-REGIME")
        == []
    )
    (finding,) = findings_of(change(sample_oe(), invoices=()), ctx, "DOCS-REGIME")
    assert "factura o boleta de venta" in finding.message


def test_insurance_document_when_insurance_is_declared(ctx: RuleContext) -> None:
    (finding,) = findings_of(change(sample_dua(), insurance=None), ctx, "DOCS-REGIME")
    assert finding.field == "insurance"
    uninsured = sample_dua()
    series = tuple(change(s, insurance=0, cif=s.fob + s.freight) for s in uninsured.series)
    totals = change(
        uninsured.totals,
        insurance=0,
        cif=sum((s.cif for s in series), start=uninsured.totals.fob * 0),
    )
    without = change(uninsured, series=series, totals=totals, insurance=None)
    assert findings_of(without, ctx, "DOCS-REGIME") == []


def test_transport_document_except_in_the_anticipado(ctx: RuleContext) -> None:
    dua = sample_dua()
    no_documents = change(dua, transport=change(dua.transport, documents=()))
    assert findings_of(no_documents, ctx, "DOCS-REGIME") == []  # MOD-ANT-MANIFEST warns instead
    excepcional = change(no_documents, modality=Modality(code="0-0"))
    (finding,) = findings_of(excepcional, ctx, "DOCS-REGIME")
    assert finding.field == "transport.documents"
    oe = sample_oe()
    assert findings_of(change(oe, transport=change(oe.transport, documents=())), ctx, "DOCS-REGIME")


def test_docs_regime_starts_with_ds_367(offices: OfficeRegistry) -> None:
    decl = change(sample_dua(as_of=date(2019, 12, 20)), invoices=())
    assert "DOCS-REGIME" not in rule_ids(
        decl, RuleContext(as_of=date(2019, 12, 30), offices=offices)
    )
    assert "DOCS-REGIME" in rule_ids(decl, RuleContext(as_of=date(2019, 12, 31), offices=offices))


def _excepcional(**changes: Any) -> DUA:
    broken = break_rule(sample_dua(), "ANT-MANDATORY")
    assert isinstance(broken, DUA)
    return change(broken, **changes)


def test_import_for_consumption_is_anticipado_unless_excepted(ctx: RuleContext) -> None:
    (finding,) = findings_of(_excepcional(), ctx, "ANT-MANDATORY")
    assert finding.field == "modality.code" and "art. 62A" in finding.message
    assert "1-0" in finding.message


def test_exceptions_the_declaration_shows(ctx: RuleContext) -> None:
    assert findings_of(sample_dua(), ctx, "ANT-MANDATORY") == []
    cheap = change(sample_dua(), modality=Modality(code="0-0"))
    cheap = change(cheap, transport=change(cheap.transport, discharge_end_date=AS_OF))
    assert findings_of(cheap, ctx, "ANT-MANDATORY") == []  # a) FOB up to US$ 2,000
    urgent = change(_excepcional(), modality=Modality(code="0-1", category="b"))
    assert findings_of(urgent, ctx, "ANT-MANDATORY") == []  # b) urgente
    permit = ControlDocument(
        entity_code="03", document_code="08", number="RS-1", issued_on=AS_OF - timedelta(days=9)
    )
    series = list(_excepcional().series)
    series[0] = change(series[0], subpartida="3004902900", control_documents=(permit,))
    assert findings_of(_excepcional(series=tuple(series)), ctx, "ANT-MANDATORY") == []  # f)


@pytest.mark.parametrize("inciso", ["c", "d", "e", "g", "h"])
def test_exceptions_the_broker_declares(ctx: RuleContext, inciso: str) -> None:
    assert findings_of(_excepcional(anticipado_exception=inciso), ctx, "ANT-MANDATORY") == []


@pytest.mark.parametrize(("inciso", "words"), [("z", "no existe"), ("a", "no lo cumple")])
def test_a_declared_exception_must_exist_and_be_true(
    ctx: RuleContext, inciso: str, words: str
) -> None:
    (finding,) = findings_of(_excepcional(anticipado_exception=inciso), ctx, "ANT-MANDATORY")
    assert finding.field == "anticipado_exception" and words in finding.message


def test_ant_mandatory_starts_with_ds_367(offices: OfficeRegistry) -> None:
    decl = _excepcional()
    assert (
        findings_of(decl, RuleContext(as_of=date(2019, 12, 30), offices=offices), "ANT-MANDATORY")
        == []
    )


def test_a_made_up_control_document_is_no_inciso_f(ctx: RuleContext) -> None:
    """Seed 001 art. 62A f): the anticipado is not mandatory for "mercancía restringida".
    Goods become restricted by the restricted-goods tables, not because a series cites a
    control document: a DUA of plain goods quoting an invented permit stays under the
    obligation; medicines (3004, restricted) with their permit are excepted."""
    permit = ControlDocument(
        entity_code="03", document_code="08", number="RS-1", issued_on=AS_OF - timedelta(days=9)
    )
    plain = list(_excepcional().series)
    plain[0] = change(plain[0], control_documents=(permit,))
    (finding,) = findings_of(_excepcional(series=tuple(plain)), ctx, "ANT-MANDATORY")
    assert finding.field == "modality.code"
    claimed = _excepcional(series=tuple(plain), anticipado_exception="f")
    (finding,) = findings_of(claimed, ctx, "ANT-MANDATORY")
    assert "no lo cumple" in finding.message
    medicines = list(_excepcional().series)
    medicines[0] = change(medicines[0], subpartida="3004902900", control_documents=(permit,))
    assert findings_of(_excepcional(series=tuple(medicines)), ctx, "ANT-MANDATORY") == []
