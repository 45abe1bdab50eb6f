"""TASA and FOB-10: what an acceptance tells the broker about charges (notes, not faults).

- TASA (seed 004 VI.22): the dispatch fee applies to goods whose declared customs value
  exceeds three UIT of the numbering date. The DUA states values in US dollars and the UIT is
  in soles, so the value is converted with the reference rate of the year (both tables are
  data: ``config/data/uit.csv`` and ``exchange_rates.csv``). The customs value declared is the
  CIF total. The comparison is exact, in soles (CIF x rate > 3 UIT): the dollar threshold
  rounded to cents is only what the note shows.
- FOB-10 (seed 001, art. 210A): with a total FOB of US$10 or less the customs tax obligation
  is extinguished automatically.

Both report ``info`` findings: the declaration is numbered and the acceptance says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Final

from config.reference import ReferenceData, YearValue
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.findings import Severity
from validators.registry import Problem, rule
from validators.rules.sources import DS_367_210A, INTA_PG01A, cite_001, cite_004
from validators.rules.wording import amount, soles

__all__ = [
    "EXTINCTION_FOB_LIMIT",
    "RULES",
    "TASA_UIT_MULTIPLE",
    "fob_10",
    "tasa",
    "tasa_applies",
    "tasa_threshold",
]

TASA_UIT_MULTIPLE: Final = 3
EXTINCTION_FOB_LIMIT: Final = Decimal(10)
_CENT: Final = Decimal("0.01")


def tasa_threshold(ctx: RuleContext) -> tuple[Decimal, str] | None:
    """Three UIT of the transmission year in US dollars rounded to cents, and how it was
    computed (Spanish); None when the tables hold no UIT or no rate for that year or any
    earlier one. For showing only: ``tasa_applies`` compares exactly."""
    return _threshold(ctx.reference, ctx.as_of.year)


@lru_cache(maxsize=32)  # the same for every declaration of a year (tables are immutable)
def _threshold(reference: ReferenceData, year: int) -> tuple[Decimal, str] | None:
    uit = reference.uit(year)
    rate = reference.exchange_rate(year)
    if uit is None or rate is None:
        return None
    in_soles = uit.value * TASA_UIT_MULTIPLE
    in_dollars = (in_soles / rate.value).quantize(_CENT, ROUND_HALF_UP)
    uit_year = f"de {uit.year}" if uit.year == year else f"de {uit.year} (última publicada)"
    rate_year = f"{rate.year}" if rate.year == year else f"{rate.year}, el último registrado"
    how = (
        f"{TASA_UIT_MULTIPLE} UIT {uit_year} = {soles(in_soles)}, {amount(in_dollars)} al tipo "
        f"de cambio de referencia de {rate_year} (S/ {rate.value} por dólar)"
    )
    return in_dollars, how


def tasa_applies(value: Decimal, ctx: RuleContext) -> bool:
    """Whether a customs value (US$) exceeds three UIT of the year, compared exactly in soles:
    ``value x rate > 3 x UIT`` (no rounding of the threshold to cents)."""
    uit, rate = _year_values(ctx.reference, ctx.as_of.year)
    if uit is None or rate is None:
        return False
    return value * rate.value > uit.value * TASA_UIT_MULTIPLE


@lru_cache(maxsize=32)  # the same for every declaration of a year (tables are immutable)
def _year_values(reference: ReferenceData, year: int) -> tuple[YearValue | None, YearValue | None]:
    """The UIT and the exchange rate that apply in ``year``."""
    return reference.uit(year), reference.exchange_rate(year)


@rule(
    "TASA",
    title="Tasa de despacho aduanero si el valor en aduana supera 3 UIT",
    citation=cite_004("VI.22"),
    applies_to={"DUA"},
    severity=Severity.INFO,
    schedule=INTA_PG01A,
)
def tasa(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """The dispatch fee applies when the declared customs value (CIF total, US$) exceeds three
    UIT of the numbering year, converted at the year's reference exchange rate."""
    if not isinstance(declaration, DUA):
        return
    threshold = tasa_threshold(ctx)
    if threshold is None:
        return
    _, how = threshold
    value = declaration.totals.cif
    if tasa_applies(value, ctx):
        yield Problem(
            "totals.cif",
            f"Tasa de despacho aduanero: el valor en aduana declarado ({amount(value)}) supera "
            f"{how}; la tasa de despacho aduanero es aplicable a esta declaración.",
        )


@rule(
    "FOB-10",
    title="FOB total hasta US$10: obligación tributaria aduanera extinguida",
    citation=cite_001("art. 210A"),
    applies_to={"DUA"},
    severity=Severity.INFO,
    schedule=DS_367_210A,
)
def fob_10(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """With a total FOB value of US$10.00 or less the customs tax obligation is extinguished
    automatically (art. 210A): the acceptance says there is nothing to pay."""
    if not isinstance(declaration, DUA):
        return
    fob = declaration.totals.fob
    if fob <= EXTINCTION_FOB_LIMIT:
        yield Problem(
            "totals.fob",
            f"Casilla Total FOB: el valor FOB total ({amount(fob)}) no excede "
            f"{amount(EXTINCTION_FOB_LIMIT)}; la obligación tributaria aduanera se extingue "
            "automáticamente (art. 210A del Reglamento): no hay tributos que pagar por esta "
            "declaración.",
        )


RULES = (tasa, fob_10)
