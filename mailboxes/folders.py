"""The IMAP side of the store: folders, flags, APPEND, COPY, MOVE and subscriptions.

``Store`` holds what SMTP, POP3 and the pipeline need (deliver, list, read, expunge). An IMAP
client also manages folders, sets flags and files messages itself; those operations live
here, over the same tables, so both protocols share one truth: the same UIDs and
UIDVALIDITY (POP3's UIDL is ``<uid_validity>.<uid>``) and the same deletions (removal goes
through ``Store.expunge``).

Folders are addressed by their row id once looked up, so an APPEND or a COPY never creates
a folder by accident (``Store.deliver`` creates them on first delivery; IMAP must answer
``[TRYCREATE]`` instead). Every method is one transaction. COPY files the same content row
again, since contents are stored once and shared: a copy costs no bytes.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, String, delete, func, insert, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailboxes import modseq
from mailboxes.line_ends import canonical_line_ends
from mailboxes.modseq import SEEN, Reserved, chunks, unseen
from mailboxes.schema import (
    MailboxExpungeRow,
    MailboxMessageRow,
    MailboxRow,
    MessageContentRow,
    SubscriptionRow,
)
from mailboxes.store import Store

__all__ = [
    "INBOX",
    "FlagChange",
    "FolderChanges",
    "FolderExists",
    "FolderInfo",
    "FolderNotFound",
    "FolderState",
    "Folders",
    "StoredMessage",
]

INBOX = "INBOX"


class FolderExists(ValueError):
    """A folder of that name already exists for that owner."""


class FolderNotFound(KeyError):
    """No such folder (any more)."""


class FlagChange(enum.Enum):
    """How a flag update combines with the flags a message has."""

    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"

    def apply(self, current: frozenset[str], operand: frozenset[str]) -> frozenset[str]:
        if self is FlagChange.ADD:
            return current | operand
        if self is FlagChange.REMOVE:
            return current - operand
        return operand


@dataclass(frozen=True, slots=True)
class FolderInfo:
    id: int
    owner: str
    name: str
    uid_validity: int
    uid_next: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message's place in a folder; its bytes only when asked for (``raw``)."""

    uid: int
    content_id: int
    internal_date: datetime
    flags: frozenset[str]
    size: int
    raw: bytes | None = None


def _flags_text(flags: Collection[str]) -> str:
    return " ".join(sorted(flags))


def _message_columns(*, with_raw: bool = False) -> Select[Any]:
    columns: list[Any] = [
        MailboxMessageRow.uid,
        MailboxMessageRow.content_id,
        MailboxMessageRow.internal_date,
        MailboxMessageRow.flags,
        MessageContentRow.size,
    ]
    if with_raw:
        columns.append(MessageContentRow.raw)
    return select(*columns).join(
        MessageContentRow, MessageContentRow.id == MailboxMessageRow.content_id
    )


def _stored(row: Row[Any]) -> StoredMessage:
    raw = row.raw if "raw" in row._fields else None
    return StoredMessage(
        row.uid,
        row.content_id,
        row.internal_date,
        frozenset(row.flags.split()),
        row.size,
        None if raw is None else bytes(raw),
    )


@dataclass(frozen=True, slots=True)
class FolderState:
    """A folder's counters, kept by every change (``mailboxes.modseq``), never counted."""

    uid_next: int
    messages: int
    unseen: int
    highest_modseq: int


@dataclass(frozen=True, slots=True)
class FolderChanges:
    state: FolderState
    messages: list[StoredMessage]
    """Filed or re-flagged since the modseq asked about, ascending UID."""
    expunged: list[int]


_STATE = select(
    MailboxRow.uid_next,
    MailboxRow.message_count,
    MailboxRow.unseen_count,
    MailboxRow.highest_modseq,
)


_FLAG_PAGE = select(
    MailboxMessageRow.uid,
    MailboxMessageRow.flags,
    # The stored value as the driver gives it: SQLite's text is parsed by ``_utc`` in C,
    # several times faster than the column type's own conversion, for a whole mailbox.
    type_coerce(MailboxMessageRow.internal_date, String),
).order_by(MailboxMessageRow.uid)


