"""The IMAP side of the store: folders, flags, APPEND, COPY, MOVE and subscriptions.

``Store`` holds what SMTP, POP3 and the pipeline need (deliver, list, read, expunge). An IMAP
client also manages folders, sets flags and files messages itself; those operations live
here, over the same tables, so both protocols share one truth: the same UIDs and
UIDVALIDITY (POP3's UIDL is ``<uid_validity>.<uid>``) and the same deletions (removal goes
through ``Store.expunge``).

Folders are addressed by their row id once looked up, so an APPEND or a COPY never creates
a folder by accident (``Store.deliver`` creates them on first delivery; IMAP must answer
``[TRYCREATE]`` instead). Every method is one transaction, run whole in the database thread
(``Database.run``): a SELECT's page or a FETCH's bytes is one hand-off, not one per
statement. COPY files the same content row again, since contents are stored once and
shared: a copy costs no bytes.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Row,
    Select,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from mailboxes import modseq
from mailboxes.bound_lists import one_of
from mailboxes.fixed_statements import execute
from mailboxes.keywords import KeywordLimit, refused_keywords
from mailboxes.line_ends import canonical_line_ends
from mailboxes.modseq import SEEN, Reserved, chunks, unseen
from mailboxes.schema import (
    MailboxExpungeRow,
    MailboxMessageRow,
    MailboxRow,
    MessageContentRow,
    SubscriptionRow,
)
from mailboxes.store import Store, drop_orphans, next_uid_validity

__all__ = [
    "INBOX",
    "MAX_FOLDERS",
    "FlagChange",
    "FolderChanges",
    "FolderExists",
    "FolderInfo",
    "FolderNotFound",
    "FolderState",
    "Folders",
    "StoredMessage",
    "TooManyFolders",
]

INBOX = "INBOX"


class FolderExists(ValueError):
    """A folder of that name already exists for that owner."""


class FolderNotFound(KeyError):
    """No such folder (any more)."""


MAX_FOLDERS: Final = 1000
"""Folders one account may create. Without a bound a client's pipelined CREATEs made 5 000
in six seconds, each a row every LIST, every page of the console and every backup carries
(the console's page of that account: 2.2 s). Offices and the node's own folders are far
below it (a dozen)."""


class TooManyFolders(Exception):
    """The account has ``MAX_FOLDERS`` folders (or subscriptions) already: nothing was
    made."""


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
).where(MailboxRow.id == bindparam("folder"))

_INFO = select(
    MailboxRow.id, MailboxRow.owner, MailboxRow.name, MailboxRow.uid_validity, MailboxRow.uid_next
).where(MailboxRow.owner == bindparam("owner"), MailboxRow.name == bindparam("name"))

_FOLDER_ID = select(MailboxRow.id).where(
    MailboxRow.owner == bindparam("owner"), MailboxRow.name == bindparam("name")
)
_FOLDER_COUNT = select(func.count(MailboxRow.id)).where(MailboxRow.owner == bindparam("owner"))

_CHANGED = (
    _message_columns()
    .where(
        MailboxMessageRow.mailbox_id == bindparam("folder"),
        MailboxMessageRow.modseq > bindparam("modseq"),
    )
    .order_by(MailboxMessageRow.uid)
)

_IN_FOLDER = MailboxMessageRow.mailbox_id == bindparam("folder")
_UIDS = one_of(MailboxMessageRow.uid, "uids")

_FIND = _message_columns().where(_IN_FOLDER, _UIDS)
_FIND_RAW = _message_columns(with_raw=True).where(_IN_FOLDER, _UIDS)
_FIND_ONE_RAW = _message_columns(with_raw=True).where(
    _IN_FOLDER, MailboxMessageRow.uid == bindparam("uid")
)
_CONTENTS = (
    select(MailboxMessageRow.uid, MessageContentRow.raw)
    .join(MessageContentRow, MessageContentRow.id == MailboxMessageRow.content_id)
    .where(_IN_FOLDER, _UIDS)
)
_FLAGS_OF = select(MailboxMessageRow.id, MailboxMessageRow.uid, MailboxMessageRow.flags).where(
    _IN_FOLDER, _UIDS
)
_TO_COPY = select(
    MailboxMessageRow.uid,
    MailboxMessageRow.content_id,
    MailboxMessageRow.internal_date,
    MailboxMessageRow.flags,
).where(_IN_FOLDER, _UIDS)

_EXPUNGED = select(MailboxExpungeRow.uid).where(
    MailboxExpungeRow.mailbox_id == bindparam("folder"),
    MailboxExpungeRow.modseq > bindparam("modseq"),
)


_FLAG_PAGE = (
    select(
        MailboxMessageRow.uid,
        MailboxMessageRow.flags,
        # The stored value as the driver gives it: SQLite's text is parsed by ``_utc`` in C,
        # several times faster than the column type's own conversion, for a whole mailbox.
        type_coerce(MailboxMessageRow.internal_date, String),
    )
    .where(
        MailboxMessageRow.mailbox_id == bindparam("folder"),
        MailboxMessageRow.uid > bindparam("after"),
    )
    .order_by(MailboxMessageRow.uid)
    .limit(bindparam("limit"))
)


def _utc(value: str | datetime) -> datetime:
    """An internal date as ``UTCDateTime`` stores it: naive UTC text (SQLite), or aware."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _info(row: Row[int, str, str, int, int]) -> FolderInfo:
    return FolderInfo(row.id, row.owner, row.name, row.uid_validity, row.uid_next)


class Folders:
    """Folder and message operations for IMAP over one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._database = store.database

    # region folders

    async def get(self, owner: str, name: str) -> FolderInfo | None:
        def read(connection: Connection) -> FolderInfo | None:
            row = connection.execute(_INFO, {"owner": owner, "name": name}).one_or_none()
            return None if row is None else _info(row)

        return await self._database.run(read)

    async def names(self, owners: Collection[str]) -> list[tuple[str, str]]:
        """(owner, folder name) of every folder of those owners."""
        if not owners:
            return []

        def read(connection: Connection) -> list[tuple[str, str]]:
            rows = connection.execute(
                select(MailboxRow.owner, MailboxRow.name)
                .where(MailboxRow.owner.in_(list(owners)))
                .order_by(MailboxRow.owner, MailboxRow.name)
            )
            return [(row.owner, row.name) for row in rows]

        return await self._database.run(read)

    async def create(self, owner: str, name: str, *, bounded: bool = True) -> FolderInfo:
        """A new, empty folder; ``FolderExists`` if the name is taken, ``TooManyFolders``
        if the owner has ``MAX_FOLDERS`` already (``bounded``: what a client asks for; the
        node's own, INBOX first, are always made)."""

        def write(connection: Connection) -> FolderInfo:
            taken = connection.scalar(_FOLDER_ID, {"owner": owner, "name": name})
            if taken is not None:
                raise FolderExists(name)
            if bounded and (connection.scalar(_FOLDER_COUNT, {"owner": owner}) or 0) >= MAX_FOLDERS:
                raise TooManyFolders(owner)
            return self._insert_folder(connection, owner, name)

        try:
            return await self._database.run(write, write=True)
        except IntegrityError as exc:  # created by a delivery in between (PostgreSQL)
            raise FolderExists(name) from exc

    async def ensure(self, owner: str, name: str) -> FolderInfo:
        """The folder, created empty if it does not exist yet (INBOX must always exist)."""
        for _ in range(3):  # a concurrent creation (delivery, another login) may win a race
            found = await self.get(owner, name)
            if found is not None:
                return found
            with contextlib.suppress(FolderExists):
                return await self.create(owner, name, bounded=False)
        raise FolderExists(name)

    async def delete(self, owner: str, name: str) -> None:
        """Remove the folder and its messages (contents nobody else references go too)."""

        def write(connection: Connection) -> None:
            folder_id = connection.scalar(_FOLDER_ID, {"owner": owner, "name": name})
            if folder_id is None:
                raise FolderNotFound(name)
            content_ids = list(
                connection.scalars(
                    delete(MailboxMessageRow)
                    .where(MailboxMessageRow.mailbox_id == folder_id)
                    .returning(MailboxMessageRow.content_id)
                )
            )
            connection.execute(delete(MailboxRow).where(MailboxRow.id == folder_id))
            drop_orphans(connection, content_ids)

        await self._database.run(write, write=True)

    async def rename(self, owner: str, renames: Sequence[tuple[str, str]]) -> None:
        """Rename folders, all or none (a folder and its inferiors, RFC 3501 §6.3.5).

        Renaming INBOX moves its messages to the new name and leaves an empty INBOX with a
        new UIDVALIDITY, so POP3 UIDLs of the old messages are never given out again.
        """

        def write(connection: Connection) -> None:
            for before, after in renames:
                rows = connection.execute(
                    select(MailboxRow.id, MailboxRow.name).where(
                        MailboxRow.owner == owner, MailboxRow.name.in_([before, after])
                    )
                )
                ids = {row.name: row.id for row in rows}
                if before not in ids:
                    raise FolderNotFound(before)
                if after in ids:
                    raise FolderExists(after)
                connection.execute(
                    update(MailboxRow).where(MailboxRow.id == ids[before]).values(name=after)
                )
                if before == INBOX:
                    self._insert_folder(connection, owner, INBOX)

        await self._database.run(write, write=True)

    def _insert_folder(self, connection: Connection, owner: str, name: str) -> FolderInfo:
        validity = next_uid_validity(connection, self.store.clock.now())
        folder_id = connection.scalar(
            insert(MailboxRow)
            .values(owner=owner, name=name, uid_validity=validity, uid_next=1)
            .returning(MailboxRow.id)
        )
        assert folder_id is not None
        return FolderInfo(folder_id, owner, name, validity, 1)

    # endregion
    # region messages

    async def messages(self, folder_id: int) -> list[StoredMessage]:
        """Every message of the folder, ascending UID (without the bytes)."""

        def read(connection: Connection) -> list[StoredMessage]:
            rows = connection.execute(
                _message_columns()
                .where(MailboxMessageRow.mailbox_id == folder_id)
                .order_by(MailboxMessageRow.uid)
            )
            return [_stored(row) for row in rows]

        return await self._database.run(read)

    async def find(
        self, folder_id: int, uids: Collection[int], *, with_raw: bool = False
    ) -> dict[int, StoredMessage]:
        """Those of the UIDs that are in the folder, by UID; with their bytes if asked."""

        def read(connection: Connection) -> dict[int, StoredMessage]:
            if len(uids) == 1 and with_raw:  # a single FETCH: no list to expand
                (uid,) = uids
                row = connection.execute(_FIND_ONE_RAW, {"folder": folder_id, "uid": uid}).first()
                return {} if row is None else {uid: _stored(row)}
            query = _FIND_RAW if with_raw else _FIND
            found: dict[int, StoredMessage] = {}
            for chunk in chunks(uids):
                for row in connection.execute(query, {"folder": folder_id, "uids": chunk}):
                    found[row.uid] = _stored(row)
            return found

        return await self._database.run(read)

    async def find_one(self, folder_id: int, uid: int) -> StoredMessage | None:
        """One message with its bytes, if it is in the folder (a single FETCH's one read).

        The statement runs on the driver's cursor (``fixed_statements``): for this read
        SQLAlchemy's work per execution was four times SQLite's.
        """

        def read(connection: Connection) -> StoredMessage | None:
            found = execute(connection, _FIND_ONE_RAW, {"folder": folder_id, "uid": uid})
            if not found:
                return None
            ((uid_, content_id, internal_date, flags, size, raw),) = found
            return StoredMessage(
                uid_, content_id, internal_date, frozenset(flags.split()), size, bytes(raw)
            )

        return await self._database.run(read)

    async def contents(self, folder_id: int, uids: Collection[int]) -> dict[int, bytes]:
        """The bytes of those messages that are still in the folder, by UID, in one query."""

        def read(connection: Connection) -> dict[int, bytes]:
            rows = connection.execute(_CONTENTS, {"folder": folder_id, "uids": sorted(set(uids))})
            return {row.uid: bytes(row.raw) for row in rows}

        return await self._database.run(read)

    async def state(self, folder_id: int) -> FolderState | None:
        """The folder's counts, next UID and highest modseq (one row); ``None`` if gone."""

        def read(connection: Connection) -> FolderState | None:
            row = connection.execute(_STATE, {"folder": folder_id}).one_or_none()
            return None if row is None else FolderState(*row)

        return await self._database.run(read)

    async def changes_since(self, folder_id: int, modseq: int) -> FolderChanges | None:
        """What happened to the folder after ``modseq``: the messages filed or re-flagged
        (ascending UID) and the UIDs removed, read in one transaction. ``None`` if gone.

        The cost follows the number of changes, not the size of the folder.
        """

        def read(connection: Connection) -> FolderChanges | None:
            row = connection.execute(_STATE, {"folder": folder_id}).one_or_none()
            if row is None:
                return None
            state = FolderState(*row)
            if state.highest_modseq == modseq:
                return FolderChanges(state, [], [])
            since = {"folder": folder_id, "modseq": modseq}
            changed = [_stored(row) for row in connection.execute(_CHANGED, since)]
            expunged = list(connection.scalars(_EXPUNGED, since))
            return FolderChanges(state, changed, expunged)

        return await self._database.run(read)

    async def count_above(self, folder_id: int, uid: int) -> int:
        """How many messages of the folder have a UID above ``uid`` (an index range)."""

        def read(connection: Connection) -> int:
            counted = connection.scalar(
                select(func.count()).where(
                    MailboxMessageRow.mailbox_id == folder_id, MailboxMessageRow.uid > uid
                )
            )
            return int(counted or 0)

        return await self._database.run(read)

    async def flag_page(
        self, folder_id: int, after_uid: int, limit: int
    ) -> list[tuple[int, str, datetime]]:
        """(UID, flags text, internal date) of up to ``limit`` messages above ``after_uid``.

        What a SELECT needs of every message, read a page at a time so that no single step
        (the query, or turning its rows into values) grows with the folder.
        """

        def read(connection: Connection) -> list[tuple[int, str, datetime]]:
            rows = connection.execute(
                _FLAG_PAGE, {"folder": folder_id, "after": after_uid, "limit": limit}
            )
            return [(row[0], row[1], _utc(row[2])) for row in rows]

        return await self._database.run(read)

    async def content(self, folder_id: int, uid: int) -> bytes | None:
        """The message's bytes, or ``None`` if it is gone."""
        return await self.store.read_filed(folder_id, uid)

    async def append(
        self,
        folder_id: int,
        raw: bytes,
        *,
        flags: Collection[str],
        internal_date: datetime,
        line_ends_canonical: bool = False,
    ) -> int:
        """Store a new message at the end of the folder; its UID.

        ``KeywordLimit`` if ``flags`` hold more keywords, or longer, than a message may;
        ``StorageFull`` below the store's reserve (``Store.check_room``).
        ``line_ends_canonical`` as for ``Store.deliver``.
        """
        if (refused := refused_keywords((), flags)) is not None:
            raise KeywordLimit(refused)
        self.store.check_room(len(raw))
        if not line_ends_canonical:
            raw = canonical_line_ends(raw)
        text = _flags_text(flags)
        now = self.store.clock.now()

        def write(connection: Connection) -> int:
            reserved = _reserve(connection, folder_id, 1, unseen=int(unseen(text)))
            content_id = connection.scalar(
                insert(MessageContentRow)
                .values(raw=raw, size=len(raw), created_at=now)
                .returning(MessageContentRow.id)
            )
            connection.execute(
                insert(MailboxMessageRow).values(
                    mailbox_id=folder_id,
                    uid=reserved.first_uid,
                    content_id=content_id,
                    internal_date=internal_date,
                    flags=text,
                    modseq=reserved.modseq,
                )
            )
            return reserved.first_uid

        return await self._database.run(write, write=True)

    async def copy(
        self, source_id: int, uids: Collection[int], destination_id: int
    ) -> list[tuple[int, int]]:
        """File those messages in the destination too; (source UID, new UID) pairs.

        Flags and internal dates travel with the messages; the bytes are shared.
        """

        def write(connection: Connection) -> list[tuple[int, int]]:
            return _copy(connection, source_id, uids, destination_id)

        return await self._database.run(write, write=True)

    async def move(
        self, source_id: int, uids: Collection[int], destination_id: int
    ) -> list[tuple[int, int]]:
        """Like ``copy``, then the source entries go, in the same transaction (RFC 6851)."""

        def write(connection: Connection) -> list[tuple[int, int]]:
            pairs = _copy(connection, source_id, uids, destination_id)
            modseq.remove(connection, source_id, [source for source, _ in pairs])
            return pairs

        return await self._database.run(write, write=True)

    async def update_flags(
        self, folder_id: int, uids: Collection[int], flags: frozenset[str], change: FlagChange
    ) -> dict[int, frozenset[str]]:
        """Change the flags of those messages; the resulting flags of the ones that exist.

        ``KeywordLimit``, and nothing changed, if a message would carry more keywords, or
        longer, than a message may.
        """

        def write(connection: Connection) -> dict[int, frozenset[str]]:
            result: dict[int, frozenset[str]] = {}
            stamp = modseq.bump(connection, folder_id)
            if stamp is None:
                return result
            changed: list[dict[str, object]] = []
            newly_unseen = 0
            for chunk in chunks(uids):
                rows = connection.execute(_FLAGS_OF, {"folder": folder_id, "uids": chunk})
                for row in rows:
                    current = frozenset(row.flags.split())
                    result[row.uid] = updated = change.apply(current, flags)
                    if (refused := refused_keywords(current, updated)) is not None:
                        raise KeywordLimit(refused)  # the transaction is rolled back whole
                    if updated != current:
                        changed.append(
                            {"row_id": row.id, "new_flags": _flags_text(updated), "stamp": stamp}
                        )
                        newly_unseen += (SEEN not in updated) - (SEEN not in current)
            if changed:
                connection.execute(_SET_FLAGS, changed)
                modseq.adjust(connection, folder_id, unseen=newly_unseen)
            return result

        return await self._database.run(write, write=True)

    # endregion
    # region subscriptions

    async def subscriptions(self, owner: str) -> set[str]:
        def read(connection: Connection) -> set[str]:
            return set(
                connection.scalars(
                    select(SubscriptionRow.name).where(SubscriptionRow.owner == owner)
                )
            )

        return await self._database.run(read)

    async def set_subscribed(self, owner: str, name: str, subscribed: bool) -> None:
        """Subscribe or unsubscribe; ``TooManyFolders`` for a subscription past
        ``MAX_FOLDERS`` (a name needs no folder to be subscribed, RFC 3501 §6.3.6: without
        the bound, pipelined SUBSCRIBEs made rows without end)."""

        def write(connection: Connection) -> None:
            where = (SubscriptionRow.owner == owner) & (SubscriptionRow.name == name)
            present = connection.scalar(select(func.count()).where(where))
            if subscribed and not present:
                held = connection.scalar(select(func.count()).where(SubscriptionRow.owner == owner))
                if (held or 0) >= MAX_FOLDERS:
                    raise TooManyFolders(owner)
                connection.execute(insert(SubscriptionRow).values(owner=owner, name=name))
            elif not subscribed and present:
                connection.execute(delete(SubscriptionRow).where(where))

        await self._database.run(write, write=True)

    # endregion


_SET_FLAGS = (
    update(MailboxMessageRow)
    .where(MailboxMessageRow.id == bindparam("row_id"))
    .values(flags=bindparam("new_flags"), modseq=bindparam("stamp"))
)


def _reserve(connection: Connection, folder_id: int, count: int, *, unseen: int) -> Reserved:
    found = modseq.reserve(connection, folder_id, count, unseen=unseen)
    if found is None:
        raise FolderNotFound(folder_id)
    return found[1]


def _copy(
    connection: Connection, source_id: int, uids: Collection[int], destination_id: int
) -> list[tuple[int, int]]:
    found: list[tuple[int, int, datetime, str]] = []
    for chunk in chunks(uids):
        rows = connection.execute(_TO_COPY, {"folder": source_id, "uids": chunk})
        found.extend((r.uid, r.content_id, r.internal_date, r.flags) for r in rows)
    if not found:
        return []
    found.sort()
    reserved = _reserve(
        connection, destination_id, len(found), unseen=sum(unseen(f[3]) for f in found)
    )
    new_uids = reserved.uids(len(found))
    connection.execute(
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
            for (_, content_id, internal_date, flags), new_uid in zip(found, new_uids, strict=True)
        ],
    )
    return [(uid, new_uid) for (uid, *_), new_uid in zip(found, new_uids, strict=True)]
