"""Engines for the store.

SQLite allows one writer at a time. Rather than letting concurrent transactions collide and
retry, every write goes through a single connection that opens ``BEGIN IMMEDIATE``, so
writers queue in the pool instead of failing with "database is locked" half-way through;
readers use their own pool and see the last committed state (WAL). Commits are synchronous
(``synchronous=FULL``): a committed transaction survives a crash or a power cut.
PostgreSQL needs none of this and uses one engine for both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import AsyncAdaptedQueuePool

__all__ = ["Database"]


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
        if self.is_sqlite:
            self.writer = create_async_engine(
                url, poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_timeout=60
            )
            self.reader = create_async_engine(url, pool_size=8, max_overflow=8)
            for engine in (self.writer, self.reader):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.writer.sync_engine, "begin", _begin_immediate)
            event.listen(self.reader.sync_engine, "begin", _begin_deferred)
        else:
            self.writer = self.reader = create_async_engine(url, pool_size=10, max_overflow=10)
        self.write_session = async_sessionmaker(self.writer, expire_on_commit=False)
        self.read_session = async_sessionmaker(self.reader, expire_on_commit=False)

    def read(self) -> AsyncConnection:
        """A reader connection for Core statements (``async with``): no ORM session to
        build, flush and close for reads that only select columns."""
        return self.reader.connect()

    async def read_scalar(self, statement: Executable, parameters: dict[str, Any]) -> Any:
        """One value read by a statement built once (bound parameters), on a reader
        connection without an ORM session: what the hot single-row reads use."""
        async with self.reader.connect() as connection:
            result = await connection.execute(statement, parameters)
            return result.scalar()

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self.writer,) if self.writer is self.reader else (self.writer, self.reader)

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
