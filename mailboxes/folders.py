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
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailboxes.line_ends import canonical_line_ends
from mailboxes.schema import (
    MailboxMessageRow,
    MailboxRow,
    MessageContentRow,
    SubscriptionRow,
)
from mailboxes.store import Store

__all__ = [
    "INBOX",
    "FlagChange",
    "FolderExists",
    "FolderInfo",
    "FolderNotFound",
    "Folders",
    "StoredMessage",
]

INBOX = "INBOX"

_CHUNK = 500
"""UIDs per ``IN (...)`` list: far below every backend's bound-parameter limit."""


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


def _chunks(uids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


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
        async with self._database.read_session() as session:
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
        async with self._database.read_session() as session:
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
        async with self._database.read_session() as session:
            for chunk in _chunks(uids):
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
        async with self._database.read_session() as session:
            rows = await session.execute(
                select(MailboxMessageRow.uid, MessageContentRow.raw)
                .join(MessageContentRow, MessageContentRow.id == MailboxMessageRow.content_id)
                .where(
                    MailboxMessageRow.mailbox_id == folder_id,
                    MailboxMessageRow.uid.in_(sorted(set(uids))),
                )
            )
            return {row.uid: bytes(row.raw) for row in rows}

    async def fingerprint(self, folder_id: int) -> tuple[int, int] | None:
        """(message count, next UID): changes whenever a message is added or removed.

        Flag changes do not show here; they are made through this process and announced
        in it. ``None`` if the folder is gone.
        """
        async with self._database.read_session() as session:
            row = (
                await session.execute(
                    select(
                        MailboxRow.uid_next,
                        select(func.count())
                        .where(MailboxMessageRow.mailbox_id == folder_id)
                        .scalar_subquery(),
                    ).where(MailboxRow.id == folder_id)
                )
            ).one_or_none()
        return None if row is None else (int(row[1]), int(row[0]))

    async def content(self, folder_id: int, uid: int) -> bytes | None:
        """The message's bytes, or ``None`` if it is gone."""
        async with self._database.read_session() as session:
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
        async with self._database.write_session() as session, session.begin():
            (uid,) = await self._reserve_uids(session, folder_id, 1)
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
                    flags=_flags_text(flags),
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
            for chunk in _chunks([source for source, _ in pairs]):
                await session.execute(
                    delete(MailboxMessageRow).where(
                        MailboxMessageRow.mailbox_id == source_id,
                        MailboxMessageRow.uid.in_(chunk),
                    )
                )
            return pairs

    async def _copy(
        self, session: AsyncSession, source_id: int, uids: Collection[int], destination_id: int
    ) -> list[tuple[int, int]]:
        found: list[tuple[int, int, datetime, str]] = []
        for chunk in _chunks(uids):
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
        new_uids = await self._reserve_uids(session, destination_id, len(found))
        await session.execute(
            insert(MailboxMessageRow),
            [
                {
                    "mailbox_id": destination_id,
                    "uid": new_uid,
                    "content_id": content_id,
                    "internal_date": internal_date,
                    "flags": flags,
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
            changed: list[dict[str, object]] = []
            for chunk in _chunks(uids):
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
                        changed.append({"id": row.id, "flags": _flags_text(updated)})
            if changed:
                await session.execute(update(MailboxMessageRow), changed)
        return result

    async def _reserve_uids(self, session: AsyncSession, folder_id: int, count: int) -> range:
        uid_next = await session.scalar(
            update(MailboxRow)
            .where(MailboxRow.id == folder_id)
            .values(uid_next=MailboxRow.uid_next + count)
            .returning(MailboxRow.uid_next)
        )
        if uid_next is None:
            raise FolderNotFound(folder_id)
        return range(uid_next - count, uid_next)

    # endregion
    # region subscriptions

    async def subscriptions(self, owner: str) -> set[str]:
        async with self._database.read_session() as session:
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
