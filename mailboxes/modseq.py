"""Every change to a mailbox's messages goes through here, inside the caller's transaction.

Each one (a plain function of the caller's connection: ``Database.run`` runs the whole
transaction in one go) bumps the mailbox's ``highest_modseq`` (RFC 7162's HIGHESTMODSEQ) in the same
``UPDATE`` that keeps its message and unseen counts, stamps the messages it files or
re-flags with the new value, and records removals in ``mailbox_expunges``. A reader that
saw the mailbox at modseq *m* then asks for the rows stamped after *m* and the removals
after *m* (``Folders.changes_since``), never for the whole mailbox; and STATUS, SELECT and
POP3 read the counts instead of counting rows.

The ``UPDATE`` of the mailbox row comes first in every change, so concurrent writers of one
mailbox queue on its row lock (PostgreSQL) or on the single writer (SQLite): modseqs
become visible in the order they were given.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Update,
    bindparam,
    case,
    delete,
    insert,
    or_,
    update,
)

from mailboxes.bound_lists import one_of
from mailboxes.fixed_lists import padded
from mailboxes.fixed_statements import execute
from mailboxes.schema import MailboxExpungeRow, MailboxMessageRow, MailboxRow

__all__ = [
    "RESERVE_FOR_TARGET",
    "SEEN",
    "Reserved",
    "adjust",
    "bump",
    "chunks",
    "remove",
    "reserve",
    "reserve_unseen",
    "unseen",
]

SEEN = "\\Seen"

CHUNK = 500
"""UIDs per ``IN (...)`` list: far below every backend's bound-parameter limit."""


def unseen(flags: str) -> bool:
    """Whether stored flags text (``\\Deleted \\Seen``) lacks ``\\Seen``."""
    return SEEN not in flags.split()


