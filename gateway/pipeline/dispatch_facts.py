"""Read the facts a declaration needs and write the ones its numbering leaves (glue).

Which facts (``validators.policy.dispatch.wanted``) and which records
(``validators.policy.dispatch.left_behind``) are policy; here they are asked of a
``FactSource`` (the answering transaction, or ``mailboxes.answer_facts`` before it) and
written through ``mailboxes.jobs.Answering``, in the transaction that numbers the
declaration, so the next declaration, in the same batch too, sees them. Everything here is
synchronous: it runs inside a unit of work of the store (``Database.run``), in the
database's thread on SQLite.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Protocol

from gateway.pipeline.core import AnswerFacts, JobView, references_on_file, wanted_facts
from gateway.pipeline.process import Analysis
from mailboxes.answer_facts import RecordedAnswer
from mailboxes.dispatch_history import ControlDocumentKey, PendingKind
from mailboxes.jobs import Answering
from validators.policy.dispatch import (
    ControlDocumentRef,
    KnownFacts,
    LeftBehind,
    WantedFacts,
)

__all__ = [
    "AnswerFactSource",
    "FactSource",
    "control_document_uses",
    "read_answer_facts",
    "read_facts",
    "record_left_behind",
]


class FactSource(Protocol):
    """Read-only questions about earlier declarations (``Answering`` answers them too)."""

    def importer_fobs(self, doc_type: str, doc_number: str, year: int) -> list[int]: ...

    def used_control_documents(
        self, keys: Iterable[ControlDocumentKey]
    ) -> Mapping[ControlDocumentKey, str]: ...

    def overdue_regularizations(
        self, party: tuple[str, str], kind: PendingKind, as_of: date
    ) -> tuple[str, ...]: ...

    def premises_incidents(
        self, party: tuple[str, str], establishment: str
    ) -> tuple[tuple[date, date | None], ...]: ...


class AnswerFactSource(FactSource, Protocol):
    """``FactSource`` and the answers on file (``mailboxes.answer_facts.FactReader``
    before the transaction, ``mailboxes.jobs.Answering`` inside it)."""

    def recorded_answers(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], RecordedAnswer | None]: ...


def _key(ref: ControlDocumentRef) -> ControlDocumentKey:
    return ControlDocumentKey(*ref)


def control_document_uses(
    source: FactSource, refs: Iterable[ControlDocumentRef]
) -> dict[ControlDocumentRef, str]:
    """The number of the declaration that used each of ``refs``, for those used."""
    used = source.used_control_documents([_key(ref) for ref in refs])
    return {(k.entity_code, k.document_code, k.number): n for k, n in used.items()}


def read_facts(source: FactSource, wanted: WantedFacts) -> KnownFacts:
    """The store's answers to ``wanted``."""
    imports = None
    if wanted.importer is not None:
        cents = source.importer_fobs(*wanted.importer, wanted.as_of.year)
        imports = KnownFacts.history(wanted.as_of.year, cents)
    uses = control_document_uses(source, wanted.control_documents)
    overdue: dict[str, tuple[str, ...]] = {}
    premises: dict[str, tuple[tuple[date, date | None], ...]] = {}
    if wanted.overdue_kind is not None and wanted.party is not None:
        kind = PendingKind(wanted.overdue_kind)
        overdue[kind.value] = source.overdue_regularizations(wanted.party, kind, wanted.as_of)
        if wanted.establishment is not None:
            premises[wanted.establishment] = source.premises_incidents(
                wanted.party, wanted.establishment
            )
    return KnownFacts(imports, wanted.importer, uses, overdue, premises)


def read_answer_facts(
    source: AnswerFactSource, view: JobView, analysis: Analysis, *, start: int = 0
) -> AnswerFacts:
    """Everything ``decide`` may ask about the job's documents from ``start`` on."""
    answers = source.recorded_answers(references_on_file(view, analysis, start))
    known = {}
    for asked in dict.fromkeys(wanted_facts(view, analysis, start)):
        known[asked] = read_facts(source, asked)
    return AnswerFacts(answers, known)


def record_left_behind(
    answering: Answering, left: LeftBehind, *, number: str, office: str, received_at: datetime
) -> None:
    """Record what numbering a declaration leaves for later ones (written at once, so later
    declarations of this transaction see it)."""
    if left.import_record is not None:
        record = left.import_record
        answering.record_import(
            number=number,
            office=office,
            doc_type=record.doc_type,
            doc_number=record.doc_number,
            year=record.year,
            fob_cents=record.fob_cents,
            received_at=record.received_at,
        )
    answering.record_control_documents(
        [_key(ref) for ref in left.control_documents],
        declaration_number=number,
        office=office,
        used_at=received_at,
    )
    if left.pending is not None:
        answering.record_pending_regularization(
            declaration_number=number,
            office=office,
            party=left.pending.party,
            kind=PendingKind(left.pending.kind),
            due_on=left.pending.due_on,
        )
