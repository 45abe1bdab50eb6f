"""TASA and FOB-10: notes for the acceptance, from their dates, with the year's UIT."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from config import OfficeRegistry
from config.reference import ReferenceFiles, load_reference
from edi_formats.models import DUA
from tests.validators.helpers import findings_of, sample_dua, sample_oe
from validators.engine import RuleContext
from validators.findings import Severity, has_errors
from validators.rules.charges import tasa_threshold
from validators.samples import break_rule


def _worth(cif: Decimal) -> DUA:
    """The sample DUA with a single series worth ``cif`` (FOB the same, no freight)."""
    dua = sample_dua()
    item = dua.series[0].model_copy(
        update={"number": 1, "fob": cif, "freight": Decimal(0), "insurance": Decimal(0), "cif": cif}
    )
    totals = dua.totals.model_copy(
        update={
            "fob": cif,
            "freight": Decimal(0),
            "insurance": Decimal(0),
            "cif": cif,
            "gross_weight": item.gross_weight,
            "net_weight": item.net_weight,
            "packages": item.packages,
        }
    )
    return DUA.model_validate(
        dua.model_copy(update={"series": (item,), "totals": totals}).model_dump()
    )


def test_the_fee_applies_over_three_uit(ctx: RuleContext) -> None:
    threshold = tasa_threshold(ctx)
    assert threshold is not None
    limit, how = threshold
    assert limit == (Decimal(3 * 5350) / Decimal("3.600")).quantize(Decimal("0.01"))
    assert "3 UIT de 2025 = S/ 16,050.00" in how
    assert findings_of(_worth(limit), ctx, "TASA") == []
    (note,) = findings_of(_worth(limit + Decimal("0.01")), ctx, "TASA")
    assert note.severity is Severity.INFO and note.field == "totals.cif"
    assert "la tasa de despacho aduanero es aplicable" in note.message
    assert not has_errors([note])


def test_a_year_without_its_uit_uses_the_last_one_and_says_so(offices: OfficeRegistry) -> None:
    ctx = RuleContext(as_of=date(2031, 5, 5), offices=offices)
    threshold = tasa_threshold(ctx)
    assert threshold is not None and "(última publicada)" in threshold[1]


def test_the_uit_table_is_data(tmp_path: Path, offices: OfficeRegistry) -> None:
    uit = tmp_path / "uit.csv"
    uit.write_text("year,uit_pen\n2025,100\n", "utf-8")
    ctx = RuleContext(
        as_of=date(2025, 3, 3), offices=offices, reference=load_reference(ReferenceFiles(uit=uit))
    )
    assert findings_of(sample_dua(), ctx, "TASA")  # 3 UIT of S/ 100 is under US$ 100


def test_no_fee_note_for_exports_or_before_inta_pg01a(offices: OfficeRegistry) -> None:
    ctx = RuleContext(as_of=date(2025, 3, 3), offices=offices)
    big = break_rule(sample_dua(), "TASA")
    assert findings_of(big, ctx, "TASA")
    assert findings_of(sample_oe(), ctx, "TASA") == []
    old = RuleContext(as_of=date(2010, 8, 30), offices=offices)
    assert findings_of(big.model_copy(update={"office": "154"}), old, "TASA") == []


def test_fob_up_to_ten_dollars_extinguishes_the_obligation(offices: OfficeRegistry) -> None:
    ctx = RuleContext(as_of=date(2025, 3, 3), offices=offices)
    (note,) = findings_of(_worth(Decimal("10.00")), ctx, "FOB-10")
    assert note.severity is Severity.INFO and "art. 210A" in note.message
    assert findings_of(_worth(Decimal("10.01")), ctx, "FOB-10") == []
    before = RuleContext(as_of=date(2020, 12, 30), offices=offices)
    assert findings_of(_worth(Decimal("10.00")), before, "FOB-10") == []


def test_the_fee_compares_exactly_not_with_a_threshold_rounded_to_cents(
    tmp_path: Path, offices: OfficeRegistry
) -> None:
    """Seed 004 VI.22: "La tasa de despacho aduanero es aplicable a la tramitación de aquellas
    mercancías cuyo valor en aduanas declarado sea superior a tres (03) Unidades Impositivas
    Tributarias". Three UIT of S/ 300.018 at S/ 3 per dollar are US$ 300.018: a value of
    US$ 300.02 exceeds them, though the threshold rounded to cents (300.02) would not."""
    uit = tmp_path / "uit.csv"
    uit.write_text("year,uit_pen\n2025,300.018\n", "utf-8")
    rates = tmp_path / "rates.csv"
    rates.write_text("year,pen_per_usd\n2025,3\n", "utf-8")
    reference = load_reference(ReferenceFiles(uit=uit, exchange_rates=rates))
    ctx = RuleContext(as_of=date(2025, 3, 3), offices=offices, reference=reference)
    assert findings_of(_worth(Decimal("300.02")), ctx, "TASA")
    assert findings_of(_worth(Decimal("300.01")), ctx, "TASA") == []
