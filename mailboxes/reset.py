"""Emptying a demonstration node: every message, job, declaration and count goes; the
accounts (and the offices they were granted) stay, so a test rig starts again at once.

The UIDVALIDITY floor stays too: a mailbox created again after the reset gets a new
UIDVALIDITY, so an IMAP client does not trust the UIDs it cached (RFC 3501 §2.3.1.1).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from mailboxes.schema import (
    ChannelMonthRow,
    DeclarationCounterRow,
    DeclarationRow,
    ImportHistoryRow,
    IntakeJobRow,
    MailboxMessageRow,
    MailboxRequestRow,
    MailboxRow,
    MessageContentRow,
    OfficeHandoverRow,
    PickupSeenRow,
    RelayRow,
)
from mailboxes.store import Change, Store

__all__ = ["reset_demo"]

_EMPTIED = (  # children before the rows they point at
    DeclarationRow,
    DeclarationCounterRow,
    ChannelMonthRow,
    ImportHistoryRow,
    RelayRow,
    IntakeJobRow,
    MailboxMessageRow,
    MailboxRow,
    MessageContentRow,
    MailboxRequestRow,
    PickupSeenRow,
    OfficeHandoverRow,
)


_MAILBOXES = select(MailboxRow.owner, MailboxRow.name)
_EMPTY = tuple(delete(table) for table in _EMPTIED)


async def reset_demo(store: Store) -> int:
    """Empty the node in one transaction; return how many mailboxes were removed."""
    boxes = await store.database.run(_empty, write=True)
    store.notify(Change(boxes))
    return len(boxes)


def _empty(connection: Connection) -> frozenset[tuple[str, str]]:
    """The mailboxes there were, and nothing left of them or of anything else listed."""
    boxes = frozenset((row.owner, row.name) for row in connection.execute(_MAILBOXES))
    for statement in _EMPTY:
        connection.execute(statement)
    return boxes
