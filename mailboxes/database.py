"""Engines for the store.

SQLite allows one writer at a time. Rather than letting concurrent transactions collide and
retry, every write goes through a single connection that opens ``BEGIN IMMEDIATE``, so
writers queue in the pool instead of failing with "database is locked" half-way through;
readers use their own pool and see the last committed state (WAL). Commits are synchronous
(``synchronous=FULL``): a committed transaction survives a crash or a power cut.
PostgreSQL needs none of this and uses one engine for both.

``run`` is how the store's own operations reach the database: a unit of work written as a
plain function of a synchronous SQLAlchemy ``Connection``, run as one transaction. On
SQLite the whole function runs in the thread that owns the pooled connection (aiosqlite's),
so a read or a delivery is one hand-off between the event loop and that thread, not two or
three per statement; on PostgreSQL it runs on the loop (asyncpg has no thread to reach),
each statement a network round trip as before. Every operation of the store goes through
``run``; the session factories and ``read`` remain for tests and tools that look at rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection, QueuePool, StaticPool

__all__ = ["Database", "Work", "store_location"]

T = TypeVar("T")

Work = Callable[[Connection], T]
"""A unit of work: statements on a synchronous connection, inside one transaction."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """A reader and a writer engine with their session factories."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        file = make_url(url).database if self.is_sqlite else None
        self._directory = (
            os.path.dirname(os.path.abspath(file)) if file and file != ":memory:" else None
        )
        """The folder of SQLite's file (``free_bytes``); None for a server, or in memory."""
        if self.is_sqlite:
            # Every use of a pooled connection ends its own transaction (sessions and
            # connections close theirs, ``run`` its own in the thread), so the pool's
            # rollback on return would only cost one more hand-off to the thread.
            self.writer = create_async_engine(
                url,
                poolclass=AsyncAdaptedQueuePool,
                pool_size=1,
                max_overflow=0,
                pool_timeout=60,
                pool_reset_on_return=None,
            )
            self.reader = create_async_engine(
                url, pool_size=8, max_overflow=8, pool_reset_on_return=None
            )
            for engine in (self.writer, self.reader):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.writer.sync_engine, "begin", _begin_immediate)
            event.listen(self.reader.sync_engine, "begin", _begin_deferred)
        else:
            # Named, not left to the server's default: the answering transaction relies on
            # it (a job locked by another worker is seen done once that commits), and so do
            # reads without a transaction block (``run``).
            self.writer = self.reader = create_async_engine(
                url, pool_size=10, max_overflow=10, isolation_level="READ COMMITTED"
            )
        self.write_session = async_sessionmaker(self.writer, expire_on_commit=False)
        self.read_session = async_sessionmaker(self.reader, expire_on_commit=False)
        self._lent: weakref.WeakKeyDictionary[Any, _Lent] = weakref.WeakKeyDictionary()
        self._lanes: list[_Lane] = []
        self._opening_lanes = 0
        self._writing: _Lane | None = None
        """The writer's pooled connection while writes follow one another (``_write``)."""

    def free_bytes(self) -> int | None:
        """Bytes free on the disk of SQLite's file (to an unprivileged user); None for a
        database whose disk is not this node's to see (a server, or in memory)."""
        if self._directory is None:
            return None
        stat = os.statvfs(self._directory)
        return stat.f_bavail * stat.f_frsize

    async def run(self, work: Work[T], *, write: bool = False, one_statement: bool = False) -> T:
        """``work(connection)`` as one transaction; its result (plain values, not rows).

        ``write``: on the single writer (SQLite: ``BEGIN IMMEDIATE``, queued behind the
        other writers); otherwise on a reader, which sees the last commit. On SQLite the
        function runs in the database connection's thread: it must not touch the event
        loop, and everything it computes there stays off the loop.

        ``one_statement``: ``work`` runs a single statement, a transaction by itself. On
        PostgreSQL it then runs without ``BEGIN`` and ``COMMIT``: one round trip, not three.

        A read on PostgreSQL runs without them too. Each of its statements sees what was
        committed when it began, as it would inside a transaction at ``READ COMMITTED`` (the
        engine's level): a read loses nothing by it and saves two round trips from the event
        loop (claims and facts run several a second).
        """
        engine = self.writer if write else self.reader
        if not self.is_sqlite:
            async with engine.connect() as connection:
                if one_statement or not write:
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                    return await connection.run_sync(work)
                return await connection.run_sync(_transaction, work)
        if not write:
            lane = await self._lane()
            lane.queued += 1
            try:
                result: T = await lane.driver._execute(lane.lent.run, work)
                return result
            finally:
                lane.queued -= 1
        return await self._write(work)

    async def _write(self, work: Work[T]) -> T:
        """``work`` on the single writer (SQLite), queued on its connection's thread.

        The pooled connection is checked out for a run of writes, not for each: a write
        that comes while one is queued or running (or in the same turn of the event loop
        as the last one ended) queues behind it on the same thread, as it would behind
        the pool; the connection goes back to the pool at the first turn with no write,
        for the sessions that share it. A check-out and check-in cost as much CPU as the
        hand-off to the thread, for every intake batch and every answer.
        """
        lane = self._writing
        if lane is None:
            pooled = await self.writer.raw_connection()
            driver: Any = pooled.driver_connection  # the aiosqlite connection, its thread
            lent = self._lent.get(driver)
            if lent is None:
                lent = self._lent[driver] = _Lent(driver, write=True)
            lane = _Lane(pooled, driver, lent)
            assert self._writing is None  # the pool holds one writer: it was checked in
            self._writing = lane
        lane.queued += 1
        try:
            # aiosqlite runs what is queued on its connection's thread, in order; SQLAlchemy's
            # own adapter queues functions the same way (its isolation-level setter).
            written: T = await lane.driver._execute(lane.lent.run, work)
            return written
        finally:
            lane.queued -= 1
            if lane.queued == 0:
                asyncio.get_running_loop().call_soon(self._end_writing, lane)

    def _end_writing(self, lane: _Lane) -> None:
        """Check the writer back in, unless another write came meanwhile. No I/O here (no
        reset on return); if a caller was cancelled, whoever borrows the connection next
        queues behind its work on the same thread."""
        if lane.queued == 0 and self._writing is lane:
            self._writing = None
            lane.pooled.close()

    async def _lane(self) -> _Lane:
        """The reader lane with the least work queued, opening another (up to ``LANES``)
        when every one is busy. Lanes keep their pooled connection: a read costs no
        checkout, no check-in, only the hand-off to the lane's thread."""
        lanes = self._lanes
        best = min(lanes, key=_queued) if lanes else None
        if best is not None and (
            best.queued == 0 or len(lanes) + self._opening_lanes >= self.LANES
        ):
            return best
        return await self._open_lane()

    async def _open_lane(self) -> _Lane:
        self._opening_lanes += 1
        try:
            pooled = await self.reader.raw_connection()
        finally:
            self._opening_lanes -= 1
        driver = pooled.driver_connection
        lane = _Lane(pooled, driver, _Lent(driver, write=False))
        self._lanes.append(lane)
        return lane

    async def open_connections(self) -> None:
        """Open now the connections the node keeps, rather than on first need.

        A node in a flood of clients at its descriptor limit could otherwise find no
        descriptor left to reach its own database: SQLite opens the file, its WAL and its
        shared memory for each connection. (PostgreSQL's pools open as they go: their
        server limits connections, and a failed connect there is retried like a network
        error.)
        """
        if not self.is_sqlite:
            return
        while len(self._lanes) < self.LANES:
            await self._open_lane()
        for engine in self.engines:
            pool = engine.sync_engine.pool
            assert isinstance(pool, QueuePool)
            async with contextlib.AsyncExitStack() as held:  # all at once, so each is new
                for _ in range(pool.size() - pool.checkedout()):
                    await held.enter_async_context(engine.connect())

    LANES = 4
    """Reader connections (each with its thread) kept for ``run``: SQLite readers run in
    parallel, and the threads spend most of their time in SQLite, outside the GIL."""

    def read(self) -> AsyncConnection:
        """A reader connection for Core statements (``async with``), each statement a
        hand-off to the database thread: ``run`` makes a whole read one."""
        return self.reader.connect()

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self.writer,) if self.writer is self.reader else (self.writer, self.reader)

    async def dispose(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.pooled.close()
        lanes, self._lanes = self._lanes, []
        for lane in lanes:
            lane.pooled.close()
        for engine in self.engines:
            await engine.dispose()


@dataclass(eq=False)
class _Lane:
    """A reader connection kept out of the pool for ``run``, and how much waits on it."""

    pooled: PoolProxiedConnection
    driver: Any
    lent: _Lent
    queued: int = 0


def _queued(lane: _Lane) -> int:
    return lane.queued


class _Lent:
    """The synchronous side of one pooled aiosqlite connection, used only in its thread.

    It holds the sqlite3 connection, never the aiosqlite one it is filed under, so it goes
    when the pool drops that connection. Its SQLAlchemy connection is made once, in the
    thread, and kept: a unit of work costs its statements, a ``BEGIN`` and a ``COMMIT``.
    """

    def __init__(self, driver: Any, *, write: bool) -> None:
        sqlite_connection = driver._conn
        self._raw = sqlite_connection
        self._begin = "BEGIN IMMEDIATE" if write else "BEGIN"
        self._engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite_connection,
            poolclass=StaticPool,
            pool_reset_on_return=None,
        )
        self._connection: Connection | None = None

    def run(self, work: Work[T]) -> T:
        """In the connection's thread: ``work`` between ``BEGIN`` and ``COMMIT``.

        Whatever fails, the ``COMMIT`` included, the unit is rolled back before the error goes
        on: a ``COMMIT`` that fails (a full disk as the journal is written, a deferred
        constraint) leaves SQLite's transaction open, and the next unit's ``BEGIN`` would be
        refused, and every one after it, on the node's only writer.
        """
        connection = self._connection
        if connection is None:
            connection = self._connection = self._engine.connect()
        raw = self._raw
        raw.execute(self._begin)  # the statements below join it (SQLAlchemy's begin is a no-op)
        try:
            result = work(connection)
            connection.commit()
            if raw.in_transaction:  # nothing was executed through SQLAlchemy
                raw.commit()
        except BaseException:
            self._roll_back(connection)
            raise
        return result

    def _roll_back(self, connection: Connection) -> None:
        """Undo the unit on both sides: SQLite's transaction is rolled back even when
        SQLAlchemy's side cannot be."""
        try:
            connection.rollback()
        except Exception:  # the SQLAlchemy side is unusable: the next unit makes a new one
            self._connection = None  # (not invalidated: that would close the shared sqlite3)
        if self._raw.in_transaction:
            self._raw.rollback()


def store_location(url: str) -> str:
    """Where the store is, as an operator names it: SQLite's file, or the server's URL
    without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def _transaction(connection: Connection, work: Work[T]) -> T:
    with connection.begin():
        return work(connection)


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
