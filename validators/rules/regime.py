"""REG-CODE: this gateway handles import for consumption (10) and definitive export (40)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem
from validators.rules.eras import before_and_under_pg01a
from validators.rules.sources import cite_000, cite_004

__all__ = ["EXPECTED_REGIME", "RULES", "reg_code"]

EXPECTED_REGIME: Final[dict[str, tuple[str, str]]] = {
    "DUA": ("10", "importación para el consumo"),
    "OE": ("40", "exportación definitiva"),
}


@before_and_under_pg01a(
    "REG-CODE",
    title="Régimen 10 (DUA) o 40 (O/E)",
    before=cite_000("Declaraciones (DUA) y Órdenes de Embarque (O/E) por Teledespacho"),
    under=cite_004("VII.A.2: código 10 en el recuadro Destinación"),
)
def reg_code(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """The DUA declares regime 10 and the O/E regime 40; any other regime is not handled
    by this office's Teledespacho, and the rejection says so."""
    code, name = EXPECTED_REGIME[declaration.document_type]
    if declaration.regime != code:
        label = "DUA" if isinstance(declaration, DUA) else "O/E"
        yield Problem(
            "regime",
            f"Recuadro Destinación: el régimen {declaration.regime} no se tramita por "
            f"Teledespacho en esta aduana; la {label} debe declarar el régimen {code} "
            f"({name}).",
        )


RULES = reg_code
