"""What the IMAP server keeps in memory per mailbox: change signals, sessions, \\Recent.

The store tells its listeners about every commit that adds messages (SMTP deliveries, the
pipeline's replies and office copies); the IMAP backend reports its own changes (flags,
expunges, appends, copies). Each report bumps the mailbox's version and sets its event, so a
session in IDLE wakes at once and a session between commands knows it must re-read.

``\\Recent`` (RFC 3501 §2.3.2) lives here, not in the store: it is a per-process courtesy
that IMAP4rev2 dropped. After a restart every message is recent to the first session that
selects its mailbox.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from pymap.concurrent import Event
from pymap.selected import SelectedSet

from gateway.imap.selected import SharedView
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.folders import FolderInfo
from mailboxes.store import Change

__all__ = ["MailboxKey", "MailboxRegistry", "MailboxState"]

MailboxKey = tuple[str, str]
"""(owner address, folder name), as the store names a mailbox."""


@dataclass(slots=True, eq=False)
class MailboxState:
    version: int = 0
    event: Event = field(default_factory=Event.for_asyncio)
    selected_set: SelectedSet = field(default_factory=SelectedSet)
    recent_floor: int = 0
    """Highest UID some session has already claimed as ``\\Recent``."""
    view: SharedView | None = None
    """The mailbox as the last SELECT saw it: the next SELECT starts from it."""

    def touch(self) -> None:
        self.version += 1
        self.event.set()


@functools.lru_cache(maxsize=4096)
def _key(owner: str, folder: str) -> MailboxKey:
    """The registry's key: the address normalized (looked up on every command: cached)."""
    try:
        return normalize_address(owner), folder
    except InvalidAddress:
        return owner, folder


class MailboxRegistry:
    """Per-mailbox state shared by every IMAP session of the process.

    It also remembers which folder row a name leads to (``FolderInfo``): pymap looks the
    selected mailbox up by name on every command, and folders are only renamed or deleted
    through IMAP, which calls ``forget``.
    """

    def __init__(self) -> None:
        self._states: dict[MailboxKey, MailboxState] = {}
        self._infos: dict[MailboxKey, FolderInfo] = {}

    def cached_info(self, owner: str, folder: str) -> FolderInfo | None:
        return self._infos.get(_key(owner, folder))

    def remember(self, info: FolderInfo) -> None:
        self._infos[_key(info.owner, info.name)] = info

    def state(self, owner: str, folder: str) -> MailboxState:
        key = _key(owner, folder)
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = MailboxState()
        return found

    def touch(self, owner: str, folder: str) -> None:
        self.state(owner, folder).touch()

    def on_change(self, change: Change) -> None:
        """``Store.subscribe`` listener: wake whoever waits on the mailboxes written.

        A mailbox no IMAP session has opened has no state and gets none here, so mail
        delivered to accounts that never use IMAP costs nothing.
        """
        for owner, folder in change.mailboxes:
            state = self._states.get(_key(owner, folder))
            if state is not None:
                state.touch()

    def forget(self, owner: str, folder: str) -> None:
        """The mailbox was deleted or renamed: wake its sessions, drop its state."""
        self._infos.pop(_key(owner, folder), None)
        state = self._states.pop(_key(owner, folder), None)
        if state is not None:
            state.touch()
