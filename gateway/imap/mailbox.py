"""pymap's mailbox interfaces over the store: ``MailboxSet``, ``MailboxData``, ``Message``.

A ``MailboxData`` is a thin, short-lived view of one folder row (pymap asks for it again on
every command); what must outlive a command lives in the ``MailboxRegistry``. Sessions learn
about changes the maildir way (they compare the whole message list) but only when something
changed: the registry's version (every change made in this process, including the SMTP
deliveries and the pipeline) or the folder's fingerprint (count and next UID, which also
catches POP3 deletions) must differ from what the session saw last.

Storage errors follow pymap's contract: a missing mailbox is ``KeyError``, a taken name is
``ValueError`` (the session turns them into ``[NONEXISTENT]``/``[TRYCREATE]`` and
``[ALREADYEXISTS]``), and a database failure is ``TemporaryFailure`` (``NO [INUSE]``) rather
than pymap's ``BYE [SERVERBUG]``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterable, Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from pymap.backend.mailbox import MailboxDataInterface, MailboxSetInterface
from pymap.concurrent import Event
from pymap.exceptions import MailboxError, NotAllowedError, TemporaryFailure
from pymap.flags import FlagOp
from pymap.interfaces.message import CachedMessage
from pymap.listtree import ListTree
from pymap.mailbox import MailboxSnapshot
from pymap.message import BaseLoadedMessage, BaseMessage
from pymap.mime import MessageContent
from pymap.parsing.message import AppendMessage
from pymap.parsing.response import ResponseCode
from pymap.parsing.specials import FetchRequirement, ObjectId, SequenceSet
from pymap.parsing.specials.flag import Deleted, Flag, Recent, get_system_flags
from pymap.selected import SelectedMailbox, SelectedSet
from sqlalchemy.exc import SQLAlchemyError

from config.clock import Clock
from gateway.imap.namespace import DELIMITER, InvalidName, Namespace, check_name
from gateway.imap.registry import MailboxRegistry, MailboxState
from mailboxes.folders import (
    INBOX,
    FlagChange,
    FolderExists,
    FolderInfo,
    FolderNotFound,
    Folders,
    StoredMessage,
)

__all__ = ["Backing", "LoadedMessage", "MailboxData", "MailboxSet", "Message"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_FLAG_CHANGE = {
    FlagOp.ADD: FlagChange.ADD,
    FlagOp.DELETE: FlagChange.REMOVE,
    FlagOp.REPLACE: FlagChange.REPLACE,
}


def store_errors(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Database failures become ``NO [INUSE]`` for the command, not a dropped connection."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except SQLAlchemyError as exc:
            log.exception("IMAP: store failure in %s", method.__qualname__)
            raise TemporaryFailure("The mail store is unavailable, try again.") from exc

    return wrapper


@dataclass(frozen=True, slots=True)
class Backing:
    """What every mailbox view of the server shares."""

    folders: Folders
    registry: MailboxRegistry
    clock: Clock
    idle_poll: float = 5.0
    """Seconds an IDLE waits before looking at the store anyway (changes made by other
    processes, and removals the store does not announce, such as POP3's)."""


def _flags(stored: Iterable[str]) -> frozenset[Flag]:
    return frozenset(Flag(name) for name in stored)


def _names(flags: Iterable[Flag]) -> frozenset[str]:
    return frozenset(str(flag) for flag in flags if flag != Recent)


def _crlf(raw: bytes) -> bytes:
    """IMAP literals have CRLF line ends; a message stored with bare LFs gets them here."""
    if raw.count(b"\n") == raw.count(b"\r\n"):
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class LoadedMessage(BaseLoadedMessage):
    pass


class Message(BaseMessage):
    """A message's metadata; its bytes are read from the store only when a fetch needs them."""

    __slots__ = ["_mailbox"]

    def __init__(
        self,
        uid: int,
        internal_date: datetime,
        permanent_flags: Iterable[Flag],
        *,
        expunged: bool = False,
        mailbox: MailboxData | None = None,
    ) -> None:
        super().__init__(uid, internal_date, permanent_flags, expunged=expunged)
        self._mailbox = mailbox

    @classmethod
    def expunged_copy(cls, cached: CachedMessage, flags: frozenset[Flag] | None = None) -> Message:
        return cls(
            cached.uid,
            cached.internal_date,
            cached.permanent_flags if flags is None else flags,
            expunged=True,
        )

    async def load_content(self, requirement: FetchRequirement) -> LoadedMessage:
        if self._mailbox is None or requirement.has_none(FetchRequirement.CONTENT):
            return LoadedMessage(self, requirement, None)
        raw = await self._mailbox.raw(self.uid)
        content = None if raw is None else MessageContent.parse(_crlf(raw))
        return LoadedMessage(self, requirement, content)


class MailboxData(MailboxDataInterface[Message]):
    """One folder, as pymap's ``MailboxDataInterface`` wants it."""

    def __init__(self, backing: Backing, info: FolderInfo) -> None:
        self._backing = backing
        self._folders = backing.folders
        self.info = info
        self._state: MailboxState = backing.registry.state(info.owner, info.name)
        # The row id and UIDVALIDITY together: a folder deleted and created again, or a
        # fresh INBOX after a rename, is a different mailbox to a selected session.
        self._mailbox_id = ObjectId(b"F%d_%d" % (info.id, info.uid_validity))

    @property
    def mailbox_id(self) -> ObjectId:
        return self._mailbox_id

    @property
    def readonly(self) -> bool:
        return False

    @property
    def uid_validity(self) -> int:
        return self.info.uid_validity

    @property
    def permanent_flags(self) -> frozenset[Flag]:
        return get_system_flags() - {Recent}

    @property
    def session_flags(self) -> frozenset[Flag]:
        return frozenset({Recent})

    @property
    def selected_set(self) -> SelectedSet:
        return self._state.selected_set

    def _message(self, stored: StoredMessage) -> Message:
        return Message(stored.uid, stored.internal_date, _flags(stored.flags), mailbox=self)

    def _changed(self) -> None:
        self._state.touch()

    @store_errors
    async def raw(self, uid: int) -> bytes | None:
        return await self._folders.content(self.info.id, uid)

    @store_errors
    async def update_selected(
        self, selected: SelectedMailbox, *, wait_on: Event | None = None
    ) -> SelectedMailbox:
        if selected.mailbox_id != self.mailbox_id:
            selected.set_deleted()  # the name now leads to another folder
            return selected
        state = self._state
        seen = selected.mod_sequence
        unchanged = seen is not None and seen[0] == state.version
        if wait_on is not None and not wait_on.is_set() and unchanged:
            await wait_on.or_event(state.event).wait(timeout=self._backing.idle_poll)
        version = state.version
        fingerprint = await self._folders.fingerprint(self.info.id)
        if fingerprint is None:
            selected.set_deleted()
            return selected
        now_seen = (version, fingerprint)
        if now_seen != seen:
            stored = await self._folders.messages(self.info.id)
            selected.set_messages([self._message(s) for s in stored])
        selected.mod_sequence = now_seen
        return selected

    @store_errors
    async def append(self, append_msg: AppendMessage, *, recent: bool = False) -> Message:
        when = append_msg.when or self._backing.clock.now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        flags = _names(append_msg.flag_set)
        uid = await self._folders.append(
            self.info.id, append_msg.literal, flags=flags, internal_date=when
        )
        self._changed()
        return Message(uid, when, _flags(flags), mailbox=self)

    async def copy(self, uid: int, destination: MailboxData, *, recent: bool = False) -> int | None:
        pairs = await self.copy_many([uid], destination)
        return pairs[0][1] if pairs else None

    async def move(self, uid: int, destination: MailboxData, *, recent: bool = False) -> int | None:
        pairs = await self.move_many([uid], destination)
        return pairs[0][1] if pairs else None

    @store_errors
    async def copy_many(
        self, uids: Collection[int], destination: MailboxData
    ) -> list[tuple[int, int]]:
        """COPY in one transaction; (source UID, new UID) of the messages that still exist."""
        pairs = await self._folders.copy(self.info.id, uids, destination.info.id)
        destination._changed()
        return pairs

    @store_errors
    async def move_many(
        self, uids: Collection[int], destination: MailboxData
    ) -> list[tuple[int, int]]:
        pairs = await self._folders.move(self.info.id, uids, destination.info.id)
        self._changed()
        destination._changed()
        return pairs

    async def get(self, uid: int, cached_msg: CachedMessage) -> Message:
        (message,) = await self.get_many([cached_msg])
        return message

    @store_errors
    async def get_many(self, cached: Sequence[CachedMessage]) -> list[Message]:
        """Current state of those messages (an expunged copy for the ones gone), in order."""
        found = await self._folders.find(self.info.id, [c.uid for c in cached])
        return [
            self._message(found[c.uid]) if c.uid in found else Message.expunged_copy(c)
            for c in cached
        ]

    async def update(
        self, uid: int, cached_msg: CachedMessage, flag_set: frozenset[Flag], mode: FlagOp
    ) -> Message:
        (message,) = await self.update_many([cached_msg], flag_set, mode)
        return message

    @store_errors
    async def update_many(
        self, cached: Sequence[CachedMessage], flag_set: frozenset[Flag], mode: FlagOp
    ) -> list[Message]:
        """STORE in one transaction, in order; an expunged copy for the messages gone."""
        uids = [c.uid for c in cached]
        result = await self._folders.update_flags(
            self.info.id, uids, _names(flag_set), _FLAG_CHANGE[mode]
        )
        self._changed()
        messages: list[Message] = []
        for c in cached:
            names = result.get(c.uid)
            if names is None:
                messages.append(Message.expunged_copy(c, mode.apply(c.permanent_flags, flag_set)))
            else:
                messages.append(Message(c.uid, c.internal_date, _flags(names), mailbox=self))
        return messages

    @store_errors
    async def delete(self, uids: Iterable[int]) -> None:
        doomed = list(uids)
        if doomed:
            await self._folders.store.expunge(self.info.owner, self.info.name, doomed)
            self._changed()

    @store_errors
    async def claim_recent(self, selected: SelectedMailbox) -> None:
        fingerprint = await self._folders.fingerprint(self.info.id)
        if fingerprint is None:
            return
        state = self._state
        stored = await self._folders.messages(self.info.id)
        for message in stored:
            if message.uid > state.recent_floor:
                selected.session_flags.add_recent(message.uid)
        state.recent_floor = max(state.recent_floor, fingerprint[1] - 1)

    async def cleanup(self) -> None:
        pass

    @store_errors
    async def snapshot(self) -> MailboxSnapshot:
        stored = await self._folders.messages(self.info.id)
        fingerprint = await self._folders.fingerprint(self.info.id)
        next_uid = fingerprint[1] if fingerprint is not None else self.info.uid_next
        floor = self._state.recent_floor
        unseen = [seq for seq, s in enumerate(stored, 1) if "\\Seen" not in s.flags]
        return MailboxSnapshot(
            self.mailbox_id,
            self.readonly,
            self.uid_validity,
            self.permanent_flags,
            self.session_flags,
            len(stored),
            sum(1 for s in stored if s.uid > floor),
            len(unseen),
            unseen[0] if unseen else None,
            next_uid,
        )

    async def find(
        self, seq_set: SequenceSet, selected: SelectedMailbox
    ) -> AsyncIterable[tuple[int, Message]]:
        listed = selected.messages.get_all(seq_set)
        current = await self.get_many([cached for _, cached in listed])
        for (seq, _), message in zip(listed, current, strict=True):
            yield seq, message

    async def find_deleted(self, seq_set: SequenceSet, selected: SelectedMailbox) -> Sequence[int]:
        session_flags = selected.session_flags
        return [
            message.uid
            async for _, message in self.find(seq_set, selected)
            if not message.expunged and Deleted in message.get_flags(session_flags)
        ]


class MailboxSet(MailboxSetInterface[MailboxData]):
    """The mailboxes one login sees (see ``gateway.imap.namespace``)."""

    def __init__(self, backing: Backing, namespace: Namespace) -> None:
        self._backing = backing
        self._folders = backing.folders
        self.namespace = namespace

    @property
    def owner(self) -> str:
        return self.namespace.owner

    @property
    def delimiter(self) -> str:
        return DELIMITER

    async def _names(self) -> list[str]:
        names: list[str] = []
        for owner, folder in await self._folders.names(self.namespace.owners()):
            name = self.namespace.name_of(owner, folder)
            if name != INBOX:
                names.append(name)
        return names

    @store_errors
    async def set_subscribed(self, name: str, subscribed: bool) -> None:
        if name.upper() == INBOX:
            name = INBOX
        await self._folders.set_subscribed(self.owner, name, subscribed)

    @store_errors
    async def list_subscribed(self) -> ListTree:
        subscribed = await self._folders.subscriptions(self.owner)
        names = [name for name in await self._names() if name in subscribed]
        return ListTree(self.delimiter).update(INBOX, *names)

    @store_errors
    async def list_mailboxes(self) -> ListTree:
        return ListTree(self.delimiter).update(INBOX, *await self._names())

    @store_errors
    async def get_mailbox(self, name: str) -> MailboxData:
        owner, folder = self.namespace.resolve(name)
        info = await self._folders.get(owner, folder)
        if info is None:
            if folder != INBOX:
                raise KeyError(name)
            info = await self._folders.ensure(owner, INBOX)
        return MailboxData(self._backing, info)

    @store_errors
    async def add_mailbox(self, name: str) -> ObjectId:
        self._check_writable(name)
        if name.upper() == INBOX:
            raise ValueError(name)
        try:
            info = await self._folders.create(self.owner, name)
        except FolderExists as exc:
            raise ValueError(name) from exc
        return MailboxData(self._backing, info).mailbox_id

    @store_errors
    async def delete_mailbox(self, name: str) -> None:
        self._check_writable(name)
        if name.upper() == INBOX:
            raise NotAllowedError("INBOX cannot be deleted.")
        try:
            await self._folders.delete(self.owner, name)
        except FolderNotFound as exc:
            raise KeyError(name) from exc
        self._backing.registry.forget(self.owner, name)

    @store_errors
    async def rename_mailbox(self, before: str, after: str) -> None:
        if before.upper() == INBOX:
            before = INBOX
        self._check_writable(before)
        self._check_writable(after)
        tree = await self.list_mailboxes()
        renames = [(old, new) for old, new in tree.get_renames(before, after) if old != new]
        if not renames:
            raise KeyError(before)
        if tree.get(after) is not None:
            raise ValueError(after)
        try:
            await self._folders.rename(self.owner, renames)
        except FolderNotFound as exc:
            raise KeyError(before) from exc
        except FolderExists as exc:
            raise ValueError(after) from exc
        for old, _ in renames:
            self._backing.registry.forget(self.owner, old)

    def _check_writable(self, name: str) -> None:
        if self.namespace.is_shared(name):
            raise NotAllowedError("Department folders are managed by the department.")
        try:
            check_name(name)
        except InvalidName as exc:
            raise MailboxError(name, b"Invalid mailbox name.", ResponseCode.of(b"CANNOT")) from exc