def chunks(uids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


@dataclass(frozen=True, slots=True)
class Reserved:
    """UIDs taken for new messages, and the modseq to stamp them with."""

    first_uid: int
    modseq: int

    def uids(self, count: int) -> range:
        return range(self.first_uid, self.first_uid + count)


def reserve(
    connection: Connection, mailbox: int | tuple[str, str], count: int, *, unseen: int
) -> tuple[int, Reserved] | None:
    """Take ``count`` UIDs for new messages (``unseen`` of them without ``\\Seen``).

    ``mailbox`` is a row id or (owner, name). Returns the mailbox id and what was taken, or
    ``None`` if the mailbox does not exist (any more).
    """
    counts = {"taken": count, "unseen_taken": unseen}
    if isinstance(mailbox, int):
        rows = execute(connection, _RESERVE_BY_ID, {"mailbox": mailbox, **counts})
    else:
        where = {"owner_is": mailbox[0], "name_is": mailbox[1]}
        rows = execute(connection, _RESERVE_BY_NAME, {**where, **counts})
    if not rows:
        return None
    ((mailbox_id, uid_next, highest_modseq),) = rows  # _reserve's columns
    return mailbox_id, Reserved(uid_next - count, highest_modseq)


RESERVE_FOR_TARGET = """box AS (
    UPDATE mailboxes SET
        uid_next = mailboxes.uid_next + wanted.taken,
        message_count = mailboxes.message_count + wanted.taken,
        unseen_count = mailboxes.unseen_count + wanted.taken,
        highest_modseq = mailboxes.highest_modseq + 1
    FROM (SELECT owner, folder, count(*) AS taken FROM target GROUP BY owner, folder) AS wanted
    WHERE mailboxes.owner = wanted.owner AND mailboxes.name = wanted.folder
    RETURNING mailboxes.id, mailboxes.owner, mailboxes.name,
        mailboxes.uid_next - wanted.taken AS first_uid, mailboxes.highest_modseq
)"""
"""``reserve_unseen`` as a query of a PostgreSQL ``WITH`` statement: the ``box`` of each
mailbox named by the statement's ``target`` rows (``owner``, ``folder``), one new unseen
message per row; its first UID and the modseq to stamp. Mailboxes that do not exist have no
``box``. The statements that file messages with one round trip share it
(``intake_statement``, ``answer_statement``)."""


def reserve_unseen(
    connection: Connection, wanted: Mapping[tuple[str, str], int]
) -> dict[tuple[str, str], tuple[int, Reserved]]:
    """``reserve`` for several mailboxes at once, each (owner, name) with its count of new
    unseen messages, in one ``UPDATE``; what was taken, by mailbox (those that do not exist
    are missing from it).

    The answering transaction files replies in a mailbox per agent of its batch: one
    statement for all of them, not one each.
    """
    if not wanted:
        return {}
    if len(wanted) == 1:
        ((mailbox, count),) = wanted.items()
        found = reserve(connection, mailbox, count, unseen=count)
        return {} if found is None else {mailbox: found}
    # Padded (``fixed_lists``; a row is updated once, by the first CASE branch it matches),
    # so that a few statements, each compiled once, serve every batch.
    keys = padded(list(wanted))
    statement = _reserve_many(len(keys))
    bound: dict[str, object] = {}
    for n, (owner, name) in enumerate(keys):
        bound |= {f"owner{n}": owner, f"name{n}": name, f"taken{n}": wanted[(owner, name)]}
    reserved: dict[tuple[str, str], tuple[int, Reserved]] = {}
    for mailbox_id, owner, name, uid_next, highest_modseq in execute(connection, statement, bound):
        count = wanted[(owner, name)]
        reserved[(owner, name)] = mailbox_id, Reserved(uid_next - count, highest_modseq)
    return reserved


@cache
def _reserve_many(size: int) -> Update:
    """The ``UPDATE ... RETURNING`` of ``reserve_unseen`` for ``size`` mailboxes (built once
    per size): each row moves by its own count, chosen by a ``CASE`` on its name. Its first
    compilation takes milliseconds, hence the few sizes."""
    named = [
        (MailboxRow.owner == bindparam(f"owner{n}")) & (MailboxRow.name == bindparam(f"name{n}"))
        for n in range(size)
    ]
    taken = case(*[(where, bindparam(f"taken{n}", type_=Integer)) for n, where in enumerate(named)])
    return (
        update(MailboxRow)
        .where(or_(*named))
        .values(
            uid_next=MailboxRow.uid_next + taken,
            message_count=MailboxRow.message_count + taken,
            unseen_count=MailboxRow.unseen_count + taken,
            highest_modseq=MailboxRow.highest_modseq + 1,
        )
        .returning(
            MailboxRow.id,
            MailboxRow.owner,
            MailboxRow.name,
            MailboxRow.uid_next,
            MailboxRow.highest_modseq,
        )
    )


def _reserve(where: ColumnElement[bool]) -> Update:
    """The ``UPDATE ... RETURNING`` of ``reserve`` (built once: deliveries run it for each
    mailbox they write)."""
    return (
        update(MailboxRow)
        .where(where)
        .values(
            uid_next=MailboxRow.uid_next + bindparam("taken"),
            message_count=MailboxRow.message_count + bindparam("taken"),
            unseen_count=MailboxRow.unseen_count + bindparam("unseen_taken"),
            highest_modseq=MailboxRow.highest_modseq + 1,
        )
        .returning(MailboxRow.id, MailboxRow.uid_next, MailboxRow.highest_modseq)
    )


_RESERVE_BY_ID = _reserve(MailboxRow.id == bindparam("mailbox"))
_RESERVE_BY_NAME = _reserve(
    (MailboxRow.owner == bindparam("owner_is")) & (MailboxRow.name == bindparam("name_is"))
)


def bump(connection: Connection, mailbox_id: int) -> int | None:
    """A new modseq for the mailbox, its row locked until the commit.

    ``None`` if the mailbox does not exist (any more).
    """
    modseq: int | None = connection.scalar(
        update(MailboxRow)
        .where(MailboxRow.id == mailbox_id)
        .values(highest_modseq=MailboxRow.highest_modseq + 1)
        .returning(MailboxRow.highest_modseq)
    )
    return modseq


def adjust(connection: Connection, mailbox_id: int, *, messages: int = 0, unseen: int = 0) -> None:
    """Move the mailbox's counts, once a change (after ``bump``) knows what it did."""
    if messages or unseen:
        connection.execute(
            update(MailboxRow)
            .where(MailboxRow.id == mailbox_id)
            .values(
                message_count=MailboxRow.message_count + messages,
                unseen_count=MailboxRow.unseen_count + unseen,
            )
        )


_REMOVE = (
    delete(MailboxMessageRow)
    .where(
        MailboxMessageRow.mailbox_id == bindparam("mailbox"),
        one_of(MailboxMessageRow.uid, "uids"),
    )
    .returning(MailboxMessageRow.uid, MailboxMessageRow.content_id, MailboxMessageRow.flags)
)


def remove(connection: Connection, mailbox_id: int, uids: Collection[int]) -> list[int]:
    """Remove those messages of the mailbox; the content ids of the rows removed.

    Readers at an older modseq learn of it from ``mailbox_expunges``.
    """
    modseq = bump(connection, mailbox_id)  # the mailbox row first: see the module's note
    if modseq is None:
        return []
    removed: list[tuple[int, int, str]] = []
    for chunk in chunks(uids):
        rows = connection.execute(_REMOVE, {"mailbox": mailbox_id, "uids": chunk})
        removed.extend((row.uid, row.content_id, row.flags) for row in rows)
    if not removed:
        return []
    gone_unseen = sum(1 for _, _, flags in removed if unseen(flags))
    adjust(connection, mailbox_id, messages=-len(removed), unseen=-gone_unseen)
    connection.execute(
        insert(MailboxExpungeRow),
        [{"mailbox_id": mailbox_id, "uid": uid, "modseq": modseq} for uid, _, _ in removed],
    )
    return [content_id for _, content_id, _ in removed]
