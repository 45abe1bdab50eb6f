"""The facts an answer is decided on, asked of one connection: the answers on file, an
importer's imports of the year, the control documents already used, overdue
regularizations, premises records.

One reader, ``FactReader``, for both places the questions are asked: before the writer
transaction, where the answering step reads a job's facts in one unit of work on a reader
(``read_facts``) and decides outside any transaction; and inside it, where
``mailboxes.jobs.Answering`` (a ``FactReader`` on the writer's connection) lets the commit
check that those facts still hold and read them again when one moved
(``gateway.pipeline.commit``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Connection, Executable, select

from mailboxes import dispatch_history, ledgers
from mailboxes.fixed_lists import parameters, placeholders
from mailboxes.fixed_statements import execute
from mailboxes.schema import DeclarationRow, DeclarationStatus
from mailboxes.store import Store

__all__ = [
    "ANSWER_COLUMNS",
    "FactReader",
    "RecordedAnswer",
    "answers_on_file",
    "read_facts",
    "recorded_answer",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RecordedAnswer:
    """The answer on file for an agent's reference."""

    status: DeclarationStatus
    number: str | None
    channel: str | None
    reply_content_id: int
    received_at: datetime | None = None
    document_digest: str | None = None
    """None for answers recorded before digests were kept: taken as the same document."""


def recorded_answer(row: Sequence[Any]) -> RecordedAnswer:
    """An answer from a result row with the columns of ``ANSWER_COLUMNS``, in that order."""
    status, number, channel, reply_content_id, received_at, document_digest = row
    return RecordedAnswer(
        status=DeclarationStatus(status),
        number=number,
        channel=channel,
        reply_content_id=reply_content_id,
        received_at=received_at,
        document_digest=document_digest,
    )


ANSWER_COLUMNS = (
    DeclarationRow.status,
    DeclarationRow.number,
    DeclarationRow.channel,
    DeclarationRow.reply_content_id,
    DeclarationRow.received_at,
    DeclarationRow.document_digest,
)


@cache
def _answers(codes: int, references: int) -> Executable:
    """The answers for any of ``codes`` agent codes and any of ``references`` references: a
    superset of the pairs asked (the caller keeps those), found through the (agent code,
    reference) key on every backend. A pair list (``(agent_code, agent_reference) IN
    (VALUES ...)``) is not: SQLite scanned the whole table for it, a cost that grew with
    every declaration on file. Built once per pair of sizes (``fixed_lists``): an expanding
    list, rendered again at every execution, took half of a lookup's time."""
    return select(DeclarationRow.agent_code, DeclarationRow.agent_reference, *ANSWER_COLUMNS).where(
        DeclarationRow.agent_code.in_(placeholders(codes, "c")),
        DeclarationRow.agent_reference.in_(placeholders(references, "r")),
    )


def answers_on_file(
    connection: Connection, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], RecordedAnswer | None]:
    """The answers on file for (agent code, reference) pairs (None where there is none)."""
    wanted = list(dict.fromkeys(keys))
    answers: dict[tuple[str, str], RecordedAnswer | None] = {}
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        codes = parameters(sorted({code for code, _ in chunk}), "c")
        references = parameters(sorted({reference for _, reference in chunk}), "r")
        rows = execute(connection, _answers(len(codes), len(references)), {**codes, **references})
        asked = set(chunk)
        found = {
            key: recorded_answer(row[2:]) for row in rows if (key := (row[0], row[1])) in asked
        }
        for key in chunk:
            answers[key] = found.get(key)
    return answers


class FactReader:
    """The questions, asked on one connection (inside the caller's unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def recorded_answers(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], RecordedAnswer | None]:
        return answers_on_file(self._connection, keys)

    def importer_fobs(self, doc_type: str, doc_number: str, year: int) -> list[int]:
        """The importer's recorded imports of the year (FOB, US cents), oldest first."""
        return ledgers.importer_fobs(self._connection, doc_type, doc_number, year)

    def used_control_documents(
        self, keys: Iterable[dispatch_history.ControlDocumentKey]
    ) -> Mapping[dispatch_history.ControlDocumentKey, str]:
        """The declaration number that already used each of ``keys``, for those used."""
        return dispatch_history.used_control_documents(self._connection, keys)

    def overdue_regularizations(
        self, party: tuple[str, str], kind: dispatch_history.PendingKind, as_of: date
    ) -> tuple[str, ...]:
        return dispatch_history.overdue_regularizations(self._connection, party, kind, as_of)

    def premises_incidents(
        self, party: tuple[str, str], establishment: str
    ) -> tuple[tuple[date, date | None], ...]:
        return dispatch_history.premises_incidents(self._connection, party, establishment)


async def read_facts(store: Store, work: Callable[[FactReader], T]) -> T:
    """``work(reader)`` as one unit of work on a reader of the store (it sees the last
    commit): every question a job's answer needs, one hand-off to the database."""
    return await store.database.run(lambda connection: work(FactReader(connection)))
