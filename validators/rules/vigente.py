"""VIGENTE: the later dispatch of goods "vigentes" names its preceding declaration.

Seed 004 VI.26-30: code 20 in box 7.24 asks for the physical examination of goods that may
not have been shipped or unloaded; goods declared and paid for but not found at the
examination may be kept "vigentes", and their later dispatch transmits code 21 in box 7.24
(VI.28) with the preceding declaration and series in box 7.3 (VI.30), to discharge them.
RULES.md asks box 7.3 for code 20 too; the seed ties it to code 21 only, and the seed wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.rules.sources import INTA_PG01A, cite_004
from validators.rules.wording import series_label

__all__ = ["CODE_EXAMINATION", "CODE_VIGENTE", "RULES", "vigente"]

CODE_EXAMINATION: Final = "20"
"""Box 7.24: the broker asks for physical examination (VI.26)."""
CODE_VIGENTE: Final = "21"
"""Box 7.24: later dispatch of goods kept "vigentes" (VI.28)."""


@rule(
    "VIGENTE",
    title="Despacho posterior de mercancía vigente: declaración precedente en la casilla 7.3",
    citation=cite_004("VI.26-30"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def vigente(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A series with code 21 in box 7.24 (later dispatch of goods "vigentes") names the
    preceding declaration and its series in box 7.3; that declaration cannot be numbered in a
    year after the transmission."""
    if not isinstance(declaration, DUA):
        return
    for index, item in enumerate(declaration.series):
        if CODE_VIGENTE not in item.codes_7_24:
            continue
        preceding = item.preceding_declaration
        label = series_label(item.number)
        if preceding is None:
            yield Problem(
                f"series[{index}].preceding_declaration",
                f"{label}, casilla 7.3: con el código {CODE_VIGENTE} en la casilla 7.24 "
                "(despacho posterior de mercancía vigente) indique el número de la declaración "
                "precedente y su serie, para el descargo de la mercancía vigente.",
            )
            continue
        year = int(preceding.number[4:8])
        if year > ctx.as_of.year:
            yield Problem(
                f"series[{index}].preceding_declaration.number",
                f"{label}, casilla 7.3: la declaración precedente {preceding.number} es del "
                f"año {year}, posterior a esta transmisión; indique la declaración en que se "
                "declaró la mercancía vigente.",
            )


RULES = (vigente,)
