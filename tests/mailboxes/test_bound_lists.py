"""``one_of``: a list of integers bound as one array on PostgreSQL, as an IN list on SQLite,
and the same rows found on both."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from mailboxes.bound_lists import one_of
from mailboxes.schema import MailboxMessageRow
from mailboxes.store import Store

_FOUND = select(MailboxMessageRow.uid).where(
    MailboxMessageRow.mailbox_id == bindparam("mailbox"), one_of(MailboxMessageRow.uid, "uids")
)


def test_postgresql_gets_one_array_parameter_whatever_the_length() -> None:
    """One statement, planned on the (mailbox, UID) index: not one of 500 parameters."""
    compiled = _FOUND.compile(dialect=postgresql.asyncpg.dialect())
    assert "mailbox_messages.uid = ANY ($2::BIGINT[])" in str(compiled), str(compiled)
    assert set(compiled.params) == {"mailbox", "uids"}


def test_sqlite_gets_an_in_list() -> None:
    compiled = _FOUND.compile(dialect=sqlite.dialect())
    assert "IN (__[POSTCOMPILE_uids])" in str(compiled), str(compiled)


async def test_the_same_rows_are_found_on_each_backend(store: Store) -> None:
    for n in range(6):
        await store.deliver("a@x.pe", ["b@x.pe"], b"Subject: %d\r\n\r\nx\r\n" % n)
    await store.expunge("b@x.pe", "INBOX", [3])

    def found(connection: Connection) -> list[int]:
        mailbox = connection.scalar(select(MailboxMessageRow.mailbox_id).limit(1))
        rows = connection.execute(_FOUND, {"mailbox": mailbox, "uids": [2, 3, 6, 99]})
        return sorted(row.uid for row in rows)

    assert await store.database.run(found) == [2, 6]