def _utc(value: str | datetime) -> datetime:
    """An internal date as ``UTCDateTime`` stores it: naive UTC text (SQLite), or aware."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _info(row: MailboxRow) -> FolderInfo:
    return FolderInfo(row.id, row.owner, row.name, row.uid_validity, row.uid_next)


class Folders:
    """Folder and message operations for IMAP over one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._database = store.database

    # region folders

    async def get(self, owner: str, name: str) -> FolderInfo | None:
        async with self._database.read_session() as session:
            row = await session.scalar(
                select(MailboxRow).where(MailboxRow.owner == owner, MailboxRow.name == name)
            )
            return None if row is None else _info(row)

    async def names(self, owners: Collection[str]) -> list[tuple[str, str]]:
        """(owner, folder name) of every folder of those owners."""
        if not owners:
            return []
        async with self._database.read() as session:
            rows = await session.execute(
                select(MailboxRow.owner, MailboxRow.name)
                .where(MailboxRow.owner.in_(list(owners)))
                .order_by(MailboxRow.owner, MailboxRow.name)
            )
            return [(row.owner, row.name) for row in rows]

    async def create(self, owner: str, name: str) -> FolderInfo:
        """A new, empty folder; ``FolderExists`` if the name is taken."""
        try:
            async with self._database.write_session() as session, session.begin():
                taken = await session.scalar(
                    select(MailboxRow.id).where(MailboxRow.owner == owner, MailboxRow.name == name)
                )
                if taken is not None:
                    raise FolderExists(name)
                row = await self._insert_folder(session, owner, name)
        except IntegrityError as exc:  # created by a delivery in between (PostgreSQL)
            raise FolderExists(name) from exc
        return _info(row)

    async def ensure(self, owner: str, name: str) -> FolderInfo:
        """The folder, created empty if it does not exist yet (INBOX must always exist)."""
        for _ in range(3):  # a concurrent creation (delivery, another login) may win a race
            found = await self.get(owner, name)
            if found is not None:
                return found
            with contextlib.suppress(FolderExists):
                return await self.create(owner, name)
        raise FolderExists(name)

    async def delete(self, owner: str, name: str) -> None:
        """Remove the folder and its messages (contents nobody else references go too)."""
        async with self._database.write_session() as session, session.begin():
            folder_id = await session.scalar(
                select(MailboxRow.id).where(MailboxRow.owner == owner, MailboxRow.name == name)
            )
            if folder_id is None:
                raise FolderNotFound(name)
            content_ids = list(
                await session.scalars(
                    delete(MailboxMessageRow)
                    .where(MailboxMessageRow.mailbox_id == folder_id)
                    .returning(MailboxMessageRow.content_id)
                )
            )
            await session.execute(delete(MailboxRow).where(MailboxRow.id == folder_id))
            await Store.drop_orphans(session, content_ids)

    async def rename(self, owner: str, renames: Sequence[tuple[str, str]]) -> None:
        """Rename folders, all or none (a folder and its inferiors, RFC 3501 §6.3.5).

        Renaming INBOX moves its messages to the new name and leaves an empty INBOX with a
        new UIDVALIDITY, so POP3 UIDLs of the old messages are never given out again.
        """
        async with self._database.write_session() as session, session.begin():
            for before, after in renames:
                rows = await session.execute(
                    select(MailboxRow.id, MailboxRow.name).where(
                        MailboxRow.owner == owner, MailboxRow.name.in_([before, after])
                    )
                )
                ids = {row.name: row.id for row in rows}
                if before not in ids:
                    raise FolderNotFound(before)
                if after in ids:
                    raise FolderExists(after)
                await session.execute(
                    update(MailboxRow).where(MailboxRow.id == ids[before]).values(name=after)
                )
                if before == INBOX:
                    await self._insert_folder(session, owner, INBOX)

    async def _insert_folder(self, session: AsyncSession, owner: str, name: str) -> MailboxRow:
        validity = await Store.next_uid_validity(session, self.store.clock.now())
        row = MailboxRow(owner=owner, name=name, uid_validity=validity, uid_next=1)
        session.add(row)
        await session.flush()
        return row

    # endregion
    # region messages

    async def messages(self, folder_id: int) -> list[StoredMessage]:
        """Every message of the folder, ascending UID (without the bytes)."""
        async with self._database.read() as session:
            rows = await session.execute(
                _message_columns()
                .where(MailboxMessageRow.mailbox_id == folder_id)
                .order_by(MailboxMessageRow.uid)
            )
            return [_stored(row) for row in rows]

    async def find(
        self, folder_id: int, uids: Collection[int], *, with_raw: bool = False
    ) -> dict[int, StoredMessage]:
        """Those of the UIDs that are in the folder, by UID; with their bytes if asked."""
        found: dict[int, StoredMessage] = {}
        query = _message_columns(with_raw=with_raw)
        async with self._database.read() as session:
            for chunk in chunks(uids):
                rows = await session.execute(
                    query.where(
                        MailboxMessageRow.mailbox_id == folder_id,
                        MailboxMessageRow.uid.in_(chunk),
                    )
                )
                for row in rows:
                    found[row.uid] = _stored(row)
        return found

    async def contents(self, folder_id: int, uids: Collection[int]) -> dict[int, bytes]:
        """The bytes of those messages that are still in the folder, by UID, in one query."""
        async with self._database.read() as session:
            rows = await session.execute(
                select(MailboxMessageRow.uid, MessageContentRow.raw)
                .join(MessageContentRow, MessageContentRow.id == MailboxMessageRow.content_id)
                .where(
                    MailboxMessageRow.mailbox_id == folder_id,
                    MailboxMessageRow.uid.in_(sorted(set(uids))),
                )
            )
            return {row.uid: bytes(row.raw) for row in rows}

    async def state(self, folder_id: int) -> FolderState | None:
        """The folder's counts, next UID and highest modseq (one row); ``None`` if gone."""
        async with self._database.read() as session:
            row = (await session.execute(_STATE.where(MailboxRow.id == folder_id))).one_or_none()
        return None if row is None else FolderState(*row)

    async def changes_since(self, folder_id: int, modseq: int) -> FolderChanges | None:
        """What happened to the folder after ``modseq``: the messages filed or re-flagged
        (ascending UID) and the UIDs removed, read in one transaction. ``None`` if gone.

        The cost follows the number of changes, not the size of the folder.
        """
        async with self._database.read() as session:
            row = (await session.execute(_STATE.where(MailboxRow.id == folder_id))).one_or_none()
            if row is None:
                return None
            state = FolderState(*row)
            if state.highest_modseq == modseq:
                return FolderChanges(state, [], [])
            rows = await session.execute(
                _message_columns()
                .where(MailboxMessageRow.mailbox_id == folder_id, MailboxMessageRow.modseq > modseq)
                .order_by(MailboxMessageRow.uid)
            )
            changed = [_stored(row) for row in rows]
            expunged = await session.scalars(
                select(MailboxExpungeRow.uid).where(
                    MailboxExpungeRow.mailbox_id == folder_id, MailboxExpungeRow.modseq > modseq
                )
            )
            return FolderChanges(state, changed, list(expunged))

    async def count_above(self, folder_id: int, uid: int) -> int:
        """How many messages of the folder have a UID above ``uid`` (an index range)."""
        async with self._database.read() as session:
            counted = await session.scalar(
                select(func.count()).where(
                    MailboxMessageRow.mailbox_id == folder_id, MailboxMessageRow.uid > uid
                )
            )
        return int(counted or 0)

    async def flag_page(
        self, folder_id: int, after_uid: int, limit: int
    ) -> list[tuple[int, str, datetime]]:
        """(UID, flags text, internal date) of up to ``limit`` messages above ``after_uid``.

        What a SELECT needs of every message, read a page at a time so that no single step
        (the query, or turning its rows into values on the event loop) grows with the folder.
        """
        async with self._database.read() as session:
            rows = await session.execute(
                _FLAG_PAGE.where(
                    MailboxMessageRow.mailbox_id == folder_id, MailboxMessageRow.uid > after_uid
                ).limit(limit)
            )
            return [(row[0], row[1], _utc(row[2])) for row in rows]

    async def content(self, folder_id: int, uid: int) -> bytes | None:
        """The message's bytes, or ``None`` if it is gone."""
        async with self._database.read() as session:
            raw = await session.scalar(
                select(MessageContentRow.raw)
                .join(MailboxMessageRow, MailboxMessageRow.content_id == MessageContentRow.id)
                .where(MailboxMessageRow.mailbox_id == folder_id, MailboxMessageRow.uid == uid)
            )
        return None if raw is None else bytes(raw)

    async def append(
        self, folder_id: int, raw: bytes, *, flags: Collection[str], internal_date: datetime
    ) -> int:
        """Store a new message at the end of the folder; its UID."""
        raw = canonical_line_ends(raw)
        text = _flags_text(flags)
        async with self._database.write_session() as session, session.begin():
            reserved = await self._reserve_uids(session, folder_id, 1, unseen=int(unseen(text)))
            uid = reserved.first_uid
            content_id = await session.scalar(
                insert(MessageContentRow)
                .values(raw=raw, size=len(raw), created_at=self.store.clock.now())
                .returning(MessageContentRow.id)
            )
            await session.execute(
                insert(MailboxMessageRow).values(
                    mailbox_id=folder_id,
                    uid=uid,
                    content_id=content_id,
                    internal_date=internal_date,
                    flags=text,
                    modseq=reserved.modseq,
                )
            )
        return uid

    async def copy(
        self, source_id: int, uids: Collection[int], destination_id: int
    ) -> list[tuple[int, int]]:
        """File those messages in the destination too; (source UID, new UID) pairs.

        Flags and internal dates travel with the messages; the bytes are shared.
        """
        async with self._database.write_session() as session, session.begin():
            return await self._copy(session, source_id, uids, destination_id)

    async def move(
        self, source_id: int, uids: Collection[int], destination_id: int
    ) -> list[tuple[int, int]]:
        """Like ``copy``, then the source entries go, in the same transaction (RFC 6851)."""
        async with self._database.write_session() as session, session.begin():
            pairs = await self._copy(session, source_id, uids, destination_id)
            await modseq.remove(session, source_id, [source for source, _ in pairs])
            return pairs

    async def _copy(
        self, session: AsyncSession, source_id: int, uids: Collection[int], destination_id: int
    ) -> list[tuple[int, int]]:
        found: list[tuple[int, int, datetime, str]] = []
        for chunk in chunks(uids):
            rows = await session.execute(
                select(
                    MailboxMessageRow.uid,
                    MailboxMessageRow.content_id,
                    MailboxMessageRow.internal_date,
                    MailboxMessageRow.flags,
                ).where(MailboxMessageRow.mailbox_id == source_id, MailboxMessageRow.uid.in_(chunk))
            )
            found.extend((r.uid, r.content_id, r.internal_date, r.flags) for r in rows)
        if not found:
            return []
        found.sort()
        reserved = await self._reserve_uids(
            session, destination_id, len(found), unseen=sum(unseen(f[3]) for f in found)
        )
        new_uids = reserved.uids(len(found))
        await session.execute(
            insert(MailboxMessageRow),
            [
                {
                    "mailbox_id": destination_id,
                    "uid": new_uid,
                    "content_id": content_id,
                    "internal_date": internal_date,
                    "flags": flags,
                    "modseq": reserved.modseq,
                }
                for (_, content_id, internal_date, flags), new_uid in zip(
                    found, new_uids, strict=True
                )
            ],
        )
        return [(uid, new_uid) for (uid, *_), new_uid in zip(found, new_uids, strict=True)]

    async def update_flags(
        self, folder_id: int, uids: Collection[int], flags: frozenset[str], change: FlagChange
    ) -> dict[int, frozenset[str]]:
        """Change the flags of those messages; the resulting flags of the ones that exist."""
        result: dict[int, frozenset[str]] = {}
        async with self._database.write_session() as session, session.begin():
            stamp = await modseq.bump(session, folder_id)
            if stamp is None:
                return result
            changed: list[dict[str, object]] = []
            newly_unseen = 0
            for chunk in chunks(uids):
                rows = await session.execute(
                    select(
                        MailboxMessageRow.id, MailboxMessageRow.uid, MailboxMessageRow.flags
                    ).where(
                        MailboxMessageRow.mailbox_id == folder_id,
                        MailboxMessageRow.uid.in_(chunk),
                    )
                )
                for row in rows:
                    current = frozenset(row.flags.split())
                    result[row.uid] = updated = change.apply(current, flags)
                    if updated != current:
                        changed.append(
                            {"id": row.id, "flags": _flags_text(updated), "modseq": stamp}
                        )
                        newly_unseen += (SEEN not in updated) - (SEEN not in current)
            if changed:
                await session.execute(update(MailboxMessageRow), changed)
                await modseq.adjust(session, folder_id, unseen=newly_unseen)
        return result

    async def _reserve_uids(
        self, session: AsyncSession, folder_id: int, count: int, *, unseen: int
    ) -> Reserved:
        found = await modseq.reserve(session, folder_id, count, unseen=unseen)
        if found is None:
            raise FolderNotFound(folder_id)
        return found[1]

    # endregion
    # region subscriptions

    async def subscriptions(self, owner: str) -> set[str]:
        async with self._database.read() as session:
            names = await session.scalars(
                select(SubscriptionRow.name).where(SubscriptionRow.owner == owner)
            )
            return set(names)

    async def set_subscribed(self, owner: str, name: str, subscribed: bool) -> None:
        async with self._database.write_session() as session, session.begin():
            present = await session.get(SubscriptionRow, (owner, name))
            if subscribed and present is None:
                session.add(SubscriptionRow(owner=owner, name=name))
            elif not subscribed and present is not None:
                await session.delete(present)

    # endregion
