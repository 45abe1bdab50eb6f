"""What the store holds, read back for the tests that compare two ways of writing it: rows
as tuples, contents named by their bytes rather than by id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Select, select

from mailboxes.schema import MailboxMessageRow, MailboxRow, MessageContentRow
from mailboxes.store import Store

__all__ = ["FILED_ROWS", "MAILBOX_ROWS", "stored"]

MAILBOX_ROWS: Final = select(
    MailboxRow.owner,
    MailboxRow.name,
    MailboxRow.uid_next,
    MailboxRow.message_count,
    MailboxRow.unseen_count,
    MailboxRow.highest_modseq,
    MailboxRow.uid_validity,
).order_by(MailboxRow.owner, MailboxRow.name)
"""Each mailbox: owner, name, next UID, messages, unseen, highest modseq, UIDVALIDITY."""

FILED_ROWS: Final = (
    select(
        MailboxRow.owner,
        MailboxRow.name,
        MailboxMessageRow.uid,
        MessageContentRow.raw,
        MessageContentRow.size,
        MessageContentRow.created_at,
        MailboxMessageRow.internal_date,
        MailboxMessageRow.flags,
        MailboxMessageRow.modseq,
    )
    .join(MailboxRow, MailboxRow.id == MailboxMessageRow.mailbox_id)
    .join(MessageContentRow, MessageContentRow.id == MailboxMessageRow.content_id)
    .order_by(MailboxRow.owner, MailboxRow.name, MailboxMessageRow.uid)
)
"""Each filing: owner, folder, UID, its content's bytes, size and date, internal date,
flags, modseq."""


async def stored(
    store: Store, queries: Mapping[str, Select[Any]]
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each query, by name."""
    async with store.database.read() as connection:
        return {
            name: [tuple(row) for row in (await connection.execute(query)).all()]
            for name, query in queries.items()
        }
