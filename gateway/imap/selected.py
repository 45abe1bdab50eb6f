"""A selected mailbox whose per-command work follows what changed, not the mailbox's size.

pymap's ``SelectedMailbox`` finds the untagged responses of each command by comparing a
full copy of the session's view (every UID, sequence number and flag set, copied in
``fork``) with the one taken after the previous command, and its ``SynchronizedMessages``
answers every sequence set by walking all messages. With 50,000 messages that is tens of
milliseconds of the event loop per command, for every session. Here the view keeps a log
instead: the backend feeds it only what changed since the modseq the session saw
(``MailboxData.update_selected``), the view notes which sequence numbers it must announce
as expunged and which messages' flags changed, and ``fork`` turns the log into responses.
Sequence sets are resolved by bisecting the sorted UIDs, range by range.

The view holds no object per message: each UID maps to its internal date and its flags as
text, values the garbage collector does not track. A view of 50,000 message objects made
every full collection of the process walk them all, 50-110 ms of the event loop at a
time while a first SELECT built it; messages are made when a command asks for them.

The responses are the ones pymap's own comparison gives: ``EXPUNGE`` (highest sequence
number first), ``EXISTS``, ``RECENT``, then a ``FETCH (FLAGS ...)`` for each new, newly
recent or re-flagged message, unless the session's own ``STORE ... .SILENT`` made it.

Upstream (pymap 0.36), the same fix belongs in ``pymap.selected``: keep
``SynchronizedMessages`` sorted with bisect-based ``get_uids``/``get_all``, and make
``SelectedMailbox.fork`` consume a change log filled by ``add_updates``/``_remove`` rather
than diffing frozen copies (``_Frozen``) of the whole view.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymap.flags import SessionFlags
from pymap.interfaces.message import CachedMessage
from pymap.message import BaseMessage
from pymap.parsing.command import Command
from pymap.parsing.primitives import List, Number
from pymap.parsing.response import ResponseBye, UntaggedResponse
from pymap.parsing.response.specials import (
    ExistsResponse,
    ExpungeResponse,
    FetchResponse,
    RecentResponse,
)
from pymap.parsing.specials import FetchAttribute, FetchValue, ObjectId, SequenceSet
from pymap.parsing.specials.flag import Flag
from pymap.selected import SelectedMailbox, SynchronizedMessages

from gateway.imap.spans import spans_of

__all__ = [
    "IncrementalMessages",
    "IncrementalSelected",
    "RecentFlags",
    "SharedView",
    "ViewMessage",
    "flags_key",
    "flags_of",
    "flags_of_names",
]

_FLAGS = FetchAttribute(b"FLAGS")
_UID = FetchAttribute(b"UID")


@functools.lru_cache(maxsize=256)
def flags_of(key: str) -> frozenset[Flag]:
    """Flags from their text (``\\Deleted \\Seen``); a mailbox has few distinct sets, so
    they are shared."""
    return frozenset(Flag(name) for name in key.split())


def flags_key(flags: Iterable[Any]) -> str:
    """The text of a flag set, as the store keeps it: names, sorted, space-separated."""
    return " ".join(sorted(str(flag) for flag in flags))


@functools.lru_cache(maxsize=256)
def flags_of_names(names: frozenset[str]) -> frozenset[Flag]:
    """``flags_of(flags_key(names))``, kept by the set of names (each message read from the
    store comes with one; sorting and joining them every time cost more than the lookup)."""
    return flags_of(flags_key(names))


_NO_ID = ObjectId(None)


class ViewMessage(BaseMessage):
    """A message as a view knows it (UID, date, flags), made when a command asks for it;
    commands that read a message's content ask the store for a message of their own."""

    __slots__ = ()

    async def load_content(self, requirement: Any) -> Any:
        raise NotImplementedError("a view's message has no content; fetch it from the store")


