"""The store side of third-party pickup: which outside messages were already imported.

A message is imported with ``Store.deliver(..., also=seen(...))``: the record that it was
imported is written in the delivery's own transaction, so a crash either loses both (the
message is imported again next time) or keeps both (it is never imported twice).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select

from mailboxes.schema import PickupSeenRow
from mailboxes.store import AlsoWrite, Store

__all__ = ["pass_over", "seen", "seen_keys"]

_SEEN = select(PickupSeenRow.message_key).where(
    PickupSeenRow.source == bindparam("source"),
    PickupSeenRow.mailbox_key == bindparam("mailbox_key"),
)


async def seen_keys(store: Store, source: str, mailbox_key: str) -> set[str]:
    """The message keys (IMAP UIDs or POP3 UIDLs) of ``source`` already imported."""

    def read(connection: Connection) -> set[str]:
        return set(connection.scalars(_SEEN, {"source": source, "mailbox_key": mailbox_key}))

    return await store.database.run(read)


def seen(source: str, mailbox_key: str, message_key: str, now: datetime) -> AlsoWrite:
    """Statements that record one imported message (fails if it was recorded already)."""

    def write(connection: Connection) -> None:
        connection.execute(
            insert(PickupSeenRow).values(
                source=source, mailbox_key=mailbox_key, message_key=message_key, imported_at=now
            )
        )

    return write


async def pass_over(store: Store, record: AlsoWrite) -> None:
    """Record a message as seen without importing it (``record`` from ``seen``)."""
    await store.database.run(record, write=True)
