"""``Database.run``: a unit of work is one transaction, and on SQLite one hand-off to the
database thread, sharing the single writer with the modules that still use sessions."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import aiosqlite
import pytest
from sqlalchemy import Connection, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from mailboxes.database import Database
from mailboxes.schema import SubscriptionRow
from mailboxes.store import Store
from tests.mailboxes.observed import Observed
from tests.postgres import database_name, postgres_server


def _subscribe(name: str, fail: bool = False) -> object:
    def write(connection: Connection) -> None:
        connection.execute(insert(SubscriptionRow).values(owner="a@x.pe", name=name))
        if fail:
            raise RuntimeError("after the insert")

    return write


def _count(connection: Connection) -> int:
    return int(connection.scalar(select(func.count()).select_from(SubscriptionRow)) or 0)


async def test_a_unit_of_work_commits_whole_or_not_at_all(store: Store) -> None:
    database = store.database
    await database.run(_subscribe("Archivo"), write=True)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await database.run(_subscribe("Otro", fail=True), write=True)  # type: ignore[arg-type]
    assert await database.run(_count) == 1


def _tables_with_a_deferred_reference(connection: Connection) -> None:
    connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    connection.exec_driver_sql(
        "CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
    )


def _orphan(connection: Connection) -> None:
    connection.exec_driver_sql("INSERT INTO child VALUES (42)")  # refused only at COMMIT
    _subscribe("Archivo")(connection)  # type: ignore[operator]


async def test_a_commit_that_fails_leaves_the_writer_ready_for_the_next_unit(
    store: Store,
) -> None:
    """A COMMIT may fail after every statement passed: a full disk when the journal is
    written, a deferred constraint (as here). The unit is undone whole and the writer takes
    the next one; it once stayed inside the failed transaction, and every write of the node
    failed ("cannot start a transaction within a transaction") until it was restarted."""
    database = store.database
    await database.run(_tables_with_a_deferred_reference, write=True)
    with pytest.raises(IntegrityError):
        await database.run(_orphan, write=True)
    assert await database.run(_count) == 0
    await database.run(_subscribe("Archivo"), write=True)  # type: ignore[arg-type]
    assert await database.run(_count) == 1


async def test_a_one_statement_unit_commits_its_statement_alone(store: Store) -> None:
    """``one_statement``: on PostgreSQL no transaction block around it, on SQLite a unit as
    any other; on both its statement is committed, and a refused one leaves nothing."""
    database = store.database
    await database.run(_subscribe("Archivo"), write=True, one_statement=True)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):  # the same mailbox subscribed twice
        await database.run(_subscribe("Archivo"), write=True, one_statement=True)  # type: ignore[arg-type]
    assert await database.run(_count) == 1
    # The connection goes back to the pool as it came: the next unit is a transaction again.
    with pytest.raises(RuntimeError):
        await database.run(_subscribe("Otro", fail=True), write=True)  # type: ignore[arg-type]
    assert await database.run(_count) == 1


async def test_units_of_work_and_sessions_share_the_single_writer(store: Store) -> None:
    """Writes through ``run`` and through ORM sessions, all at once: none is refused with
    "database is locked" (SQLite) and every one is committed."""

    async def by_session(n: int) -> None:
        async with store.database.write_session() as session, session.begin():
            session.add(SubscriptionRow(owner="a@x.pe", name=f"sesion {n}"))

    await asyncio.gather(
        *(store.database.run(_subscribe(f"run {n}"), write=True) for n in range(20)),  # type: ignore[arg-type]
        *(by_session(n) for n in range(20)),
    )
    assert await store.database.run(_count) == 40


@pytest.fixture
def hand_offs() -> Iterator[list[int]]:
    """How many functions are queued to aiosqlite's connection threads."""
    counted = [0]
    original = aiosqlite.Connection._execute

    async def counting(
        self: aiosqlite.Connection, fn: object, *args: object, **kwargs: object
    ) -> object:
        counted[0] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    aiosqlite.Connection._execute = counting  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]


async def test_a_read_and_a_delivery_are_one_hand_off_each(
    store: Store, hand_offs: list[int]
) -> None:
    if not store.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")
    await store.deliver("a@x.pe", ["b@x.pe"], b"primero")
    await store.read_message("b@x.pe", "INBOX", 1)  # connections opened, statements compiled
    hand_offs[0] = 0
    await store.deliver("a@x.pe", ["b@x.pe"], b"segundo")
    assert hand_offs[0] == 1  # was 19: every statement, cursor, fetch and close
    hand_offs[0] = 0
    assert await store.read_message("b@x.pe", "INBOX", 2) == b"segundo"
    assert hand_offs[0] == 1  # was 8