def _view_message(uid: int, entry: tuple[datetime, str]) -> ViewMessage:
    return ViewMessage(uid, entry[0], flags_of(entry[1]), email_id=_NO_ID, thread_id=_NO_ID)


class RecentFlags(SessionFlags):
    """pymap's session flags, noting which UIDs became ``\\Recent`` since the last fork."""

    __slots__ = ["added"]

    def __init__(self, defined: Iterable[Any]) -> None:
        super().__init__(defined)
        self.added: set[int] = set()

    def add_recent(self, uid: int) -> None:
        if uid not in self._recent:
            self.added.add(uid)
        super().add_recent(uid)

    def add_recents(self, uids: Iterable[int]) -> int:
        """``add_recent`` for many UIDs in a few set operations (a first SELECT after a
        restart claims every message); how many were given."""
        given = set(uids)
        self.added |= given - self._recent
        self._recent |= given
        return len(given)


@dataclass(frozen=True, slots=True)
class SharedView:
    """A mailbox's messages as of one modseq, kept for the next session that selects it.

    The first SELECT reads the mailbox from the store; the next ones start from this and
    ask the store only for what changed since ``modseq``. A session uses the UID list and
    the message map as they are until its view first changes, and copies them then (two
    copies made in C); nothing changes them in place, so sessions may share them.
    """

    mailbox_id: Any
    modseq: int
    uids: list[int]
    messages: dict[int, tuple[datetime, str]]


