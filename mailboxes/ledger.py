"""Read-only views of the declarations and intake jobs, for the HTTP API and the console.

The pipeline writes these tables (``mailboxes.jobs``); this module only reads them, each
method one short read transaction (a unit of work on ``Database.run``: one hand-off to the
database thread on SQLite, where the rows are also turned into values), and hands out plain
values. Who may see what is the caller's decision, expressed as a ``Scope`` passed in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, Select, bindparam, case, func, or_, select

from mailboxes.bound_lists import one_of
from mailboxes.database import Work
from mailboxes.modseq import chunks
from mailboxes.schema import (
    ChannelMonthRow,
    DeclarationRow,
    IntakeJobRow,
    JobState,
    MessageContentRow,
    RelayRow,
)
from mailboxes.sql_time import seconds_between, utc_day, utc_month
from mailboxes.store import Store

__all__ = [
    "DeclarationEntry",
    "DeclarationFilter",
    "JobEntry",
    "Ledger",
    "OfficeLoad",
    "RedShare",
    "RelayDepth",
    "Scope",
    "Statistics",
]

MAX_LIST = 500

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scope:
    """What a reader may see: everything, one office's declarations, or one agent's.

    An agent is known by its address (its intake jobs' sender) and its agent code (the
    declarations it signed).
    """

    office_code: str | None = None
    agent_address: str | None = None
    agent_code: str | None = None
    everything: bool = False


@dataclass(frozen=True, slots=True)
class DeclarationEntry:
    id: int
    agent_code: str
    agent_reference: str
    document_type: str
    regime: str
    office_code: str
    status: str
    number: str | None
    channel: str | None
    job_id: int
    received_at: datetime
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class JobEntry:
    id: int
    office_code: str
    sender: str
    state: str
    received_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class RedShare:
    """One office's month and regime: how many were numbered, how many of those in the
    percentage went red, and the limit fixed for the month (``at_most:0.15``...)."""

    office_code: str
    month: str
    regime: str
    red_limit: str
    numbered: int
    base: int
    red: int
    mandatory_red: int


@dataclass(frozen=True, slots=True)
class RelayDepth:
    node: str
    count: int
    oldest: datetime | None
    attempts: int


@dataclass(frozen=True, slots=True)
class OfficeLoad:
    """One office at a glance: its intake queue and the declarations answered for it."""

    office_code: str
    pending: int = 0
    oldest: datetime | None = None
    accepted: int = 0
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class DeclarationFilter:
    status: str | None = None
    channel: str | None = None
    agent_code: str | None = None
    reference: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def _entry(row: Row[Any]) -> DeclarationEntry:
    return DeclarationEntry(
        id=row.id,
        agent_code=row.agent_code,
        agent_reference=row.agent_reference,
        document_type=row.document_type,
        regime=row.regime,
        office_code=row.office_code,
        status=row.status,
        number=row.number,
        channel=row.channel,
        job_id=row.job_id,
        received_at=row.received_at,
        answered_at=row.answered_at,
    )


def _job(row: Row[Any]) -> JobEntry:
    return JobEntry(
        id=row.id,
        office_code=row.office_code,
        sender=row.sender,
        state=row.state,
        received_at=row.received_at,
        finished_at=row.finished_at,
    )


_declarations = DeclarationRow.__table__
_jobs = IntakeJobRow.__table__


def _scoped_declarations(scope: Scope) -> Select[Any]:
    query = select(_declarations)
    if scope.everything:
        return query
    if scope.office_code is not None:
        return query.where(DeclarationRow.office_code == scope.office_code)
    if scope.agent_code is not None:
        return query.where(DeclarationRow.agent_code == scope.agent_code)
    return query.where(DeclarationRow.id < 0)  # sees nothing


def _scoped_jobs(scope: Scope) -> Select[Any]:
    query = select(_jobs)
    if scope.everything:
        return query
    if scope.office_code is not None:
        return query.where(IntakeJobRow.office_code == scope.office_code)
    if scope.agent_address is not None:
        return query.where(IntakeJobRow.sender == scope.agent_address)
    return query.where(IntakeJobRow.id < 0)


_RELAY_DEPTHS = (
    select(
        RelayRow.node,
        func.count(RelayRow.id),
        func.min(RelayRow.created_at),
        func.max(RelayRow.attempts),
    )
    .group_by(RelayRow.node)
    .order_by(RelayRow.node)
)

_REPLY = (
    select(MessageContentRow.raw)
    .join(DeclarationRow, DeclarationRow.reply_content_id == MessageContentRow.id)
    .where(DeclarationRow.id == bindparam("key"))
)

_SUBMISSION = (
    select(MessageContentRow.raw)
    .join(IntakeJobRow, IntakeJobRow.content_id == MessageContentRow.id)
    .where(IntakeJobRow.id == bindparam("key"))
)

_RED_SHARES = select(ChannelMonthRow.__table__).order_by(
    ChannelMonthRow.year.desc(), ChannelMonthRow.month.desc(), ChannelMonthRow.office_code
)


def _aware(moment: Any) -> Any:
    """SQLite's aggregates lose the column's type: a naive UTC datetime comes back."""
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Ledger:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def _read(self, work: Work[T]) -> T:
        return await self.store.database.run(work)

    async def declarations(
        self, scope: Scope, wanted: DeclarationFilter | None = None
    ) -> list[DeclarationEntry]:
        """Newest first, at most ``wanted.limit`` (capped at ``MAX_LIST``)."""
        wanted = wanted or DeclarationFilter()
        query = _scoped_declarations(scope)
        if wanted.status:
            query = query.where(DeclarationRow.status == wanted.status)
        if wanted.channel:
            query = query.where(DeclarationRow.channel == wanted.channel)
        if wanted.agent_code:
            query = query.where(DeclarationRow.agent_code == wanted.agent_code)
        if wanted.reference:
            query = query.where(
                or_(
                    DeclarationRow.agent_reference == wanted.reference,
                    DeclarationRow.number == wanted.reference,
                )
            )
        if wanted.since is not None:
            query = query.where(DeclarationRow.received_at >= wanted.since)
        if wanted.until is not None:
            query = query.where(DeclarationRow.received_at < wanted.until)
        newest = query.order_by(DeclarationRow.answered_at.desc(), DeclarationRow.id.desc())
        limited = newest.limit(max(1, min(wanted.limit, MAX_LIST)))
        return await self._read(partial(_entries, limited))

    async def find(self, scope: Scope, key: str) -> DeclarationEntry | None:
        """The declaration whose agent reference or number is ``key``, as ``scope`` sees it."""
        found = await self.declarations(scope, DeclarationFilter(reference=key, limit=1))
        return found[0] if found else None

    async def of_job(self, scope: Scope, job_id: int) -> list[DeclarationEntry]:
        query = _scoped_declarations(scope).where(DeclarationRow.job_id == job_id)
        return await self._read(partial(_entries, query.order_by(DeclarationRow.id)))

    async def job(self, scope: Scope, job_id: int) -> JobEntry | None:
        query = _scoped_jobs(scope).where(IntakeJobRow.id == job_id)

        def read(connection: Connection) -> JobEntry | None:
            row = connection.execute(query).first()
            return None if row is None else _job(row)

        return await self._read(read)

    async def jobs(self, scope: Scope, job_ids: Collection[int]) -> list[JobEntry]:
        """Those of the jobs ``job_ids`` that ``scope`` sees, in id order: one statement per
        few hundred, where a live feed asked for each job of a burst apart."""
        query = _scoped_jobs(scope).where(one_of(IntakeJobRow.id, "ids")).order_by(IntakeJobRow.id)

        def read(connection: Connection) -> list[JobEntry]:
            return [
                _job(row)
                for chunk in chunks(job_ids)
                for row in connection.execute(query, {"ids": chunk})
            ]

        return await self._read(read)

    async def pending_jobs(self, scope: Scope, *, limit: int = 100) -> list[JobEntry]:
        query = (
            _scoped_jobs(scope)
            .where(IntakeJobRow.state == JobState.PENDING.value)
            .order_by(IntakeJobRow.id)
            .limit(limit)
        )

        def read(connection: Connection) -> list[JobEntry]:
            return [_job(row) for row in connection.execute(query)]

        return await self._read(read)

    async def queue_depth(self, scope: Scope) -> tuple[int, datetime | None]:
        """How many intake jobs wait, and when the oldest of them arrived."""
        query = (
            _scoped_jobs(scope)
            .where(IntakeJobRow.state == JobState.PENDING.value)
            .with_only_columns(func.count(IntakeJobRow.id), func.min(IntakeJobRow.received_at))
        )

        def read(connection: Connection) -> tuple[int, datetime | None]:
            count, oldest = connection.execute(query).one()
            return int(count or 0), _aware(oldest)

        return await self._read(read)

    async def office_loads(self, scope: Scope) -> dict[str, OfficeLoad]:
        """Per office with anything to show: queue depth and oldest arrival, and how many
        declarations were accepted and rejected (two grouped reads, not one per office)."""
        queued = (
            _scoped_jobs(scope)
            .where(IntakeJobRow.state == JobState.PENDING.value)
            .with_only_columns(
                IntakeJobRow.office_code,
                func.count(IntakeJobRow.id),
                func.min(IntakeJobRow.received_at),
            )
            .group_by(IntakeJobRow.office_code)
        )
        answered = (
            _scoped_declarations(scope)
            .with_only_columns(
                DeclarationRow.office_code, DeclarationRow.status, func.count(DeclarationRow.id)
            )
            .group_by(DeclarationRow.office_code, DeclarationRow.status)
        )

        def read(connection: Connection) -> dict[str, OfficeLoad]:
            waiting = {code: (int(n), _aware(at)) for code, n, at in connection.execute(queued)}
            counts = Counter[tuple[str, str]]()
            for code, status, n in connection.execute(answered):
                counts[code, status] += int(n)
            codes = set(waiting) | {code for code, _ in counts}
            return {
                code: OfficeLoad(
                    code,
                    *waiting.get(code, (0, None)),
                    accepted=counts[code, "accepted"],
                    rejected=counts[code, "rejected"],
                )
                for code in codes
            }

        return await self._read(read)

    async def relay_queue(self) -> list[RelayDepth]:
        """Messages waiting for relay, per peer node: count, oldest, most attempts."""

        def read(connection: Connection) -> list[RelayDepth]:
            return [
                RelayDepth(node, int(count), _aware(oldest), int(attempts or 0))
                for node, count, oldest, attempts in connection.execute(_RELAY_DEPTHS)
            ]

        return await self._read(read)

    async def red_shares(self, scope: Scope, *, months: int = 12) -> list[RedShare]:
        """The monthly red-share state the pipeline keeps (seed 004 VII.A.45), newest first."""
        query = _RED_SHARES
        if not scope.everything:
            if scope.office_code is None:
                return []
            query = query.where(ChannelMonthRow.office_code == scope.office_code)
        query = query.limit(months * 4)

        def read(connection: Connection) -> list[RedShare]:
            return [
                RedShare(
                    office_code=row.office_code,
                    month=f"{row.year:04d}-{row.month:02d}",
                    regime=row.regime,
                    red_limit=row.red_limit,
                    numbered=row.numbered,
                    base=row.base,
                    red=row.red,
                    mandatory_red=row.mandatory_red,
                )
                for row in connection.execute(query)
            ]

        return await self._read(read)

    async def reply(self, declaration_id: int) -> bytes:
        """The reply mail last given to a declaration."""
        return await self._content(_REPLY, declaration_id)

    async def submission(self, job_id: int) -> bytes:
        """The mail a job was queued for (the agent's original submission)."""
        return await self._content(_SUBMISSION, job_id)

    async def _content(self, query: Select[Any], key: int) -> bytes:
        """The stored mail ``query`` finds for ``key``; ``KeyError`` if there is none."""

        def read(connection: Connection) -> bytes | None:
            raw = connection.execute(query, {"key": key}).scalar()
            return None if raw is None else bytes(raw)

        raw = await self._read(read)
        if raw is None:
            raise KeyError(key)
        return raw

    async def statistics(
        self, scope: Scope, since: datetime, latency_edges: Sequence[float]
    ) -> Statistics:
        """Counts for the console's charts, from the declarations received since ``since``;
        ``latency_edges``: the upper bounds, in seconds and ascending, of the answer times'
        buckets.

        The database groups them (``sql_time``), so the page reads a few hundred rows at
        most whatever the number of declarations: read one by one into Python, 100 000 took
        1.2 s, and on PostgreSQL held the event loop half a second of it.
        """
        recent = _scoped_declarations(scope).where(DeclarationRow.received_at >= since)
        day = utc_day(DeclarationRow.received_at)
        rejected = case((DeclarationRow.status == "rejected", 1), else_=0)
        per_day = recent.with_only_columns(day, func.count(), func.sum(rejected)).group_by(day)
        month = utc_month(DeclarationRow.received_at)
        per_channel = recent.with_only_columns(
            month, DeclarationRow.channel, func.count()
        ).group_by(month, DeclarationRow.channel)
        took = seconds_between(DeclarationRow.received_at, DeclarationRow.answered_at)
        bucket = case(
            *((took <= edge, index) for index, edge in enumerate(latency_edges)),
            else_=len(latency_edges),
        )
        timed = recent.with_only_columns(bucket.label("bucket")).subquery()
        per_bucket = select(timed.c.bucket, func.count()).group_by(timed.c.bucket)

        def read(connection: Connection) -> Statistics:
            stats = Statistics(answers_within=[0] * (len(latency_edges) + 1))
            for when, count, refused in connection.execute(per_day):
                stats.per_day[when] = count
                if refused:
                    stats.rejected_per_day[when] = int(refused)
            for when, channel, count in connection.execute(per_channel):
                if channel is not None:  # a rejection has none
                    stats.channels[when, channel] = count
            for index, count in connection.execute(per_bucket):
                stats.answers_within[index] = count
            return stats

        return await self._read(read)


def _entries(query: Select[Any], connection: Connection) -> list[DeclarationEntry]:
    return [_entry(row) for row in connection.execute(query)]


@dataclass(slots=True)
class Statistics:
    """Declarations and rejections per day, channels per month, answers per time bucket."""

    per_day: Counter[str] = field(default_factory=Counter)
    """By UTC day, ``YYYY-MM-DD``."""
    rejected_per_day: Counter[str] = field(default_factory=Counter)
    channels: Counter[tuple[str, str]] = field(default_factory=Counter)
    """By UTC month (``YYYY-MM``) and channel, the numbered declarations."""
    answers_within: list[int] = field(default_factory=list)
    """How many answers came within each of the edges asked for, the first that holds them;
    the last count: after the last edge."""
