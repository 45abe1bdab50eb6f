"""How rules write about a declaration in Spanish: document names, dates, amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi_formats.models import DUA, OE

__all__ = ["amount", "day", "document_name", "party_box"]


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
