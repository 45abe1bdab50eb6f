"""Read-only queries for the facts an answer is decided on, before the writer transaction.

The answering step reads what it needs (the answers on file for the job's references, an
importer's imports of the year, the control documents already used, overdue regularizations,
premises records) in a read session of its own, decides outside any transaction, and checks
in the writer transaction only that those facts still hold (``gateway.pipeline.commit``).
The same questions are asked of ``mailboxes.jobs.Answering`` inside the transaction, with the
same statements.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import date
from functools import partial

from mailboxes import dispatch_history, ledgers
from mailboxes.database import Database
from mailboxes.jobs import RecordedAnswer, answers_on_file
from mailboxes.store import Store

__all__ = ["AnswerFactReader", "reading"]


class AnswerFactReader:
    """The questions, each a read of its own on the store's readers."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def recorded_answers(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], RecordedAnswer | None]:
        return await self._database.run(partial(answers_on_file, keys=keys))

    async def importer_fobs(self, doc_type: str, doc_number: str, year: int) -> list[int]:
        return await self._database.run(
            partial(ledgers.importer_fobs, doc_type=doc_type, doc_number=doc_number, year=year)
        )

    async def used_control_documents(
        self, keys: Iterable[dispatch_history.ControlDocumentKey]
    ) -> Mapping[dispatch_history.ControlDocumentKey, str]:
        return await self._database.run(partial(dispatch_history.used_control_documents, keys=keys))

    async def overdue_regularizations(
        self, party: tuple[str, str], kind: dispatch_history.PendingKind, as_of: date
    ) -> tuple[str, ...]:
        return await self._database.run(
            partial(dispatch_history.overdue_regularizations, party=party, kind=kind, as_of=as_of)
        )

    async def premises_incidents(
        self, party: tuple[str, str], establishment: str
    ) -> tuple[tuple[date, date | None], ...]:
        return await self._database.run(
            partial(dispatch_history.premises_incidents, party=party, establishment=establishment)
        )


@asynccontextmanager
async def reading(store: Store) -> AsyncIterator[AnswerFactReader]:
    """A reader of the store's facts on a reader connection (not the writer): Core
    statements only, no ORM session to build and close for each job."""
    yield AnswerFactReader(store.database)
