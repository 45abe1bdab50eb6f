"""The facts of earlier declarations a declaration needs, and the ones its numbering leaves.

ID-NORUC counts an importer without RUC's imports of the year; CTRL-SINGLE-USE looks up the
declaration that already used a control document; URG-REGULARIZE and MOD-04-OVERDUE ask for
the importer's overdue regularizations and its premises' code 44 records. Which of these a
declaration needs (``wanted``), the facts as plain values (``KnownFacts``, what
``validators.facts`` asks), and what numbering it records (``left_behind``) are decided here;
``gateway.pipeline`` reads and writes them in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from edi_formats.codes import PartyDocType
from edi_formats.models import DUA, OE, ExportSeries, ImportSeries
from validators.context import transmission_date
from validators.facts import ImportHistory
from validators.rules.prior_dispatches import (
    ANTICIPADO_04,
    establishment_of,
    pending_kind,
    regularization_due,
)

__all__ = [
    "ControlDocumentRef",
    "ImportRecord",
    "KnownFacts",
    "LeftBehind",
    "PendingRegularization",
    "WantedFacts",
    "control_documents",
    "left_behind",
    "needs_facts",
    "needs_history",
    "wanted",
]

_CENTS = Decimal(100)

ControlDocumentRef = tuple[str, str, str]
"""(entity code, document code, number) of a control document."""


def needs_history(declaration: DUA | OE) -> bool:
    """Whether ID-NORUC asks about this declaration's importer (a DUA without RUC)."""
    return isinstance(declaration, DUA) and declaration.importer.doc_type is not PartyDocType.RUC


def control_documents(declaration: DUA | OE) -> tuple[ControlDocumentRef, ...]:
    series: tuple[ImportSeries | ExportSeries, ...] = declaration.series
    return tuple(
        (d.entity_code, d.document_code, d.number)
        for item in series
        for d in item.control_documents
    )


def needs_facts(declaration: DUA | OE) -> bool:
    """Whether a rule asks the store about this declaration."""
    return (
        needs_history(declaration)
        or bool(control_documents(declaration))
        or pending_kind(declaration) is not None
    )


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class WantedFacts:
    """The questions to ask the store about one declaration on ``as_of``."""

    as_of: date
    importer: tuple[str, str] | None = None
    """(doc type, doc number) whose imports of ``as_of.year`` ID-NORUC counts."""
    control_documents: tuple[ControlDocumentRef, ...] = ()
    overdue_kind: str | None = None
    """The kind of pending regularization whose overdue ones the importer may not have."""
    party: tuple[str, str] | None = None
    establishment: str | None = None
    """The premises whose code 44 records the anticipado 04 depends on."""


def _party(declaration: DUA) -> tuple[str, str]:
    return (declaration.importer.doc_type.value, declaration.importer.doc_number)


def wanted(declaration: DUA | OE, as_of: date) -> WantedFacts:
    """What the rules may ask the store about ``declaration`` on ``as_of``."""
    if not isinstance(declaration, DUA):
        return WantedFacts(as_of, control_documents=control_documents(declaration))
    kind = pending_kind(declaration)
    return WantedFacts(
        as_of,
        importer=_party(declaration) if needs_history(declaration) else None,
        control_documents=control_documents(declaration),
        overdue_kind=kind,
        party=_party(declaration) if kind is not None else None,
        establishment=establishment_of(declaration) if kind == ANTICIPADO_04 else None,
    )


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class KnownFacts:
    """The store's answers to ``WantedFacts``, as ``validators.facts`` asks them.

    Plain values (picklable): read before the answer is decided, checked again when it is
    written.
    """

    imports: ImportHistory | None = None
    importer: tuple[str, str] | None = None
    uses: Mapping[ControlDocumentRef, str] = field(default_factory=dict)
    overdue: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    premises: Mapping[str, tuple[tuple[date, date | None], ...]] = field(default_factory=dict)

    @staticmethod
    def history(year: int, fob_cents: list[int] | tuple[int, ...]) -> ImportHistory:
        """An importer's year from the FOB values the store keeps (US cents)."""
        return ImportHistory(year, tuple(Decimal(value) / _CENTS for value in fob_cents))

    def imports_in_year(self, doc_type: str, doc_number: str, year: int) -> ImportHistory:
        """The loaded history; no imports for any other importer or year (never asked)."""
        imports = self.imports
        if imports is not None and (doc_type, doc_number, year) == (
            *(self.importer or ()),
            imports.year,
        ):
            return imports
        return ImportHistory(year)

    def control_document_use(self, entity_code: str, document_code: str, number: str) -> str | None:
        return self.uses.get((entity_code, document_code, number))

    def overdue_regularizations(self, kind: str) -> tuple[str, ...]:
        return self.overdue.get(kind, ())

    def premises_incidents(self, establishment: str) -> tuple[tuple[date, date | None], ...]:
        return self.premises.get(establishment, ())


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """An import numbered to an importer without RUC (ID-NORUC counts it later)."""

    doc_type: str
    doc_number: str
    year: int
    fob_cents: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class PendingRegularization:
    """An urgent or anticipado-04 dispatch that must be regularized by ``due_on``."""

    party: tuple[str, str]
    kind: str
    due_on: date


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class LeftBehind:
    """What numbering a declaration records for later ones (its number filled in then)."""

    import_record: ImportRecord | None = None
    control_documents: tuple[ControlDocumentRef, ...] = ()
    pending: PendingRegularization | None = None


def left_behind(declaration: DUA | OE, received_at: datetime) -> LeftBehind:
    """The records numbering ``declaration``, received at ``received_at``, leaves."""
    documents = control_documents(declaration)
    if not isinstance(declaration, DUA):
        return LeftBehind(control_documents=documents)
    as_of = transmission_date(received_at)
    record = None
    if needs_history(declaration):
        record = ImportRecord(
            doc_type=declaration.importer.doc_type.value,
            doc_number=declaration.importer.doc_number,
            year=as_of.year,
            fob_cents=int(declaration.totals.fob * _CENTS),
            received_at=received_at,
        )
    kind = pending_kind(declaration)
    pending = None
    if kind is not None:
        pending = PendingRegularization(
            party=_party(declaration), kind=kind, due_on=regularization_due(declaration, as_of)
        )
    return LeftBehind(record, documents, pending)
