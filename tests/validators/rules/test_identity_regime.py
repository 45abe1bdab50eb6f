from __future__ import annotations

from edi_formats.codes import PartyDocType
from tests.validators.helpers import change, findings_of, sample_dua, sample_oe
from validators.engine import RuleContext
from validators.samples import break_rule


def test_ruc_prefix_is_checked(ctx: RuleContext) -> None:
    dua = sample_dua()
    wrong = change(dua, importer=change(dua.importer, doc_number="30100047218"))
    (finding,) = findings_of(wrong, ctx, "ID-RUC")
    assert finding.field == "importer.doc_number" and "30" in finding.message


def test_parties_without_ruc_are_not_judged_by_id_ruc(ctx: RuleContext) -> None:
    dua = sample_dua()
    dni = change(dua, importer=change(dua.importer, doc_type=PartyDocType.DNI, doc_number="4567"))
    assert findings_of(dni, ctx, "ID-RUC") == []


def test_exporter_ruc_is_checked(ctx: RuleContext) -> None:
    broken = break_rule(sample_oe(), "ID-RUC")
    (finding,) = findings_of(broken, ctx, "ID-RUC")
    assert finding.field == "exporter.doc_number" and "Exportador" in finding.message


def test_regime_other_than_10_is_rejected_with_reason(ctx: RuleContext) -> None:
    (finding,) = findings_of(change(sample_dua(), regime="70"), ctx, "REG-CODE")
    assert "no se tramita" in finding.message and "régimen 10" in finding.message
    (finding,) = findings_of(change(sample_oe(), regime="10"), ctx, "REG-CODE")
    assert "régimen 40" in finding.message
