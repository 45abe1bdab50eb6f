"""The store side of the declaration pipeline: claim intake jobs, then answer them atomically.

A job is answered in one write transaction that delivers the replies, files the office
copies, records the declarations, takes the numbers and marks the job done. Nothing of it is
visible before the commit, so a crash anywhere before it leaves the job pending with no reply
sent and no number taken: the job is simply redone.

Claiming counts an attempt in its own short transaction, *before* the work starts, so a
submission that crashes the process every time still reaches its attempt limit and gets an
answer instead of looping forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailboxes.records import IntakeJob
from mailboxes.schema import (
    AccountRow,
    DeclarationCounterRow,
    DeclarationRow,
    DeclarationStatus,
    IntakeJobRow,
    JobState,
    MailboxMessageRow,
    MessageContentRow,
)
from mailboxes.store import Change, Store

__all__ = ["Answering", "ClaimedJob", "JobQueue", "RecordedAnswer"]

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A pending job taken for processing, with the submission's bytes and sender's code.

    ``attempts`` already counts this attempt.
    """

    job: IntakeJob
    raw: bytes
    sender_agent_code: str | None
    last_error: str | None = None

    @property
    def id(self) -> int:
        return self.job.id


@dataclass(frozen=True, slots=True)
class RecordedAnswer:
    """The answer on file for an agent's reference."""

    status: DeclarationStatus
    number: str | None
    channel: str | None
    reply_content_id: int


def _job(row: IntakeJobRow) -> IntakeJob:
    return IntakeJob(
        id=row.id,
        office_code=row.office_code,
        sender=row.sender,
        recipient=row.recipient,
        state=row.state,
        attempts=row.attempts,
        received_at=row.received_at,
    )


class JobQueue:
    """Pending intake jobs of one store, for the one pipeline worker of the node."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def pending_ids(self) -> list[int]:
        async with self._store.database.read_session() as session:
            ids = await session.scalars(
                select(IntakeJobRow.id)
                .where(IntakeJobRow.state == JobState.PENDING.value)
                .order_by(IntakeJobRow.id)
            )
            return list(ids)

    async def claim(self, limit: int, *, exclude: Collection[int] = ()) -> list[ClaimedJob]:
        """Up to ``limit`` pending jobs, oldest first, each with its attempt counted.

        ``exclude`` names jobs the caller is not ready to retry yet.
        """
        async with self._store.database.write_session() as session, session.begin():
            query = (
                select(IntakeJobRow.id)
                .where(IntakeJobRow.state == JobState.PENDING.value)
                .order_by(IntakeJobRow.id)
                .limit(limit)
            )
            if exclude:
                query = query.where(IntakeJobRow.id.not_in(list(exclude)))
            ids = list(await session.scalars(query))
            if not ids:
                return []
            await session.execute(
                update(IntakeJobRow)
                .where(IntakeJobRow.id.in_(ids))
                .values(attempts=IntakeJobRow.attempts + 1)
            )
            rows = await session.execute(
                select(IntakeJobRow, MessageContentRow.raw, AccountRow.agent_code)
                .join(MessageContentRow, MessageContentRow.id == IntakeJobRow.content_id)
                .outerjoin(AccountRow, AccountRow.address == IntakeJobRow.sender)
                .where(IntakeJobRow.id.in_(ids))
                .order_by(IntakeJobRow.id)
                .execution_options(populate_existing=True)
            )
            return [
                ClaimedJob(
                    job=_job(row),
                    raw=bytes(raw),
                    sender_agent_code=agent_code,
                    last_error=row.error,
                )
                for row, raw, agent_code in rows
            ]

    async def record_error(self, job_id: int, error: str) -> None:
        """Note why an attempt failed; the job stays pending for the next attempt."""
        async with self._store.database.write_session() as session, session.begin():
            await session.execute(
                update(IntakeJobRow)
                .where(IntakeJobRow.id == job_id, IntakeJobRow.state == JobState.PENDING.value)
                .values(error=error[:MAX_ERROR_LENGTH])
            )

    async def job(self, job_id: int) -> tuple[IntakeJob, str | None]:
        """A job's current row and last error (for tests and operators)."""
        async with self._store.database.read_session() as session:
            row = await session.get(IntakeJobRow, job_id)
            if row is None:
                raise KeyError(job_id)
            return _job(row), row.error

    @asynccontextmanager
    async def answering(self, now: datetime) -> AsyncIterator[Answering]:
        """One write transaction to answer jobs in; committed when the block exits cleanly.

        ``now`` dates the messages written. Listeners of the store hear about the mailboxes
        written once the commit is done.
        """
        async with self._store.database.write_session() as session:
            async with session.begin():
                answering = Answering(self._store, session, now)
                yield answering
            if answering.touched:
                self._store._notify(Change(frozenset(answering.touched)))


