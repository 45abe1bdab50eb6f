"""POP3 maildrop listings, kept per mailbox and brought up to date by modseq.

A POP3 login lists the whole mailbox (every UID and size): 50 000 rows joined with their
contents at each login. The store keeps the listing it made last for a few mailboxes,
with the mailbox's highest modseq at the time; the next login reads the mailbox row and,
if the modseq moved, only the rows filed or re-flagged since and the removals since
(``mailboxes.modseq``), as an IMAP session catches up. Applying a change twice is
harmless (a UID already listed is skipped, a removed one is gone), so a listing read in
pages while deliveries commit is kept with the modseq read before its first page.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, bindparam, select

from mailboxes.schema import MailboxExpungeRow, MailboxMessageRow, MailboxRow, MessageContentRow

__all__ = ["KEPT", "PAGE", "Listing", "Maildrops"]

PAGE: Final = 5000
"""Rows per unit of work when a mailbox is listed whole."""
KEPT: Final = 32
"""Mailboxes whose listing is kept (the most recently listed)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """A mailbox's UIDs (ascending) and message sizes, as POP3 lists them."""

    uid_validity: int
    uids: array[int]
    sizes: array[int]
    mailbox_id: int | None = None
    """The mailbox row (``Store.read_filed``); ``None`` when it does not exist."""


@dataclass(slots=True)
class _Kept:
    mailbox_id: int
    uid_validity: int
    modseq: int
    uids: array[int]
    sizes: array[int]

    def listing(self) -> Listing:
        return Listing(
            self.uid_validity, array("q", self.uids), array("q", self.sizes), self.mailbox_id
        )


_STATE = select(MailboxRow.id, MailboxRow.uid_validity, MailboxRow.highest_modseq).where(
    MailboxRow.owner == bindparam("owner"), MailboxRow.name == bindparam("folder")
)
_ROWS = select(MailboxMessageRow.uid, MessageContentRow.size).join(
    MessageContentRow, MessageContentRow.id == MailboxMessageRow.content_id
)
_PAGE = (
    _ROWS.where(
        MailboxMessageRow.mailbox_id == bindparam("mailbox"),
        MailboxMessageRow.uid > bindparam("after"),
    )
    .order_by(MailboxMessageRow.uid)
    .limit(PAGE)
)
_CHANGED = _ROWS.where(
    MailboxMessageRow.mailbox_id == bindparam("mailbox"),
    MailboxMessageRow.modseq > bindparam("modseq"),
).order_by(MailboxMessageRow.uid)
_REMOVED = select(MailboxExpungeRow.uid).where(
    MailboxExpungeRow.mailbox_id == bindparam("mailbox"),
    MailboxExpungeRow.modseq > bindparam("modseq"),
)


@dataclass(frozen=True, slots=True)
class _State:
    mailbox_id: int
    uid_validity: int
    modseq: int


def state(owner: str, folder: str, connection: Connection) -> _State | None:
    row = connection.execute(_STATE, {"owner": owner, "folder": folder}).one_or_none()
    return None if row is None else _State(*row)


def page(mailbox_id: int, after: int, connection: Connection) -> tuple[list[int], list[int]]:
    rows = connection.execute(_PAGE, {"mailbox": mailbox_id, "after": after}).all()
    return [row[0] for row in rows], [row[1] for row in rows]


def catch_up(kept: _Kept, owner: str, folder: str, connection: Connection) -> _Kept | None:
    """In one transaction: the kept listing brought to the mailbox's present modseq (a new
    object: the kept one may be in use); ``None`` if the name leads to another mailbox row
    now (deleted, or renamed away and another made: a renamed INBOX keeps its row)."""
    found = state(owner, folder, connection)
    if found is None or (found.mailbox_id, found.uid_validity) != (
        kept.mailbox_id,
        kept.uid_validity,
    ):
        return None
    if found.modseq == kept.modseq:
        return kept
    since = {"mailbox": kept.mailbox_id, "modseq": kept.modseq}
    removed = set(connection.scalars(_REMOVED, since))
    uids, sizes = kept.uids, kept.sizes
    if removed:
        keep = [i for i, uid in enumerate(uids) if uid not in removed]
        uids = array("q", (uids[i] for i in keep))
        sizes = array("q", (sizes[i] for i in keep))
    else:
        uids, sizes = array("q", uids), array("q", sizes)
    for uid, size in connection.execute(_CHANGED, since):
        if uid in removed:
            continue
        if uids and uid <= uids[-1]:
            index = bisect_left(uids, uid)
            if index < len(uids) and uids[index] == uid:
                continue  # re-flagged: POP3 lists no flags
            uids.insert(index, uid)
            sizes.insert(index, size)
        else:
            uids.append(uid)
            sizes.append(size)
    return _Kept(kept.mailbox_id, kept.uid_validity, found.modseq, uids, sizes)


class Maildrops:
    """The listings kept, by (owner, folder): ``KEPT`` of them, the least recent dropped."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, str], _Kept] = OrderedDict()

    def get(self, key: tuple[str, str]) -> _Kept | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def keep(self, key: tuple[str, str], kept: _Kept) -> None:
        self._kept[key] = kept
        self._kept.move_to_end(key)
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)

    def forget(self, key: tuple[str, str]) -> None:
        self._kept.pop(key, None)

    @staticmethod
    def whole(found: _State) -> _Kept:
        return _Kept(found.mailbox_id, found.uid_validity, found.modseq, array("q"), array("q"))