async def test_writes_in_a_row_take_the_writer_from_the_pool_once(store: Store) -> None:
    """Writes that follow one another check the single writer out once, and give it back
    to the pool as soon as none is left: a session waiting for it gets it then."""
    if not store.database.is_sqlite:
        pytest.skip("PostgreSQL has no single writer")
    database = store.database
    checkouts = [0]

    def count(*_: object) -> None:
        checkouts[0] += 1

    event.listen(database.writer.sync_engine.pool, "checkout", count)
    try:
        await asyncio.gather(
            *(database.run(_subscribe(f"run {n}"), write=True) for n in range(20))  # type: ignore[arg-type]
        )
        assert checkouts[0] == 1  # was one per write
        async with database.write_session() as session, session.begin():
            session.add(SubscriptionRow(owner="a@x.pe", name="sesion"))
        assert checkouts[0] == 2
    finally:
        event.remove(database.writer.sync_engine.pool, "checkout", count)
    assert await database.run(_count) == 21


def _descriptors() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


async def test_a_node_opens_its_connections_before_it_needs_them(store: Store) -> None:
    """In a flood at the descriptor limit, a node that opened its database connections on
    first need could no longer read its own queue ("unable to open database file")."""
    if not store.database.is_sqlite:
        pytest.skip("PostgreSQL's pools open as they go")
    database = store.database
    await database.open_connections()
    opened = _descriptors()

    async def by_session() -> int:
        async with database.read_session() as session:
            return int(await session.scalar(select(func.count()).select_from(SubscriptionRow)))

    async def read_and_wait(started: asyncio.Event, go: asyncio.Event) -> int:
        async with database.read() as connection:  # held, so the reads below run at once
            started.set()
            await go.wait()
            return int(await connection.scalar(select(func.count()).select_from(SubscriptionRow)))

    held = [asyncio.Event() for _ in range(3)]
    go = asyncio.Event()
    waiting = [asyncio.create_task(read_and_wait(started, go)) for started in held]
    for started in held:
        await started.wait()
    await asyncio.gather(
        database.run(_subscribe("Archivo"), write=True),  # type: ignore[arg-type]
        *(database.run(_count) for _ in range(8)),
        by_session(),
    )
    go.set()
    assert await asyncio.gather(*waiting) == [1, 1, 1]
    assert _descriptors() <= opened  # nothing new was opened


def _isolation(connection: Connection) -> str:
    return str(connection.exec_driver_sql("SHOW transaction_isolation").scalar())


async def test_postgresql_reads_without_a_transaction_block_and_writes_at_read_committed(
    store: Store,
) -> None:
    """A read sends no ``BEGIN`` or ``COMMIT`` (two round trips fewer); a write does, at
    ``READ COMMITTED`` even where the server's default is another level: the level at which
    a transaction's statements each see the last commits, as statements outside one do."""
    if store.database.is_sqlite:
        pytest.skip("PostgreSQL's transaction commands")
    url = store.database.url
    name = database_name(url)
    level = "ALTER DATABASE {} SET default_transaction_isolation TO 'repeatable read'"

    def stricter(connection: Connection) -> None:
        connection.exec_driver_sql(level.format(name))

    await store.database.run(stricter, write=True, one_statement=True)
    fresh = Database(url)  # its connections are new: they get the database's default
    try:
        with Observed(fresh) as observed:
            assert await fresh.run(_count) == 0
            read = list(observed.commands)
            assert await fresh.run(_isolation, write=True) == "read committed"
        assert read == []
        assert observed.commands[0].startswith("BEGIN")
        assert observed.commands[-1] == "COMMIT"
    finally:
        await fresh.dispose()


def _over(connection: Connection) -> tuple[str, bool]:
    row = connection.exec_driver_sql(
        "SELECT current_database(), inet_server_addr() IS NULL"  # NULL: a Unix socket
    ).one()
    return str(row[0]), bool(row[1])


async def test_a_postgresql_server_beside_the_node_is_reached_through_its_socket() -> None:
    """The URL docs/topology.md gives for a server on the same machine (``?host=`` naming
    its socket's directory) connects over that socket, not TCP, for reads and writes."""
    server = postgres_server()
    name = database_name(await server.create_database())
    database = Database(server.socket_url(name))
    try:
        assert await database.run(_over) == (name, True)
        assert await database.run(_over, write=True) == (name, True)
        await database.run(_subscribe("INBOX"), write=True)
        assert await database.run(_count) == 1
    finally:
        await database.dispose()