class Answering:
    """Operations inside the answering transaction (see ``JobQueue.answering``)."""

    def __init__(self, store: Store, session: AsyncSession, now: datetime) -> None:
        self._store = store
        self.session = session
        self.now = now
        self.touched: set[tuple[str, str]] = set()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the transaction that an exception undoes alone (one job of a batch)."""
        touched = set(self.touched)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            self.touched = touched
            raise

    async def is_pending(self, job_id: int) -> bool:
        """Whether the job still waits for its answer (another attempt may have given it)."""
        state = await self.session.scalar(
            select(IntakeJobRow.state).where(IntakeJobRow.id == job_id)
        )
        return state == JobState.PENDING.value

    async def recorded_answer(self, agent_code: str, agent_reference: str) -> RecordedAnswer | None:
        row = await self._declaration(agent_code, agent_reference)
        if row is None:
            return None
        return RecordedAnswer(
            status=DeclarationStatus(row.status),
            number=row.number,
            channel=row.channel,
            reply_content_id=row.reply_content_id,
        )

    async def next_correlative(self, office_code: str, year: int, regime: str) -> int:
        """Take the next number of the office's series for that year and regime (1, 2, ...)."""
        last = await self.session.scalar(
            update(DeclarationCounterRow)
            .where(
                DeclarationCounterRow.office_code == office_code,
                DeclarationCounterRow.year == year,
                DeclarationCounterRow.regime == regime,
            )
            .values(last=DeclarationCounterRow.last + 1)
            .returning(DeclarationCounterRow.last)
        )
        if last is not None:
            return int(last)
        self.session.add(
            DeclarationCounterRow(office_code=office_code, year=year, regime=regime, last=1)
        )
        await self.session.flush()
        return 1

    async def deliver(self, owner: str, folder: str, raw: bytes) -> int:
        """File a new message in ``owner``'s ``folder``; returns its content id."""
        content = MessageContentRow(raw=raw, size=len(raw), created_at=self.now)
        self.session.add(content)
        await self.session.flush()
        await self.redeliver(owner, folder, content.id)
        return content.id

    async def redeliver(self, owner: str, folder: str, content_id: int) -> None:
        """File an existing message (by content id) in ``owner``'s ``folder`` once more."""
        mailbox_id, uid = await self._store._allocate_uid(self.session, owner, folder, self.now)
        self.session.add(
            MailboxMessageRow(
                mailbox_id=mailbox_id,
                uid=uid,
                content_id=content_id,
                internal_date=self.now,
                flags="",
            )
        )
        self.touched.add((owner, folder))

    async def record_answer(
        self,
        *,
        job: IntakeJob,
        agent_code: str,
        agent_reference: str,
        document_type: str,
        regime: str,
        office_code: str,
        status: DeclarationStatus,
        reply_content_id: int,
        number: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Remember the answer for (agent, reference), replacing a rejection on file.

        An accepted answer is final: recording over it is a programming error.
        """
        row = await self._declaration(agent_code, agent_reference)
        if row is None:
            row = DeclarationRow(agent_code=agent_code, agent_reference=agent_reference)
            self.session.add(row)
        elif row.status == DeclarationStatus.ACCEPTED.value:
            raise ValueError(f"{agent_code}/{agent_reference} was already accepted as {row.number}")
        row.document_type = document_type
        row.regime = regime
        row.office_code = office_code
        row.status = status.value
        row.number = number
        row.channel = channel
        row.reply_content_id = reply_content_id
        row.job_id = job.id
        row.received_at = job.received_at
        row.answered_at = self.now
        await self.session.flush()

    async def note_error(self, job_id: int, error: str) -> None:
        """Like ``JobQueue.record_error``, inside this transaction."""
        await self.session.execute(
            update(IntakeJobRow)
            .where(IntakeJobRow.id == job_id, IntakeJobRow.state == JobState.PENDING.value)
            .values(error=error[:MAX_ERROR_LENGTH])
        )

    async def mark_done(self, job_id: int) -> None:
        await self._finish(job_id, JobState.DONE, None)

    async def mark_failed(self, job_id: int, error: str) -> None:
        await self._finish(job_id, JobState.FAILED, error)

    async def _finish(self, job_id: int, state: JobState, error: str | None) -> None:
        await self.session.execute(
            update(IntakeJobRow)
            .where(IntakeJobRow.id == job_id)
            .values(
                state=state.value,
                finished_at=self.now,
                error=None if error is None else error[:MAX_ERROR_LENGTH],
            )
        )

    async def _declaration(self, agent_code: str, agent_reference: str) -> DeclarationRow | None:
        row: DeclarationRow | None = await self.session.scalar(
            select(DeclarationRow).where(
                DeclarationRow.agent_code == agent_code,
                DeclarationRow.agent_reference == agent_reference,
            )
        )
        return row
