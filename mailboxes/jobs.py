"""The store side of the declaration pipeline: claim intake jobs, then answer them atomically.

On PostgreSQL several workers (in one process or several nodes) may share a database: the
answering transaction locks its jobs and answers only those still pending, so a job two
workers took is answered once.

A job is answered in one write transaction that delivers the replies, files the office
copies, records the declarations, takes the numbers and marks the job done. Nothing of it is
visible before the commit, so a crash anywhere before it leaves the job pending with no reply
sent and no number taken: the job is simply redone. The transaction is one unit of work
(``JobQueue.answer``, on ``Database.run``): on SQLite it runs whole in the database's
thread, one hand-off from the event loop however many statements its jobs take.

A job's ``attempts`` count its own failures only (``record_error``): claiming takes nothing
from it, so a node that dies with jobs in hand costs none of them an attempt. Reading a mail,
the only work proportional to what a sender sends, runs in worker processes whose failures
(an exception, a process that dies or overruns its time) are the job's own and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    Connection,
    Executable,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from mailboxes import answer_statement, dispatch_history, ledgers, modseq
from mailboxes.answer_facts import (
    ANSWER_COLUMNS,
    FactReader,
    RecordedAnswer,
    answers_on_file,
    recorded_answer,
)
from mailboxes.fixed_lists import parameters, placeholders
from mailboxes.fixed_statements import Insert, execute, scalar
from mailboxes.line_ends import canonical_line_ends
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
    OfficeHandoverRow,
    RelayRow,
)
from mailboxes.store import JOB_COLUMNS, Change, Store, intake_job, relay_entry, reserve_uids

__all__ = ["AnsweredJob", "Answering", "ClaimedJob", "JobQueue", "RecordedAnswer"]

T = TypeVar("T")

MAX_ERROR_LENGTH = 2000
DEFAULT_CLAIM_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A pending job taken for processing, with the submission's bytes and sender's code.

    ``job.attempts`` counts this attempt: the job's failures so far, plus one.
    """

    job: IntakeJob
    raw: bytes
    sender_agent_code: str | None
    last_error: str | None = None
    sender_role: str | None = None
    """The sender account's role (``schema.Role``); None when the sender has no account."""

    @property
    def id(self) -> int:
        return self.job.id


class AnsweredJob(Protocol):
    """The job an answer is recorded for (an ``IntakeJob``, or a plan that answers one)."""

    @property
    def id(self) -> int: ...

    @property
    def received_at(self) -> datetime: ...


_JOB_COLUMNS = (*JOB_COLUMNS, IntakeJobRow.error)

_PENDING_IDS = (
    select(IntakeJobRow.id)
    .where(IntakeJobRow.state == JobState.PENDING.value)
    .order_by(IntakeJobRow.id)
)
CLAIM_PAGE = 256
"""Pending jobs a claim reads at a time while it skips the excluded ones."""

_PENDING_SIZES_AFTER = (
    select(IntakeJobRow.id, MessageContentRow.size, IntakeJobRow.turn)
    .join(MessageContentRow, MessageContentRow.id == IntakeJobRow.content_id)
    .where(
        IntakeJobRow.state == JobState.PENDING.value,
        tuple_(IntakeJobRow.turn, IntakeJobRow.id) > tuple_(bindparam("turn"), bindparam("after")),
    )
    .order_by(IntakeJobRow.turn, IntakeJobRow.id)
    .limit(bindparam("limit"))
)
"""A page of pending jobs, their mails' sizes and their turns, in turn (``mailboxes.sender_turns``;
the jobs of one turn oldest first), after the job ``after`` of turn ``turn``.

Excluded jobs are skipped as the page is read, not named in the statement: they are the
jobs in hand and those waiting out a retry delay, as many as fail, and a statement binds a
bounded number of parameters (32 767 on PostgreSQL)."""


@cache
def _claimed(size: int) -> Executable:
    """The claimed jobs among ``size`` ids, with their mails and senders (built once per
    size)."""
    return (
        select(*_JOB_COLUMNS, MessageContentRow.raw, AccountRow.agent_code, AccountRow.role)
        .join(MessageContentRow, MessageContentRow.id == IntakeJobRow.content_id)
        .outerjoin(AccountRow, AccountRow.address == IntakeJobRow.sender)
        .where(
            IntakeJobRow.id.in_(placeholders(size, "id")),
            IntakeJobRow.state == JobState.PENDING.value,
        )
        .order_by(IntakeJobRow.turn, IntakeJobRow.id)
    )