class IncrementalMessages(SynchronizedMessages):
    """The messages a session knows, sorted by UID, with the log of what to announce."""

    def __init__(self) -> None:  # pymap's fields are all replaced: no super().__init__()
        self._sorted: list[int] = []
        self._entries: dict[int, tuple[datetime, str]] = {}
        """Internal date and flags text by UID (no object per message: see the module)."""
        self._borrowed = False
        """``_sorted`` and ``_entries`` are a ``SharedView``'s: copied before any change."""
        self._pending_remove: set[int] = set()
        self.announced = 0
        """How many messages (the first ones of ``_sorted``) the client was told of."""
        self.announced_recent = 0
        self.expunged_log: list[int] = []
        """Sequence numbers to announce as expunged, in the order to send them."""
        self.flags_log: dict[int, str | None] = {}
        """Messages new (``None``) or re-flagged since the last fork, with the flags the
        client knew then: those whose flags differ now are announced."""
        self.removed: list[int] = []
        """UIDs removed from the view since ``add_updates`` last looked."""

    def share(self, mailbox_id: Any, modseq: int) -> SharedView:
        """A copy of the view as of ``modseq``, for later sessions.

        Expunges this session still hides are left out: they happened at or before
        ``modseq``, so a session starting from the copy would never hear of them.
        """
        pending = self._pending_remove
        uids = [u for u in self._sorted if u not in pending] if pending else self._sorted.copy()
        cache = self._entries.copy()
        for uid in pending:
            cache.pop(uid, None)
        return SharedView(mailbox_id, modseq, uids, cache)

    def adopt(self, view: SharedView) -> None:
        """Start from a shared view (an empty, unforked log only), copied only when the
        session's view first changes: a SELECT with nothing new since copies nothing."""
        assert not self._sorted, "adopt a view only into a new session"
        self._sorted = view.uids
        self._entries = view.messages
        self._borrowed = True

    def _own(self) -> None:
        """Before a change: a borrowed view becomes this session's own copy."""
        if self._borrowed:
            self._sorted = self._sorted.copy()
            self._entries = self._entries.copy()
            self._borrowed = False

    @property
    def exists(self) -> int:
        return len(self._sorted)

    @property
    def holds_hidden_expunges(self) -> bool:
        """Whether expunges heard while a command hid them still wait to be announced."""
        return bool(self._pending_remove)

    @property
    def max_uid(self) -> int:
        return self._sorted[-1] if self._sorted else 0

    def seq_of(self, uid: int) -> int | None:
        index = bisect_left(self._sorted, uid)
        if index < len(self._sorted) and self._sorted[index] == uid:
            return index + 1
        return None

    def uids_above(self, uid: int) -> Sequence[int]:
        return self._sorted[bisect_right(self._sorted, uid) :]

    def get(self, uid: int) -> CachedMessage | None:
        entry = self._entries.get(uid)
        return None if entry is None else _view_message(uid, entry)

    def message(self, uid: int) -> CachedMessage:
        return _view_message(uid, self._entries[uid])

    def flags_text(self, uid: int) -> str:
        return self._entries[uid][1]

    def load(self, page: Iterable[tuple[int, str, datetime]]) -> None:
        """Messages a SELECT read from the store ((UID, flags text, internal date), ascending
        UID), into a view that has announced nothing yet: nothing is logged."""
        self._own()
        ordered, cache = self._sorted, self._entries
        for uid, text, when in page:
            if not ordered or uid > ordered[-1]:
                ordered.append(uid)
            elif uid not in cache:
                insort(ordered, uid)
            cache[uid] = (when, " ".join(sorted(text.split())) if " " in text else text)

    def first_without(self, flag: str, start: int, stop: int) -> int | None:
        """The sequence number of the first message in positions ``start:stop`` whose flags
        lack ``flag``."""
        cache = self._entries
        for index, uid in enumerate(self._sorted[start:stop], start + 1):
            if flag not in cache[uid][1].split():
                return index
        return None

    def _update(self, messages: Iterable[CachedMessage]) -> None:
        for message in messages:
            self._own()
            ordered = self._sorted
            uid = message.uid
            key = flags_key(message.permanent_flags)
            known = self._entries.get(uid)
            if known is None:
                if not ordered or uid > ordered[-1]:
                    ordered.append(uid)
                else:
                    insort(ordered, uid)
                self.flags_log[uid] = None
            elif uid not in self.flags_log and known[1] != key:
                self.flags_log[uid] = known[1]
            self._entries[uid] = (message.internal_date, key)

    def _remove(self, uids: Iterable[int], pending: bool) -> None:
        if pending:
            self._pending_remove.update(uids)
            return
        doomed = {uid for uid in uids if uid in self._entries}
        doomed.update(uid for uid in self._pending_remove if uid in self._entries)
        self._pending_remove.clear()
        if doomed:
            self._own()
        for uid in sorted(doomed, reverse=True):  # higher first: lower numbers stay valid
            index = bisect_left(self._sorted, uid)
            del self._sorted[index]
            del self._entries[uid]
            self.flags_log.pop(uid, None)
            self.removed.append(uid)
            if index < self.announced:
                self.expunged_log.append(index + 1)
                self.announced -= 1

    def _indexes(self, seq_set: SequenceSet) -> Iterator[int]:
        """Positions in ``_sorted`` the set names, ascending, each once."""
        ordered = self._sorted
        maximum = self.max_uid if seq_set.uid else len(ordered)
        for low, high in spans_of(seq_set, maximum):  # ascending and disjoint
            if seq_set.uid:
                start, stop = bisect_left(ordered, low), bisect_right(ordered, high)
            else:
                start, stop = max(low, 1) - 1, min(high, len(ordered))
            yield from range(start, stop)

    def get_uids(self, seq_set: SequenceSet) -> Sequence[tuple[int, int]]:
        ordered = self._sorted
        return [(index + 1, ordered[index]) for index in self._indexes(seq_set)]

    def get_all(self, seq_set: SequenceSet) -> Sequence[tuple[int, CachedMessage]]:
        ordered, cache = self._sorted, self._entries
        return [
            (index + 1, _view_message(ordered[index], cache[ordered[index]]))
            for index in self._indexes(seq_set)
        ]


