"""pymap's mailbox interfaces over the store: ``MailboxSet``, ``MailboxData``, ``Message``.

A ``MailboxData`` is a thin, short-lived view of one folder row (pymap asks for it again on
every command); what must outlive a command lives in the ``MailboxRegistry``. A SELECT reads
each message's UID and flags once, a page at a time (``MailboxData.load``); from then on a
session asks the store only for what changed since the modseq it saw (new messages, flag
changes, removals by POP3, other sessions or other processes), and keeps its view in
``gateway.imap.selected``, where each command costs what it touches. Within a burst of
commands, nothing changed in this process (the registry's version) means no query at all.

Storage errors follow pymap's contract: a missing mailbox is ``KeyError``, a taken name is
``ValueError`` (the session turns them into ``[NONEXISTENT]``/``[TRYCREATE]`` and
``[ALREADYEXISTS]``), and a database failure is ``TemporaryFailure`` (``NO [INUSE]``) rather
than pymap's ``BYE [SERVERBUG]``; a store without room is ``NO [OVERQUOTA]`` (``NoRoom``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterable, Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Concatenate, Final, NamedTuple, ParamSpec, Protocol, TypeVar

from pymap.backend.mailbox import MailboxDataInterface, MailboxSetInterface
from pymap.concurrent import Event
from pymap.context import current_command
from pymap.exceptions import (
    MailboxError,
    MailboxNotFound,
    NotAllowedError,
    ResponseError,
    TemporaryFailure,
)
from pymap.flags import FlagOp
from pymap.interfaces.message import CachedMessage
from pymap.listtree import ListTree
from pymap.mailbox import MailboxSnapshot
from pymap.message import BaseMessage
from pymap.parsing.command.select import CopyCommand, FetchCommand, SearchCommand, StoreCommand
from pymap.parsing.message import AppendMessage
from pymap.parsing.response import ResponseCode, ResponseNo
from pymap.parsing.specials import FetchAttribute, FetchRequirement, ObjectId, SequenceSet
from pymap.parsing.specials.flag import Deleted, Flag, Recent, Seen, Wildcard, get_system_flags
from pymap.selected import SelectedMailbox, SelectedSet

from config.clock import Clock
from gateway.allowance import SubmissionAllowance
from gateway.imap.content import ParsedOffLoop, ParsedOnDemand, parses_inline
from gateway.imap.fast_fetch import is_fast
from gateway.imap.namespace import DELIMITER, InvalidName, Namespace, check_name
from gateway.imap.registry import MailboxRegistry, MailboxState
from gateway.imap.selected import (
    IncrementalMessages,
    IncrementalSelected,
    RecentFlags,
    flags_of_names,
)
from gateway.imap.shape import LoadedMessage, Snapshot
from gateway.imap.slices import SLICE
from gateway.lane import by_size
from gateway.limits import FAILURE_LOG_INTERVAL, FullStoreLog, RateLimitedLog
from mailboxes.errors import StoreError, storage_full
from mailboxes.folders import (
    INBOX,
    MAX_FOLDERS,
    FlagChange,
    FolderChanges,
    FolderExists,
    FolderInfo,
    FolderNotFound,
    Folders,
    StoredMessage,
    TooManyFolders,
)
from mailboxes.keywords import KeywordLimit
from mailboxes.line_ends import canonical_line_ends
from mailboxes.store import StorageFull

__all__ = ["Backing", "LoadedMessage", "MailboxData", "MailboxSet", "Message"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_FLAG_CHANGE = {
    FlagOp.ADD: FlagChange.ADD,
    FlagOp.DELETE: FlagChange.REMOVE,
    FlagOp.REPLACE: FlagChange.REPLACE,
}


class _Backed(Protocol):
    _backing: Backing


B = TypeVar("B", bound=_Backed)


class NoRoom(ResponseError):
    """What cannot be written for want of room in the store: ``NO [OVERQUOTA]``, Dovecot's
    answer to a full disk (RFC 5530 has no code nearer), not the ``[INUSE]`` of a store
    failure: a client tells its user there is no room, not that a mailbox is busy. Also
    what would pass its owner's daily allowance (``gateway.allowance``; RFC 5530: the user
    would be over quota after the operation), as SMTP answers ``452 4.7.1``."""

    def __init__(self, text: str = "Not enough room in the mail store, try again later.") -> None:
        super().__init__(text)

    def get_response(self, tag: bytes) -> ResponseNo:
        return ResponseNo(tag, str(self).encode(), ResponseCode.of(b"OVERQUOTA"))


class OverKeywordLimit(ResponseError):
    """A ``STORE`` or ``APPEND`` over the keyword limits (``mailboxes.keywords``), nothing
    changed: ``NO [LIMIT]`` (RFC 5530), as Cyrus answers the 129th keyword of a mailbox."""

    def get_response(self, tag: bytes) -> ResponseNo:
        return ResponseNo(tag, str(self).encode(), ResponseCode.of(b"LIMIT"))


class OverFolderLimit(ResponseError):
    """A CREATE or SUBSCRIBE past what an account may have (``mailboxes.folders.MAX_FOLDERS``
    folders, as many subscriptions): ``NO [LIMIT]`` (RFC 5530), nothing made."""

    def __init__(self, what: str = "mailboxes") -> None:
        super().__init__(f"Too many {what}: at most {MAX_FOLDERS} per account.")

    def get_response(self, tag: bytes) -> ResponseNo:
        return ResponseNo(tag, str(self).encode(), ResponseCode.of(b"LIMIT"))


def store_errors(
    method: Callable[Concatenate[B, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[B, P], Coroutine[Any, Any, R]]:
    """Database failures become ``NO [INUSE]`` for the command, not a dropped connection;
    logged through the server's gate (an IDLE session meets them every poll)."""

    @functools.wraps(method)
    async def wrapper(self: B, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except (*StoreError, StorageFull) as exc:  # StorageFull: below the store's reserve
            if isinstance(exc, StorageFull) or storage_full(exc):
                # Dovecot's answer to a full disk, told as SMTP tells it
                log.info("IMAP: %s refused: the store is full", method.__qualname__)
                self._backing.full.refused(log, asyncio.get_running_loop().time(), str(exc))
                raise NoRoom() from None
            self._backing.store_failed("IMAP: store failure in %s", method.__qualname__)
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
    failures: RateLimitedLog = field(default_factory=lambda: RateLimitedLog(FAILURE_LOG_INTERVAL))
    """One traceback a minute for the store's failures, whichever session meets them."""
    full: FullStoreLog = field(default_factory=lambda: FullStoreLog("IMAP writes"))
    """A store without room, told once a minute whichever session meets it."""
    allowance: SubmissionAllowance | None = None
    """The bytes each account may add in a day (``gateway.allowance``); None: no bound."""

    def store_failed(self, message: str, *args: object) -> None:
        """Log the store failure being handled (in an ``except`` block), through ``failures``."""
        self.failures.exception(log, asyncio.get_running_loop().time(), message, *args)


RECHECK_SECONDS: Final = 0.5
"""Within a burst of FETCH/STORE/SEARCH/COPY commands, how long a session trusts its view
when nothing in this process changed the folder (POP3 deletions are only seen by looking)."""

_QUICK_COMMANDS = (FetchCommand, StoreCommand, SearchCommand, CopyCommand)


def _quick(command: object) -> bool:
    return is_fast(command) or isinstance(command, _QUICK_COMMANDS)  # the first is cheaper


class _Seen(NamedTuple):
    """What a session last saw of its folder (kept in ``SelectedMailbox.mod_sequence``)."""

    version: int
    modseq: int
    checked: float


def _flags(stored: Iterable[str]) -> frozenset[Flag]:
    return frozenset(Flag(name) for name in stored)


def _names(flags: Iterable[Flag]) -> frozenset[str]:
    return frozenset(str(flag) for flag in flags if flag != Recent)


_NO_ID: Final = ObjectId(None)
"""Messages have no RFC 8474 object ids here; one shared instance spares one per message."""


class Message(BaseMessage):
    """A message's metadata; its bytes are read from the store only when a fetch needs them.

    They come preloaded (a single-message FETCH reads metadata and bytes in one query), from
    the command's ``ContentBatch``, or else from a query of their own.
    """

    __slots__ = ["_batch", "_mailbox", "_raw", "size"]

    def __init__(
        self,
        uid: int,
        internal_date: datetime,
        permanent_flags: Iterable[Flag],
        *,
        expunged: bool = False,
        mailbox: MailboxData | None = None,
        size: int | None = None,
        raw: bytes | None = None,
    ) -> None:
        super().__init__(
            uid,
            internal_date,
            permanent_flags,
            email_id=_NO_ID,
            thread_id=_NO_ID,
            expunged=expunged,
        )
        self._mailbox = mailbox
        self._raw = raw
        self._batch: ContentBatch | None = None
        self.size = size

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
        if self._raw is not None:
            raw: bytes | None = self._raw
        elif self._batch is not None:
            raw = await self._batch.take(self.uid)
        else:
            raw = await self._mailbox.raw(self.uid)
        if raw is None:
            return LoadedMessage(self, requirement, None)
        if parses_inline(raw) or not _reads_structure():  # parsed if its parts are asked for
            return ParsedOnDemand(self, requirement, await by_size(canonical_line_ends, raw))
        return ParsedOffLoop(self, requirement, raw)  # parsed in the lane where it is used


_WHOLE_OR_METADATA: Final = frozenset(
    {b"UID", b"FLAGS", b"INTERNALDATE", b"MODSEQ", b"EMAILID", b"THREADID", b"RFC822.SIZE",
     b"RFC822"}
)  # fmt: skip


def _reads_structure() -> bool:
    """Whether the command being answered needs the messages' MIME structure: a SEARCH, or a
    FETCH of anything but metadata and whole messages' bytes (``BODY[]``, ``RFC822``)."""
    command = current_command.get(None)
    if not (is_fast(command) or isinstance(command, FetchCommand)):
        return True
    return not all(_whole_or_metadata(attribute) for attribute in command.attributes)


def _whole_or_metadata(attribute: FetchAttribute) -> bool:
    if attribute.value in _WHOLE_OR_METADATA:
        return True
    section = attribute.section
    return (
        attribute.value in (b"BODY", b"BODY.PEEK")
        and section is not None
        and not section.parts
        and section.specifier is None
    )


class ContentBatch:
    """The bytes of the messages one FETCH sends, read a few megabytes per query.

    pymap loads each message's content as it writes that message's response; a query per
    message would cost more than the rest of the FETCH. The batch reads the next run of
    messages, in the order they will be written, when the first of them is asked for.
    """

    BYTES: Final = 2 * 1024 * 1024
    COUNT: Final = 256
    UNKNOWN_SIZE: Final = 64 * 1024

    def __init__(self, mailbox: MailboxData, messages: Sequence[Message]) -> None:
        self._mailbox = mailbox
        self._order = [message.uid for message in messages]
        self._sizes = {message.uid: message.size for message in messages}
        self._position = {uid: index for index, uid in enumerate(self._order)}
        self._loaded: dict[int, bytes] = {}
        for message in messages:
            message._batch = self

    async def take(self, uid: int) -> bytes | None:
        if uid not in self._loaded and uid in self._position:
            await self._load_from(self._position[uid])
        raw = self._loaded.pop(uid, None)
        return raw if raw is not None else await self._mailbox.raw(uid)

    async def _load_from(self, index: int) -> None:
        chunk: list[int] = []
        total = 0
        for uid in self._order[index:]:
            if chunk and (total >= self.BYTES or len(chunk) >= self.COUNT):
                break
            chunk.append(uid)
            total += self._sizes.get(uid) or self.UNKNOWN_SIZE
        self._loaded.update(await self._mailbox.contents(chunk))


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
        """System flags and, with ``\\*``, any keyword ($Label1, $Junk, $Forwarded...):
        the store keeps flags as names, so a client's tags persist as Dovecot keeps them."""
        return (get_system_flags() - {Recent}) | {Wildcard}

    @property
    def session_flags(self) -> frozenset[Flag]:
        return frozenset({Recent})

    @property
    def selected_set(self) -> SelectedSet:
        return self._state.selected_set

    def _message(self, stored: StoredMessage) -> Message:
        return Message(
            stored.uid,
            stored.internal_date,
            flags_of_names(stored.flags),  # shared: a mailbox has few distinct sets
            mailbox=self,
            size=stored.size,
            raw=stored.raw,
        )

    def _changed(self) -> None:
        self._state.touch()

    def _vanished(self) -> MailboxNotFound:
        """The folder was deleted under us (by another session): forget it, say so."""
        self._backing.registry.forget(self.info.owner, self.info.name)
        return MailboxNotFound(self.info.name, try_create=True)

    @store_errors
    async def raw(self, uid: int) -> bytes | None:
        return await self._folders.content(self.info.id, uid)

    @store_errors
    async def contents(self, uids: Sequence[int]) -> dict[int, bytes]:
        return await self._folders.contents(self.info.id, uids)

    @store_errors
    async def load(self, selected: IncrementalSelected, *, claim_recent: bool) -> MailboxSnapshot:
        """SELECT: the view of the last SELECT of this mailbox in the process, or else every
        message read from the store a page at a time; then what changed since (by modseq).

        Then ``\\Recent`` is claimed and the snapshot answered from the view and the
        stored counts; the view is kept for the next SELECT.
        """
        version = self._state.version
        shared = self._state.view
        adopted = shared is not None and shared.mailbox_id == self.mailbox_id
        if shared is not None and adopted:
            selected.log.adopt(shared)
            since = shared.modseq
        else:
            since = await self._read_all(selected)
        changes = await self._catch_up(selected, since, version)
        if changes is None:
            raise self._vanished()
        if not adopted or since != changes.state.highest_modseq:
            # Else nothing changed since the shared view this session started from: it stays
            # as it is (copying a large view costs the loop a millisecond or two).
            self._state.view = selected.log.share(self.mailbox_id, changes.state.highest_modseq)
        log = selected.log
        recent = 0
        if claim_recent and isinstance(selected.session_flags, RecentFlags):
            registry_state = self._state
            recent = selected.session_flags.add_recents(log.uids_above(registry_state.recent_floor))
            registry_state.recent_floor = max(
                registry_state.recent_floor, changes.state.uid_next - 1
            )
        return Snapshot(
            self.mailbox_id,
            self.readonly,
            self.uid_validity,
            self.permanent_flags,
            self.session_flags,
            log.exists,
            recent,
            changes.state.unseen,
            await self._first_unseen(log) if changes.state.unseen else None,
            changes.state.uid_next,
        )

    async def _read_all(self, selected: IncrementalSelected) -> int:
        """Every message's UID, flags and date, a page at a time; the modseq read before."""
        state = await self._folders.state(self.info.id)
        if state is None:
            raise self._vanished()
        after = 0
        while True:
            page = await self._folders.flag_page(self.info.id, after, self.PAGE)
            selected.log.load(page)
            if len(page) < self.PAGE:
                return state.highest_modseq
            after = page[-1][0]

    PAGE: Final = 2000
    """Messages per query when a SELECT reads a mailbox (each page a step of its own)."""

    async def _first_unseen(self, log: IncrementalMessages) -> int | None:
        """The sequence number of the first message without ``\\Seen``, looked for a page of
        the view at a time (yielding between pages: all of a large mailbox may be read)."""
        for start in range(0, log.exists, self.SCAN):
            found = log.first_without(str(Seen), start, start + self.SCAN)
            if found is not None:
                return found
            await asyncio.sleep(0)
        return None

    SCAN: Final = 5000
    """Messages looked at per step on the event loop for the first unseen one."""

    async def _catch_up(
        self, selected: SelectedMailbox, modseq: int, version: int
    ) -> FolderChanges | None:
        changes = await self._folders.changes_since(self.info.id, modseq)
        if changes is None:
            return None
        view = selected.messages
        # Expunges a FETCH, STORE or SEARCH hid are let out at the next catching up, news or
        # none: pymap applies them only with the next removal it is given, and a client that
        # sent NOOP after such a FETCH kept a message another session had expunged.
        hidden = isinstance(view, IncrementalMessages) and view.holds_hidden_expunges
        if changes.messages or changes.expunged or (hidden and not selected.hide_expunged):
            selected.add_updates([self._message(s) for s in changes.messages], changes.expunged)
        now = asyncio.get_running_loop().time()
        selected.mod_sequence = _Seen(version, changes.state.highest_modseq, now)
        return changes

    def trusts(self, selected: SelectedMailbox) -> bool:
        """Whether a quick command may take the session's view of this folder as it is:
        nothing in this process changed the folder since the session last looked, less than
        ``RECHECK_SECONDS`` ago (what ``update_selected`` skips the store for)."""
        seen = selected.mod_sequence
        mailbox_id = selected.mailbox_id  # the same object while the session keeps its data
        return (
            type(seen) is _Seen
            and seen.version == self._state.version
            and (mailbox_id is self._mailbox_id or mailbox_id == self._mailbox_id)
            and asyncio.get_running_loop().time() - seen.checked < RECHECK_SECONDS
        )

    @store_errors
    async def update_selected(
        self, selected: SelectedMailbox, *, wait_on: Event | None = None
    ) -> SelectedMailbox:
        """Bring the session's view up to date with what changed since it last looked."""
        if selected.mailbox_id != self.mailbox_id:
            selected.set_deleted()  # the name now leads to another folder
            return selected
        state = self._state
        now = asyncio.get_running_loop().time()
        seen: _Seen | None = selected.mod_sequence
        if seen is None:  # not selected through ``load``: nothing to compare with
            raise TemporaryFailure("The mailbox view was lost, select it again.")
        unchanged = seen.version == state.version
        if (
            wait_on is None
            and unchanged
            and now - seen.checked < RECHECK_SECONDS
            and _quick(current_command.get(None))
        ):
            return selected  # nothing changed here; the store is looked at again soon
        if wait_on is not None and unchanged and not wait_on.is_set():
            await wait_on.or_event(state.event).wait(timeout=self._backing.idle_poll)
        if await self._catch_up(selected, seen.modseq, state.version) is None:
            self._backing.registry.forget(self.info.owner, self.info.name)
            selected.set_deleted()
        return selected

    @store_errors
    async def append(self, append_msg: AppendMessage, *, recent: bool = False) -> Message:
        when = append_msg.when or self._backing.clock.now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        flags = _names(append_msg.flag_set)
        allowance = self._backing.allowance
        if allowance is not None and not allowance.take(self.info.owner, len(append_msg.literal)):
            log.info("IMAP: APPEND to %s refused: over its daily allowance", self.info.owner)
            raise NoRoom("Over this account's daily allowance of new mail, try again later.")
        raw = await by_size(canonical_line_ends, append_msg.literal)  # off the loop if large
        try:
            uid = await self._folders.append(
                self.info.id, raw, flags=flags, internal_date=when, line_ends_canonical=True
            )
        except Exception as exc:  # not when cancelled: the mail may be stored all the same
            if allowance is not None:  # not stored: not counted (``gateway.allowance``)
                allowance.give_back(self.info.owner, len(append_msg.literal))
            if isinstance(exc, FolderNotFound):
                raise self._vanished() from exc
            if isinstance(exc, KeywordLimit):
                raise OverKeywordLimit(str(exc)) from None
            raise
        self._backing.full.taken(log)
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
        try:
            pairs = await self._folders.copy(self.info.id, uids, destination.info.id)
        except FolderNotFound as exc:
            raise destination._vanished() from exc
        self._backing.full.taken(log)
        destination._changed()
        return pairs

    @store_errors
    async def move_many(
        self, uids: Collection[int], destination: MailboxData
    ) -> list[tuple[int, int]]:
        try:
            pairs = await self._folders.move(self.info.id, uids, destination.info.id)
        except FolderNotFound as exc:
            raise destination._vanished() from exc
        self._changed()
        destination._changed()
        return pairs

    async def get(self, uid: int, cached_msg: CachedMessage) -> Message:
        (message,) = await self.get_many([cached_msg])
        return message

    @store_errors
    async def get_many(
        self, cached: Sequence[CachedMessage], *, with_content: bool = False
    ) -> list[Message]:
        """Current state of those messages (an expunged copy for the ones gone), in order.

        ``with_content``: the caller will read their bytes. One message comes with them in
        the same query; more get a ``ContentBatch``.
        """
        known = {c.uid: c for c in cached}
        return await self._current([c.uid for c in cached], known.__getitem__, with_content)

    @store_errors
    async def get_viewed(
        self, uids: Sequence[int], view: IncrementalMessages, *, with_content: bool
    ) -> list[Message]:
        """``get_many`` for messages of the session's view, named by UID: the view's own
        message is made only for one that is gone (for its expunged copy)."""
        return await self._current(uids, view.message, with_content)

    async def _current(
        self, uids: Sequence[int], known: Callable[[int], CachedMessage], with_content: bool
    ) -> list[Message]:
        if with_content and len(uids) == 1:  # a single FETCH: metadata and bytes at once
            (uid,) = uids
            one = await self._folders.find_one(self.info.id, uid)
            return [self._message(one) if one is not None else Message.expunged_copy(known(uid))]
        found = await self._folders.find(self.info.id, uids)
        messages = [
            self._message(found[uid]) if uid in found else Message.expunged_copy(known(uid))
            for uid in uids
        ]
        if with_content:
            ContentBatch(self, [m for m in messages if not m.expunged])
        return messages

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
        try:
            result = await self._folders.update_flags(
                self.info.id, uids, _names(flag_set), _FLAG_CHANGE[mode]
            )
        except KeywordLimit as exc:
            raise OverKeywordLimit(str(exc)) from None
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
        """pymap's hook; our SELECT claims ``\\Recent`` in ``load`` from the view it built."""
        state = self._state
        messages = selected.messages
        if not isinstance(messages, IncrementalMessages):
            return
        session_flags = selected.session_flags
        if isinstance(session_flags, RecentFlags):
            session_flags.add_recents(messages.uids_above(state.recent_floor))
        else:
            for uid in messages.uids_above(state.recent_floor):
                session_flags.add_recent(uid)
        state.recent_floor = max(state.recent_floor, messages.max_uid)

    async def cleanup(self) -> None:
        pass

    @store_errors
    async def snapshot(self) -> MailboxSnapshot:
        """STATUS: the stored counts; ``\\Recent`` counted above this process's floor."""
        state = await self._folders.state(self.info.id)
        if state is None:
            raise self._vanished()
        floor = self._state.recent_floor
        recent = (
            await self._folders.count_above(self.info.id, floor)
            if floor < state.uid_next - 1
            else 0
        )
        return Snapshot(
            self.mailbox_id,
            self.readonly,
            self.uid_validity,
            self.permanent_flags,
            self.session_flags,
            state.messages,
            recent,
            state.unseen,
            None,
            state.uid_next,
        )

    async def find(
        self, seq_set: SequenceSet, selected: SelectedMailbox
    ) -> AsyncIterable[tuple[int, Message]]:
        """The messages ``seq_set`` names, read ``SLICE`` at a time: SEARCH and EXPUNGE walk
        the whole mailbox here, and pymap does its work on each message as it comes, so the
        event loop is free while the next slice is read (a ``SEARCH`` of 50 000 messages
        read at once held every other client 2.3 s)."""
        view = selected.messages
        if not isinstance(view, IncrementalMessages):
            listed = view.get_all(seq_set)
            current = await self.get_many([cached for _, cached in listed])
            for (seq, _), message in zip(listed, current, strict=True):
                yield seq, message
            return
        numbered = view.get_uids(seq_set)
        for start in range(0, len(numbered), SLICE):
            part = numbered[start : start + SLICE]
            found = await self.get_viewed([uid for _, uid in part], view, with_content=False)
            for (seq, _), message in zip(part, found, strict=True):
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
        try:
            await self._folders.set_subscribed(self.owner, name, subscribed)
        except TooManyFolders:
            raise OverFolderLimit("subscriptions") from None

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
        registry = self._backing.registry
        info = registry.cached_info(owner, folder)
        if info is None:
            info = await self._folders.get(owner, folder)
            if info is None:
                if folder != INBOX:
                    raise KeyError(name)
                info = await self._folders.ensure(owner, INBOX)
            registry.remember(info)
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
        except TooManyFolders:
            raise OverFolderLimit() from None
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
