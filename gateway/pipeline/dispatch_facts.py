"""The store's facts for a declaration about to be numbered, and what its numbering records.

A DUA of an importer without RUC (ID-NORUC), a declaration with control documents
(CTRL-SINGLE-USE) and an urgent or anticipado-04 DUA (URG-REGULARIZE, MOD-04-OVERDUE) are
validated again inside the answering transaction with these facts; once numbered, their
control documents and pending regularization are recorded in the same transaction
(``mailboxes.dispatch_history``), so the next declaration, in this batch too, sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from edi_formats.models import DUA, OE, ExportSeries, ImportSeries
from gateway.pipeline.history import StoreHistory, needs_history
from gateway.pipeline.process import ReadDeclaration
from mailboxes.dispatch_history import ControlDocumentKey, PendingKind
from mailboxes.jobs import Answering
from validators.context import RuleContext, transmission_date
from validators.engine import validate
from validators.facts import ImportHistory
from validators.registry import RuleRegistry
from validators.rules.prior_dispatches import (
    ANTICIPADO_04,
    establishment_of,
    pending_kind,
    regularization_due,
)

__all__ = ["StoreFacts", "load_facts", "needs_facts", "record_dispatch", "revalidate"]


def _keys(declaration: DUA | OE) -> list[ControlDocumentKey]:
    series: tuple[ImportSeries | ExportSeries, ...] = declaration.series
    return [
        ControlDocumentKey(d.entity_code, d.document_code, d.number)
        for item in series
        for d in item.control_documents
    ]


def needs_facts(declaration: DUA | OE) -> bool:
    """Whether a rule asks the store about this declaration."""
    return (
        needs_history(declaration)
        or bool(_keys(declaration))
        or pending_kind(declaration) is not None
    )


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """``validators.facts.Facts`` and ``DispatchFacts`` for one declaration, as loaded."""

    history: StoreHistory | None = None
    uses: Mapping[ControlDocumentKey, str] = field(default_factory=dict)
    overdue: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    premises: Mapping[str, tuple[tuple[date, date | None], ...]] = field(default_factory=dict)

    def imports_in_year(self, doc_type: str, doc_number: str, year: int) -> ImportHistory:
        if self.history is None:
            return ImportHistory(year)
        return self.history.imports_in_year(doc_type, doc_number, year)

    def control_document_use(self, entity_code: str, document_code: str, number: str) -> str | None:
        return self.uses.get(ControlDocumentKey(entity_code, document_code, number))

    def overdue_regularizations(self, kind: str) -> tuple[str, ...]:
        return self.overdue.get(kind, ())

    def premises_incidents(self, establishment: str) -> tuple[tuple[date, date | None], ...]:
        return self.premises.get(establishment, ())


async def load_facts(answering: Answering, declaration: DUA | OE, as_of: date) -> StoreFacts:
    """Read what the rules may ask about ``declaration`` on ``as_of``."""
    history = None
    if isinstance(declaration, DUA) and needs_history(declaration):
        importer = declaration.importer
        history = await StoreHistory.load(
            answering, importer.doc_type.value, importer.doc_number, as_of.year
        )
    uses = await answering.used_control_documents(_keys(declaration))
    overdue: dict[str, tuple[str, ...]] = {}
    kind = pending_kind(declaration)
    if kind is not None and isinstance(declaration, DUA):
        party = (declaration.importer.doc_type.value, declaration.importer.doc_number)
        overdue[kind] = await answering.overdue_regularizations(party, PendingKind(kind), as_of)
    premises: dict[str, tuple[tuple[date, date | None], ...]] = {}
    if kind == ANTICIPADO_04 and isinstance(declaration, DUA):
        establishment = establishment_of(declaration)
        if establishment is not None:
            party = (declaration.importer.doc_type.value, declaration.importer.doc_number)
            premises[establishment] = await answering.premises_incidents(party, establishment)
    return StoreFacts(history, uses, overdue, premises)


async def revalidate(
    answering: Answering,
    outcome: ReadDeclaration,
    context: RuleContext,
    registry: RuleRegistry | None,
) -> ReadDeclaration:
    """``outcome`` validated again with the store's facts."""
    declaration = outcome.declaration
    facts = await load_facts(answering, declaration, context.as_of)
    findings = validate(declaration, replace(context, facts=facts), registry)
    return ReadDeclaration(outcome.document, declaration, tuple(findings))


async def record_dispatch(
    answering: Answering,
    declaration: DUA | OE,
    *,
    number: str,
    office: str,
    received_at: datetime,
) -> None:
    """Record a numbered declaration's control documents and pending regularization."""
    await answering.record_control_documents(
        _keys(declaration), declaration_number=number, office=office, used_at=received_at
    )
    kind = pending_kind(declaration)
    if kind is not None and isinstance(declaration, DUA):
        await answering.record_pending_regularization(
            declaration_number=number,
            office=office,
            party=(declaration.importer.doc_type.value, declaration.importer.doc_number),
            kind=PendingKind(kind),
            due_on=regularization_due(declaration, transmission_date(received_at)),
        )
