from __future__ import annotations

from decimal import Decimal

from tests.validators.helpers import change, findings_of, sample_dua, sample_oe
from validators.engine import RuleContext


def test_declaration_without_series(ctx: RuleContext) -> None:
    oe = sample_oe()
    empty = change(
        oe, series=(), totals=change(oe.totals, fob=0, gross_weight=0, net_weight=0, packages=0)
    )
    (finding,) = findings_of(empty, ctx, "STR-SERIES")
    assert "ninguna serie" in finding.message
    assert findings_of(empty, ctx, "STR-TOTALS") == []


def test_repeated_series_number(ctx: RuleContext) -> None:
    dua = sample_dua(series_count=3)
    series = (dua.series[0], dua.series[0], dua.series[2])
    (finding,) = findings_of(change(dua, series=series), ctx, "STR-SERIES")
    assert finding.field == "series[1].number" and "lleva el número 1" in finding.message


def test_series_required_boxes(ctx: RuleContext) -> None:
    dua = sample_dua()
    bare = change(dua.series[0], description=None, origin_country=None, quantity=None, unit=None)
    fields = {
        f.field for f in findings_of(change(dua, series=(bare, dua.series[1])), ctx, "STR-REQUIRED")
    }
    assert fields == {
        "series[0].description",
        "series[0].origin_country",
        "series[0].quantity",
        "series[0].unit",
    }


def test_oe_consignee_and_destination_required(ctx: RuleContext) -> None:
    oe = sample_oe()
    missing = change(oe, consignee=change(oe.consignee, name=None), destination_country=None)
    fields = {f.field for f in findings_of(missing, ctx, "STR-REQUIRED")}
    assert fields == {"consignee.name", "destination_country"}


def test_more_than_two_decimals(ctx: RuleContext) -> None:
    dua = sample_dua()
    first = dua.series[0]
    odd = change(first, freight=first.freight + Decimal("0.005"), cif=first.cif + Decimal("0.005"))
    totals = change(
        dua.totals,
        freight=dua.totals.freight + Decimal("0.005"),
        cif=dua.totals.cif + Decimal("0.005"),
    )
    declaration = change(dua, series=(odd, dua.series[1]), totals=totals)
    fields = {f.field for f in findings_of(declaration, ctx, "STR-AMOUNTS")}
    assert fields == {"series[0].freight", "series[0].cif", "totals.freight", "totals.cif"}
    assert findings_of(declaration, ctx, "STR-TOTALS") == []


def test_trailing_zeros_are_two_decimals(ctx: RuleContext) -> None:
    dua = sample_dua()
    padded = change(dua, totals=change(dua.totals, fob=Decimal(f"{dua.totals.fob:.4f}")))
    assert findings_of(padded, ctx, "STR-AMOUNTS") == []


def test_totals_weights_and_fob(ctx: RuleContext) -> None:
    dua = sample_dua()
    wrong = change(
        dua,
        totals=change(
            dua.totals, fob=dua.totals.fob + 1, cif=dua.totals.cif + 1, gross_weight=1000000
        ),
    )
    fields = {f.field for f in findings_of(wrong, ctx, "STR-TOTALS")}
    assert fields == {"totals.fob", "totals.cif", "totals.gross_weight"}


def test_total_net_over_gross(ctx: RuleContext) -> None:
    oe = sample_oe()
    wrong = change(oe, totals=change(oe.totals, net_weight=oe.totals.gross_weight + 1))
    assert {f.field for f in findings_of(wrong, ctx, "STR-WEIGHT")} == {"totals.net_weight"}


def test_control_document_expiring_before_issue(ctx: RuleContext) -> None:
    oe = sample_oe()
    doc = {
        "entity_code": "05",
        "document_code": "01",
        "number": "PF-0001",
        "issued_on": "2025-02-01",
        "expires_on": "2025-01-31",
    }
    series = (change(oe.series[0], control_documents=(doc,)), oe.series[1])
    (finding,) = findings_of(change(oe, series=series), ctx, "STR-DATES")
    assert finding.field == "series[0].control_documents[0].expires_on"


def test_many_series_are_validated(ctx: RuleContext) -> None:
    dua = sample_dua(series_count=10_000)
    assert findings_of(dua, ctx, "STR-TOTALS") == []
    assert findings_of(dua, ctx, "STR-SERIES") == []
