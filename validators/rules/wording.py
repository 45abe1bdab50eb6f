"""How rules write about a declaration in Spanish: document names, dates, amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi_formats.models import DUA, OE

__all__ = [
    "amount",
    "control_box",
    "crossing",
    "day",
    "document_name",
    "joined",
    "party_box",
    "series_label",
    "soles",
]


def document_name(declaration: DUA | OE) -> str:
    """``la DUA`` or ``la O/E``."""
    return "la DUA" if isinstance(declaration, DUA) else "la O/E"


def party_box(declaration: DUA | OE) -> str:
    """The box of the declarant party: importer (DUA) or exporter (O/E)."""
    return "Casilla Importador" if isinstance(declaration, DUA) else "Casilla Exportador"


def day(value: date) -> str:
    """A date as brokers write it: dd/mm/aaaa."""
    return value.strftime("%d/%m/%Y")


def amount(value: Decimal) -> str:
    """A US-dollar amount with two decimals."""
    return f"US$ {value:,.2f}"


def control_box(declaration: DUA | OE) -> str:
    """Where control documents go: box 7.37 of the DUA, 4.13 of the O/E (seed 003 VI.7)."""
    return "casilla 7.37" if isinstance(declaration, DUA) else "casilla 4.13"


def series_label(number: int) -> str:
    return f"Serie {number}"


def soles(value: Decimal) -> str:
    """An amount in soles with two decimals."""
    return f"S/ {value:,.2f}"


def crossing(declaration: DUA | OE) -> str:
    """``importación`` or ``exportación``: the direction a message speaks of."""
    return "importación" if isinstance(declaration, DUA) else "exportación"


def joined(items: list[str]) -> str:
    """``a``, ``a y b``, ``a, b y c``."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} y {items[-1]}"