_RECORD_ERROR = (
    update(IntakeJobRow)
    .where(IntakeJobRow.id == bindparam("job"), IntakeJobRow.state == JobState.PENDING.value)
    .values(attempts=IntakeJobRow.attempts + 1, error=bindparam("why"))
)
_JOB = select(*_JOB_COLUMNS).where(IntakeJobRow.id == bindparam("job"))


class JobQueue:
    """Pending intake jobs of one store, for the one pipeline worker of the node."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def pending_ids(self) -> list[int]:
        held = self._store.routing.current.held_offices

        def read(connection: Connection) -> list[int]:
            query = _PENDING_IDS
            if held:
                query = query.where(IntakeJobRow.office_code.not_in(held))
            return list(connection.scalars(query))

        return await self._store.database.run(read)

    async def claim(
        self, limit: int, *, exclude: Collection[int] = (), max_bytes: int = DEFAULT_CLAIM_BYTES
    ) -> list[ClaimedJob]:
        """Up to ``limit`` pending jobs, in turn (``mailboxes.sender_turns``: the senders in turn,
        each sender's jobs oldest first), each with its submission.

        ``exclude`` names jobs the caller has in hand or is not ready to retry yet, any
        number of them: they are skipped as the pending jobs are read, a page at a time. The
        submissions taken add up to at most ``max_bytes`` (always at least one job), so a
        run of large mails is not all held in memory at once. Nothing is written: a job's
        attempts are counted when it fails (``record_error``), not when it is taken.
        """
        if limit < 1:
            return []
        held = self._store.routing.current.held_offices
        excluded = frozenset(exclude)
        page = min(limit + len(excluded), CLAIM_PAGE)
        query = _PENDING_SIZES_AFTER
        if held:  # moved here; numbering not handed over yet (rare: no fixed statement)
            query = query.where(IntakeJobRow.office_code.not_in(held))

        def pending(connection: Connection) -> Iterator[Sequence[Any]]:
            turn, after = -1, 0
            while True:
                taken = {"turn": turn, "after": after, "limit": page}
                rows: Sequence[Sequence[Any]] = (
                    connection.execute(query, taken).all()
                    if held
                    else execute(connection, query, taken)
                )
                yield from rows
                if len(rows) < page:
                    return
                after, _, turn = rows[-1]

        def read(connection: Connection) -> tuple[list[ClaimedJob], list[int]]:
            ids: list[int] = []
            turns: list[int] = []
            total = 0
            for job_id, size, turn in pending(connection):
                if job_id in excluded:
                    continue
                total += size
                if ids and total > max_bytes:
                    break
                ids.append(job_id)
                turns.append(turn)
                if len(ids) == limit:
                    break
            if not ids:
                return [], []
            bound = parameters(ids, "id")
            claimed = [
                ClaimedJob(
                    # ``attempts`` counts this one (``intake_job`` with one more attempt)
                    job=IntakeJob(
                        job_id, office, sender, recipient, state, attempts + 1, received_at
                    ),
                    raw=bytes(raw),
                    sender_agent_code=agent_code,
                    last_error=error,
                    sender_role=role,
                )
                # In ``_claimed``'s columns (``_JOB_COLUMNS``, then the mail and the sender).
                for (
                    job_id,
                    office,
                    sender,
                    recipient,
                    state,
                    attempts,
                    received_at,
                    error,
                    raw,
                    agent_code,
                    role,
                ) in execute(connection, _claimed(len(bound)), bound)
            ]
            return claimed, turns

        claimed, turns = await self._store.database.run(read)
        self._store.turns.claimed(turns)
        return claimed

    async def record_error(self, job_id: int, error: str) -> None:
        """Count a failure of the job and note why; it stays pending for the next attempt."""

        def write(connection: Connection) -> None:
            connection.execute(_RECORD_ERROR, {"job": job_id, "why": error[:MAX_ERROR_LENGTH]})

        await self._store.database.run(write, write=True)

    async def job(self, job_id: int) -> tuple[IntakeJob, str | None]:
        """A job's current row and last error (for tests and operators)."""

        def read(connection: Connection) -> Any:
            return connection.execute(_JOB, {"job": job_id}).one_or_none()

        row = await self._store.database.run(read)
        if row is None:
            raise KeyError(job_id)
        return intake_job(row), row.error

    async def answer(self, now: datetime, work: Callable[[Answering], T]) -> T:
        """``work(answering)`` as one write transaction, committed when it returns; its
        result. It raises: nothing of it is written.

        ``now`` dates the messages written. ``work`` runs as a unit of work
        (``Database.run``): on SQLite in the database connection's thread, so it must not
        touch the event loop, and the whole transaction is one hand-off to that thread.
        Listeners of the store hear about the mailboxes written once the commit is done.
        """

        def unit(connection: Connection) -> tuple[Answering, T]:
            answering = Answering(self._store, connection, now)
            result = work(answering)
            answering.write_pending()
            return answering, result

        answering, result = await self._store.database.run(unit, write=True)
        if answering.touched or answering.relayed:
            self._store.notify(Change(frozenset(answering.touched), relayed=answering.relayed))
        return result


@dataclass(slots=True)
class _HeldMonth:
    """A channel month locked by the answering transaction: the row as its first
    declaration found it (already counted in the store), and what was added since."""

    first: ledgers.ChannelMonth
    numbered: int = 0
    base: int = 0
    red: int = 0
    mandatory_red: int = 0

    def now(self) -> ledgers.ChannelMonth:
        """The month with this transaction's declarations so far."""
        first = self.first
        return ledgers.ChannelMonth(
            first.red_limit,
            first.numbered + 1 + self.numbered,
            first.base + self.base,
            first.red + self.red,
            first.mandatory_red + self.mandatory_red,
        )


class Answering(FactReader):
    """Operations inside the answering transaction (see ``JobQueue.answer``): statements on
    its connection, in the database's thread.

    It answers the questions of a ``FactReader`` too, seeing the transaction's own writes
    (the answers it recorded, the control documents and imports it wrote). Core statements,
    built once: a job takes a dozen and this transaction holds the store's only writer.
    """

    def __init__(self, store: Store, connection: Connection, now: datetime) -> None:
        super().__init__(connection)
        self._store = store
        self.now = now
        self.touched: set[tuple[str, str]] = set()
        self.relayed = False
        self._answers: dict[tuple[str, str], RecordedAnswer | None] = {}
        self._filings: dict[tuple[str, str], list[int]] = {}
        self._done: list[int] = []
        self._new_answers: list[tuple[object, ...]] = []  # in _INSERT_ANSWER's columns
        self._contents: list[tuple[int, bytes, int, datetime]] = []  # _INSERT_CONTENT
        self._next_content_id: int | None = None  # SQLite
        self._content_ids: list[int] = []  # PostgreSQL: taken from the sequence, not used yet
        # Rows this transaction has locked with its first statement on them; later uses
        # count here and are written once, in ``write_pending`` (see ``next_correlative``).
        self._series: dict[tuple[str, int, str], list[int]] = {}  # [last taken, last written]
        self._months: dict[ledgers.MonthKey, _HeldMonth] = {}

    def pending_among(self, job_ids: Collection[int]) -> set[int]:
        """Which of ``job_ids`` still wait for their answer (an earlier attempt may have
        committed one after all)."""
        if not job_ids:
            return set()
        statement, ids = _pending_among(list(job_ids))
        return {row[0] for row in execute(self._connection, statement, ids)}

    def prefetch_answers(self, keys: Collection[tuple[str, str]]) -> None:
        """Look up the answers on file for many (agent code, reference) pairs at once."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self._answers]
        if wanted:
            self._answers.update(answers_on_file(self._connection, wanted))

    def recorded_answers(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], RecordedAnswer | None]:
        """The answers on file for (agent code, reference) pairs, this transaction's own
        included."""
        self.prefetch_answers(keys)
        return {key: self._answers[key] for key in keys}

    def recorded_answer(self, agent_code: str, agent_reference: str) -> RecordedAnswer | None:
        key = (agent_code, agent_reference)
        if key not in self._answers:
            row = self._connection.execute(
                _ANSWER, {"agent": agent_code, "reference": agent_reference}
            ).one_or_none()
            self._answers[key] = None if row is None else recorded_answer(row)
        return self._answers[key]

    def next_correlative(self, office_code: str, year: int, regime: str) -> int:
        """Take the next number of the office's series for that year and regime (1, 2, ...).

        One statement, ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the series' first
        number creates its row, every later one increments it, and the row stays locked
        until the commit. Two transactions taking the first number of a new series at once
        no longer collide on the key (the second waits for the first, then increments).
        """
        series = (office_code, year, regime)
        held = self._series.get(series)
        if held is not None:  # the row is locked by this transaction since its first number
            held[0] += 1
            return held[0]
        take = _TAKE_NUMBER[self._connection.dialect.name]
        values = {"office_code": office_code, "year": year, "regime": regime, "last": 1}
        (row,) = execute(self._connection, take, values)
        taken = int(row[0])
        self._series[series] = [taken, taken]
        return taken

    def deliver(self, owner: str, folder: str, raw: bytes) -> int:
        """File a new message in ``owner``'s ``folder``; returns its content id."""
        (content_id,) = self.deliver_all([(owner, folder, raw)])
        return content_id

    def deliver_all(self, mails: Sequence[tuple[str, str, bytes]]) -> list[int]:
        """File several new messages, each (owner, folder, raw), with one statement; their
        content ids, in order (an acceptance's reply and office copy)."""
        # The ids are taken here and every content of the transaction is written in one
        # statement at its end (``write_pending``): not two statements per acceptance.
        content_ids = self._take_content_ids(len(mails))
        now = self.now
        for (owner, folder, raw), content_id in zip(mails, content_ids, strict=True):
            raw = canonical_line_ends(raw)
            self._contents.append((content_id, raw, len(raw), now))
            self.redeliver(owner, folder, content_id)
        return content_ids

    def _take_content_ids(self, count: int) -> list[int]:
        """``count`` new content ids. SQLite's single writer is this transaction's until it
        ends: the ids follow the highest, read once. PostgreSQL's come from the table's
        sequence, a few dozen at a time (those left unused are a gap, as a rollback leaves)."""
        if self._store.database.is_sqlite:
            if self._next_content_id is None:
                self._next_content_id = (scalar(self._connection, _HIGHEST_CONTENT_ID) or 0) + 1
            first = self._next_content_id
            self._next_content_id += count
            return list(range(first, first + count))
        if len(self._content_ids) < count:
            wanted = max(count, _CONTENT_IDS_TAKEN) - len(self._content_ids)
            self._content_ids += sorted(
                self._connection.scalars(_NEXT_CONTENT_IDS, {"count": wanted})
            )
        taken, self._content_ids = self._content_ids[:count], self._content_ids[count:]
        return taken

    def redeliver(self, owner: str, folder: str, content_id: int) -> None:
        """File an existing message (by content id) in ``owner``'s ``folder`` once more."""
        self._filings.setdefault((owner, folder), []).append(content_id)
        self.touched.add((owner, folder))

    def write_pending(self) -> None:
        """Write what is gathered for the end of the transaction: filings, answers, jobs done.

        UIDs are taken once per mailbox for all its new messages, and the messages, new
        answers and job states written in one statement each, not a few per message. On
        PostgreSQL all of it is one statement (``answer_statement``): one round trip from
        the event loop, not seven or more, each waiting its turn.
        """
        filings, self._filings = self._filings, {}
        local, relays = self._routed(filings)
        if self._store.database.is_sqlite:
            self._write_apart(local)
        else:
            self._write_together(local)
        if relays:  # after the contents they refer to
            self._connection.execute(insert(RelayRow), relays)

    def _write_apart(self, local: dict[tuple[str, str], list[int]]) -> None:
        """SQLite: a statement for each part (the transaction runs whole in the database's
        thread, where a statement costs no round trip)."""
        connection = self._connection
        self._write_contents()
        wanted = {key: len(ids) for key, ids in local.items()}
        self._file(local, modseq.reserve_unseen(connection, wanted))
        for office, year, regime, taken in self._held_numbers():
            values = {"office": office, "in_year": year, "in_regime": regime, "taken": taken}
            execute(connection, _SET_NUMBER, values)
        for month in self._held_months():
            ledgers.add_to_month(
                connection,
                month.key,
                numbered=month.numbered,
                base=month.base,
                red=month.red,
                mandatory_red=month.mandatory_red,
            )
        answers, self._new_answers = self._new_answers, []
        _INSERT_ANSWER.run(connection, answers)
        done, self._done = self._done, []
        if done:
            statement, ids = _done(done)
            execute(connection, statement, {**ids, "now": self.now})

    def _write_together(self, local: dict[tuple[str, str], list[int]]) -> None:
        """PostgreSQL: one statement (``answer_statement``); then the filings of mailboxes
        not created yet, which it leaves out, each mailbox created as it is filed in."""
        contents, self._contents = self._contents, []
        end = answer_statement.AnswerEnd(
            now=self.now,
            contents=[(content_id, raw) for content_id, raw, _, _ in contents],
            filings=local,
            numbers=self._held_numbers(),
            months=self._held_months(),
            answers=self._new_answers,
            done=self._done,
        )
        self._new_answers, self._done = [], []
        missing = answer_statement.write(self._connection, end)
        self._file({key: local[key] for key in missing}, {})

    def _routed(
        self, filings: dict[tuple[str, str], list[int]]
    ) -> tuple[dict[tuple[str, str], list[int]], list[dict[str, object]]]:
        """The filings in this node's mailboxes, and the relays of the others (e.g. an
        agent homed on another node: the reply is relayed there)."""
        routes = self._store.routing.current
        local: dict[tuple[str, str], list[int]] = {}
        relays: list[dict[str, object]] = []
        for (owner, folder), content_ids in filings.items():
            node = routes.remote_node(owner)
            if node is None:
                local[(owner, folder)] = content_ids
                continue
            self.touched.discard((owner, folder))
            self.relayed = True
            relays += [relay_entry(c, "", owner, node, self.now) for c in content_ids]
        return local, relays

    def _file(
        self,
        filings: dict[tuple[str, str], list[int]],
        taken: Mapping[tuple[str, str], tuple[int, modseq.Reserved]],
    ) -> None:
        """File contents in this node's mailboxes, with the UIDs ``taken`` for them
        (``modseq.reserve_unseen``); a mailbox missing from ``taken`` is created."""
        connection = self._connection
        now = self.now
        rows: list[tuple[object, ...]] = []
        for (owner, folder), content_ids in filings.items():
            found = taken.get((owner, folder))
            if found is None:
                found = reserve_uids(connection, owner, folder, len(content_ids), now)
            mailbox_id, reserved = found
            stamp = reserved.modseq
            rows += [
                (mailbox_id, uid, content_id, now, "", stamp)
                for uid, content_id in zip(
                    reserved.uids(len(content_ids)), content_ids, strict=True
                )
            ]
        _INSERT_FILED.run(connection, rows)

    def _write_contents(self) -> None:
        """The contents delivered so far (gathered by ``deliver_all``): written before any
        row that refers to them."""
        contents, self._contents = self._contents, []
        _INSERT_CONTENT.run(self._connection, contents)

    def _held_numbers(self) -> list[tuple[str, int, str, int]]:
        """The series whose numbers were taken since their rows were locked: (office, year,
        regime, last number taken), to be written."""
        series, self._series = self._series, {}
        return [
            (office, year, regime, taken)
            for (office, year, regime), (taken, written) in series.items()
            if taken != written
        ]

    def _held_months(self) -> list[answer_statement.MonthAdded]:
        """What was added to each month since its row was locked, to be written."""
        months, self._months = self._months, {}
        return [
            answer_statement.MonthAdded(
                key, month.numbered, month.base, month.red, month.mandatory_red
            )
            for key, month in months.items()
            if month.numbered or month.base or month.red or month.mandatory_red
        ]

    def record_answer(
        self,
        *,
        job: AnsweredJob,
        agent_code: str,
        agent_reference: str,
        document_type: str,
        regime: str,
        office_code: str,
        status: DeclarationStatus,
        reply_content_id: int,
        number: str | None = None,
        channel: str | None = None,
        document_digest: str | None = None,
    ) -> None:
        """Remember the answer for (agent, reference), replacing a rejection on file.

        An accepted answer is final: recording over it is a programming error.
        """
        on_file = self.recorded_answer(agent_code, agent_reference)
        if on_file is not None and on_file.status is DeclarationStatus.ACCEPTED:
            raise ValueError(
                f"{agent_code}/{agent_reference} was already accepted as {on_file.number}"
            )
        values = (
            document_type,
            regime,
            office_code,
            status.value,
            number,
            channel,
            reply_content_id,
            job.id,
            job.received_at,
            self.now,
            document_digest,
        )
        if on_file is None:
            self._new_answers.append((agent_code, agent_reference, *values))
        else:
            self._write_contents()  # the reply it now refers to
            self._connection.execute(
                update(DeclarationRow)
                .where(
                    DeclarationRow.agent_code == agent_code,
                    DeclarationRow.agent_reference == agent_reference,
                )
                .values(dict(zip(_ANSWER_VALUES, values, strict=True)))
            )
        self._answers[(agent_code, agent_reference)] = RecordedAnswer(
            status=status,
            number=number,
            channel=channel,
            reply_content_id=reply_content_id,
            received_at=job.received_at,
            document_digest=document_digest,
        )

    def mark_done(self, job_id: int) -> None:
        """The job is answered (written with the others at the end of the transaction)."""
        self._done.append(job_id)

    def handed_over(self, office: str) -> bool:
        """Whether this node has handed ``office``'s numbering to another node since it last
        received it: from then on, a late job of the office must not be numbered here."""
        last = {
            direction: int(serial)
            for direction, serial in self._connection.execute(_HANDOVERS, {"office": office})
        }
        return "sent" in last and last["sent"] > last.get("received", 0)

    def forward(self, job: IntakeJob, node: str) -> None:
        """Relay the job's submission, as received, to ``node`` instead of answering it here.

        For a job whose office moved to ``node`` after its RCPT was accepted here: once this
        node has handed the office's numbering over, numbering it here would repeat a number.
        """
        content_id = self._connection.scalar(_JOB_CONTENT_ID, {"job": job.id})
        assert content_id is not None
        self._connection.execute(
            insert(RelayRow).values(
                **relay_entry(content_id, job.sender, job.recipient, node, self.now)
            )
        )
        self.relayed = True
        self._done.append(job.id)

    def mark_failed(self, job_id: int, error: str) -> None:
        """The job is given up: it stays answered as failed, with why."""
        self._connection.execute(
            _FAILED, {"job": job_id, "now": self.now, "why": error[:MAX_ERROR_LENGTH]}
        )

    # region what numbering leaves behind (``mailboxes.dispatch_history``, ``mailboxes.ledgers``)

    def record_control_documents(
        self,
        keys: Iterable[dispatch_history.ControlDocumentKey],
        *,
        declaration_number: str,
        office: str,
        used_at: datetime,
    ) -> None:
        dispatch_history.record_control_documents(
            self._connection,
            keys,
            declaration_number=declaration_number,
            office=office,
            used_at=used_at,
        )

    def record_pending_regularization(
        self,
        *,
        declaration_number: str,
        office: str,
        party: tuple[str, str],
        kind: dispatch_history.PendingKind,
        due_on: date,
    ) -> None:
        dispatch_history.record_pending_regularization(
            self._connection,
            declaration_number=declaration_number,
            office=office,
            party=party,
            kind=kind,
            due_on=due_on,
        )

    def take_channel_month(
        self,
        key: ledgers.MonthKey,
        *,
        previous: tuple[datetime, datetime],
        limit_from: Callable[[int], str],
    ) -> ledgers.ChannelMonth:
        """Count a numbered declaration in its month, the row locked until the commit; the
        month as it was before this declaration.

        Only a month's first declaration in the transaction reads and locks its row; the
        others are counted here and written once, at the end (``write_pending``).
        """
        held = self._months.get(key)
        if held is None:
            month = ledgers.take_month(self._connection, key, previous, limit_from)
            self._months[key] = _HeldMonth(month)
            return month
        before = held.now()
        held.numbered += 1
        return before

    def count_channel(
        self, key: ledgers.MonthKey, *, base: int = 0, red: int = 0, mandatory_red: int = 0
    ) -> None:
        """Add a declaration's channel to its month (taken with ``take_channel_month``)."""
        held = self._months.get(key)
        if held is None:
            ledgers.count_channel(
                self._connection, key, base=base, red=red, mandatory_red=mandatory_red
            )
            return
        held.base += base
        held.red += red
        held.mandatory_red += mandatory_red

    def record_import(
        self,
        *,
        number: str,
        office: str,
        doc_type: str,
        doc_number: str,
        year: int,
        fob_cents: int,
        received_at: datetime,
    ) -> None:
        ledgers.record_import(
            self._connection,
            {
                "number": number,
                "office_code": office,
                "party_doc_type": doc_type,
                "party_doc_number": doc_number,
                "year": year,
                "fob_cents": fob_cents,
                "received_at": received_at,
            },
        )

    # endregion


def _pending_among(ids: Sequence[int]) -> tuple[Executable, dict[str, int]]:
    bound = parameters(ids, "id")
    return _pending_among_statement(len(bound)), bound


@cache
def _pending_among_statement(size: int) -> Executable:
    """The jobs among ``size`` ids that still wait (built once per size: ``fixed_lists``)."""
    return (
        select(IntakeJobRow.id)
        .where(
            IntakeJobRow.id.in_(placeholders(size, "id")),
            IntakeJobRow.state == JobState.PENDING.value,
        )
        # Locked until the commit: a second worker that claimed the same job waits here,
        # then sees it done (PostgreSQL re-checks the condition) and does not answer twice.
        .with_for_update(of=IntakeJobRow)
    )


def _done(ids: Sequence[int]) -> tuple[Executable, dict[str, int]]:
    bound = parameters(ids, "id")
    return _done_statement(len(bound)), bound


@cache
def _done_statement(size: int) -> Executable:
    """``size`` jobs marked done (built once per size: ``fixed_lists``)."""
    return (
        update(IntakeJobRow)
        .where(IntakeJobRow.id.in_(placeholders(size, "id")))
        .values(state=JobState.DONE.value, finished_at=bindparam("now"), error=None)
    )


_CONTENT_IDS_TAKEN = 32
"""Content ids a transaction takes at once (an acceptance uses two)."""
_HIGHEST_CONTENT_ID = select(func.max(MessageContentRow.id))
_NEXT_CONTENT_IDS = select(
    func.nextval(func.pg_get_serial_sequence(MessageContentRow.__tablename__, "id"))
).select_from(func.generate_series(1, bindparam("count")))


_INSERT_CONTENT = Insert(MessageContentRow, ("id", "raw", "size", "created_at"))
_INSERT_FILED = Insert(
    MailboxMessageRow,
    ("mailbox_id", "uid", "content_id", "internal_date", "flags", "modseq"),
)
_ANSWER_VALUES = (
    "document_type",
    "regime",
    "office_code",
    "status",
    "number",
    "channel",
    "reply_content_id",
    "job_id",
    "received_at",
    "answered_at",
    "document_digest",
)
_INSERT_ANSWER = Insert(DeclarationRow, ("agent_code", "agent_reference", *_ANSWER_VALUES))
_ANSWER = select(*ANSWER_COLUMNS).where(
    DeclarationRow.agent_code == bindparam("agent"),
    DeclarationRow.agent_reference == bindparam("reference"),
)
_TAKE_NUMBER = {
    dialect.__name__.rpartition(".")[2]: dialect.insert(DeclarationCounterRow)
    .on_conflict_do_update(
        index_elements=["office_code", "year", "regime"],
        set_={"last": DeclarationCounterRow.last + 1},
    )
    .returning(DeclarationCounterRow.last)
    for dialect in (postgresql, sqlite)
}
_SET_NUMBER = (
    update(DeclarationCounterRow)
    .where(
        DeclarationCounterRow.office_code == bindparam("office"),
        DeclarationCounterRow.year == bindparam("in_year"),
        DeclarationCounterRow.regime == bindparam("in_regime"),
    )
    .values(last=bindparam("taken"))
)
_FAILED = (
    update(IntakeJobRow)
    .where(IntakeJobRow.id == bindparam("job"))
    .values(state=JobState.FAILED.value, finished_at=bindparam("now"), error=bindparam("why"))
)
_HANDOVERS = (
    select(OfficeHandoverRow.direction, func.max(OfficeHandoverRow.serial))
    .where(OfficeHandoverRow.office_code == bindparam("office"))
    .group_by(OfficeHandoverRow.direction)
)
_JOB_CONTENT_ID = select(IntakeJobRow.content_id).where(IntakeJobRow.id == bindparam("job"))
