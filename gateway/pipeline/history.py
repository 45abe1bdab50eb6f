"""The importer's yearly history for ID-NORUC, read and written in the answering transaction.

Analysis runs before the answering transaction and without the store, so ID-NORUC first
judges only the single operation (over US$3,000 without RUC). A DUA of an importer without
RUC that passed is validated again inside the transaction that would number it, with the
importer's imports of the year as ``RuleContext.facts``; when it is numbered, the import is
recorded in the same transaction, so the next declaration of that importer, even in the same
batch, counts it. Importers with RUC are not recorded: no rule asks about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from edi_formats.codes import PartyDocType
from edi_formats.models import DUA, OE
from mailboxes.jobs import Answering
from validators.facts import ImportHistory

__all__ = ["StoreHistory", "needs_history", "record_import"]

_CENTS = Decimal(100)


def needs_history(declaration: DUA | OE) -> bool:
    """Whether ID-NORUC asks about this declaration's importer (a DUA without RUC)."""
    return isinstance(declaration, DUA) and declaration.importer.doc_type is not PartyDocType.RUC


@dataclass(frozen=True, slots=True)
class StoreHistory:
    """The facts of one importer and year, loaded from the store (``validators.facts.Facts``)."""

    doc_type: str
    doc_number: str
    history: ImportHistory

    def imports_in_year(self, doc_type: str, doc_number: str, year: int) -> ImportHistory:
        """The loaded history; no imports for any other importer or year (never asked)."""
        if (doc_type, doc_number, year) == (self.doc_type, self.doc_number, self.history.year):
            return self.history
        return ImportHistory(year)

    @classmethod
    async def load(
        cls, answering: Answering, doc_type: str, doc_number: str, year: int
    ) -> StoreHistory:
        cents = await answering.importer_fobs(doc_type, doc_number, year)
        fobs = tuple(Decimal(value) / _CENTS for value in cents)
        return cls(doc_type, doc_number, ImportHistory(year, fobs))


async def record_import(
    answering: Answering,
    declaration: DUA | OE,
    *,
    number: str,
    office: str,
    year: int,
    received_at: datetime,
) -> None:
    """Remember a DUA numbered to an importer without RUC (written at once, so later
    declarations of this transaction see it)."""
    if not isinstance(declaration, DUA) or not needs_history(declaration):
        return
    await answering.record_import(
        number=number,
        office=office,
        doc_type=declaration.importer.doc_type.value,
        doc_number=declaration.importer.doc_number,
        year=year,
        fob_cents=int(declaration.totals.fob * _CENTS),
        received_at=received_at,
    )