class IncrementalSelected(SelectedMailbox):
    """``SelectedMailbox`` over ``IncrementalMessages``: ``fork`` reads the change log."""

    __slots__ = ()

    @classmethod
    def open(
        cls, mailbox_id: Any, readonly: bool, permanent_flags: Any, session_flags: RecentFlags,
        selected_set: Any, lookup: Any,
    ) -> IncrementalSelected:  # fmt: skip
        return cls(
            mailbox_id,
            readonly,
            permanent_flags,
            session_flags,
            selected_set,
            lookup,
            _messages=IncrementalMessages(),
            _started=False,
        )

    def add_updates(self, messages: Iterable[CachedMessage], expunged: Iterable[int]) -> None:
        super().add_updates(messages, expunged)
        removed = self.log.removed
        if removed:  # including hidden expunges now made visible, which pymap leaves flagged
            self._session_flags.remove(removed)
            removed.clear()

    @property
    def log(self) -> IncrementalMessages:
        messages = self._messages
        assert isinstance(messages, IncrementalMessages)
        return messages

    def fork(self, command: Command) -> tuple[SelectedMailbox, Iterable[UntaggedResponse]]:
        started = self._kwargs.get("_started", True)
        copy = type(self)(
            self._mailbox_id,
            self._readonly,
            self._permanent_flags,
            self._session_flags,
            self._selected_set,
            self._lookup,
            _mod_sequence=self._mod_sequence,
            _messages=self._messages,
        )
        untagged = list(self._announce(getattr(command, "uid", False))) if started else []
        self._reset_log()
        return copy, untagged

    def settle(self) -> bool:
        """When nothing is logged to announce, make this view ready for the next command in
        place, as ``fork``'s copy would be, and say so (then there is nothing to fork).

        A FETCH that changed nothing, with nothing new from other sessions, is most
        commands; forking it cost a new view object (added to the weak ``SelectedSet``) and
        a walk of empty logs. A view with anything to announce, deleted, just selected
        (not forked yet) or silenced by a ``STORE .SILENT`` is forked as before.
        """
        if self._is_deleted or self._silenced_flags or self._silenced_sflags:
            return False
        if not self._kwargs.get("_started", True):
            return False  # the first fork after SELECT starts the announcements
        log = self.log
        if log.expunged_log or log.flags_log or log.exists != log.announced:
            return False
        session_flags = self._session_flags
        if not isinstance(session_flags, RecentFlags) or session_flags.added:
            return False
        if len(session_flags.recent_uids) != log.announced_recent:
            return False
        self._hide_expunged = False
        return True

    def _reset_log(self) -> None:
        log = self.log
        log.expunged_log.clear()
        log.flags_log.clear()
        log.announced = log.exists
        session_flags = self._session_flags
        if isinstance(session_flags, RecentFlags):
            session_flags.added.clear()
        log.announced_recent = len(session_flags.recent_uids)

    def _announce(self, with_uid: bool) -> Iterator[UntaggedResponse]:
        if self._is_deleted:
            yield ResponseBye(b"Selected mailbox no longer exists.")
            return
        log = self.log
        session_flags = self._session_flags
        for seq in log.expunged_log:  # empty while expunges are hidden: they wait as pending
            yield ExpungeResponse(seq)
        if log.exists > log.announced:
            yield ExistsResponse(log.exists)
        recent = len(session_flags.recent_uids)
        if recent != log.announced_recent:
            yield RecentResponse(recent)
        newly_recent = session_flags.added if isinstance(session_flags, RecentFlags) else set()
        cache = log._entries
        silenced = self._silenced_flags
        wanted = {uid for uid in newly_recent if uid in cache}
        for uid, before in log.flags_log.items():
            key = cache[uid][1]
            if key != before and (uid, flags_of(key)) not in silenced:
                wanted.add(uid)
        for uid in sorted(wanted):
            position = log.seq_of(uid)
            if position is None:
                continue
            flags = log.message(uid).get_flags(session_flags)
            fetch_data: list[FetchValue] = [FetchValue.of(_FLAGS, List(flags, sort=True))]
            if with_uid:
                fetch_data.append(FetchValue.of(_UID, Number(uid)))
            yield FetchResponse(position, fetch_data)
