"""``mailboxes.fixed_statements``: statements run on the driver's cursor store and read
what SQLAlchemy's own store and read, byte for byte, and fail as SQLAlchemy's do."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, bindparam, func, insert, select

from mailboxes.errors import AlreadyStored
from mailboxes.fixed_statements import Insert, _on_cursor, execute, scalar
from mailboxes.schema import IntakeJobRow, MessageContentRow
from mailboxes.store import Store

LIMA = timezone(timedelta(hours=-5))
WHEN = datetime(2026, 11, 2, 10, 30, 5, 123456, tzinfo=LIMA)
CONTENT = Insert(MessageContentRow, ("id", "raw", "size", "created_at"))
JOB = Insert(
    IntakeJobRow,
    (
        "id", "content_id", "office_code", "sender", "recipient", "state", "attempts",
        "received_at", "turn",
    ),
)  # fmt: skip


def _stored(connection: Connection, table: str, ids: tuple[int, int]) -> list[tuple[object, ...]]:
    """The rows as the driver gives them back (no result processing), ids left out."""
    if connection.dialect.name == "sqlite":  # the storage class too: TEXT is not BLOB
        columns = {
            "message_contents": "raw, typeof(raw), size, created_at, typeof(created_at)",
            "intake_jobs": "content_id, office_code, sender, recipient, state, attempts, "
            "received_at, typeof(received_at), turn",
        }[table]
    else:
        columns = {
            "message_contents": "raw, size, created_at",
            "intake_jobs": "content_id, office_code, sender, recipient, state, attempts, "
            "received_at, turn",
        }[table]
    first, second = ids
    rows = connection.exec_driver_sql(
        f"SELECT {columns} FROM {table} WHERE id IN ({first:d}, {second:d}) ORDER BY id"
    ).all()
    return [tuple(row) for row in rows]


async def test_rows_are_stored_as_sqlalchemy_stores_them(store: Store) -> None:
    def write(connection: Connection) -> None:
        # The statements go to the DBAPI cursor on both backends, not through SQLAlchemy
        assert _on_cursor(connection) is not None
        connection.execute(
            insert(MessageContentRow),
            [{"id": 1, "raw": b"Subject: a\r\n\r\n\x00\xff", "size": 16, "created_at": WHEN}],
        )
        CONTENT.run(connection, [(2, b"Subject: a\r\n\r\n\x00\xff", 16, WHEN)])
        job = {
            "content_id": 1,
            "office_code": "118",
            "sender": "agente@agencias.pe",
            "recipient": "dua@aduanet.gob.pe",
            "state": "pending",
            "attempts": 0,
            "received_at": WHEN,
            "turn": 2**40,
        }
        connection.execute(insert(IntakeJobRow), [{"id": 1, **job}])
        JOB.run(connection, [(2, *job.values())])

    await store.database.run(write, write=True)

    def read(connection: Connection) -> tuple[object, ...]:
        return (
            _stored(connection, "message_contents", (1, 2)),
            _stored(connection, "intake_jobs", (1, 2)),
            scalar(connection, select(func.max(IntakeJobRow.id))),
        )

    contents, jobs, highest = await store.database.run(read)
    assert len(contents) == 2 and contents[0] == contents[1]
    assert len(jobs) == 2 and jobs[0] == jobs[1]
    assert highest == 2


async def test_a_failed_insert_raises_sqlalchemys_error(store: Store) -> None:
    def twice(connection: Connection) -> None:
        CONTENT.run(connection, [(7, b"x", 1, WHEN)])
        CONTENT.run(connection, [(7, b"y", 1, WHEN)])

    with pytest.raises(AlreadyStored):
        await store.database.run(twice, write=True)

    def count(connection: Connection) -> object:
        return scalar(connection, select(func.count(MessageContentRow.id)))

    assert await store.database.run(count) == 0  # the transaction was rolled back whole


async def test_rows_read_back_as_sqlalchemy_reads_them(store: Store) -> None:
    """A statement's columns, a date among them, converted as ``Connection.execute`` does."""
    query = select(IntakeJobRow.id, IntakeJobRow.sender, IntakeJobRow.received_at).where(
        IntakeJobRow.office_code == bindparam("office")
    )

    def write(connection: Connection) -> None:
        CONTENT.run(connection, [(1, b"x", 1, WHEN)])
        JOB.run(connection, [(1, 1, "118", "a@agencias.pe", "dua@x.pe", "pending", 0, WHEN, 0)])

    await store.database.run(write, write=True)

    def read(connection: Connection) -> tuple[object, object]:
        fast = execute(connection, query, {"office": "118"})
        usual = connection.execute(query, {"office": "118"}).all()
        return [tuple(row) for row in fast], [tuple(row) for row in usual]

    fast, usual = await store.database.run(read)
    assert fast == usual == [(1, "a@agencias.pe", WHEN)]


async def test_rows_come_back_as_plain_tuples(store: Store) -> None:
    """On both backends (asyncpg's cursor gives records of its own)."""

    def write(connection: Connection) -> None:
        CONTENT.run(connection, [(1, b"x", 1, WHEN)])

    await store.database.run(write, write=True)
    query = select(MessageContentRow.id, MessageContentRow.size).where(
        MessageContentRow.id == bindparam("id")
    )

    def read(connection: Connection) -> Sequence[Sequence[object]]:
        return execute(connection, query, {"id": 1})

    rows = await store.database.run(read)
    assert rows == [(1, 1)] and all(type(row) is tuple for row in rows)
