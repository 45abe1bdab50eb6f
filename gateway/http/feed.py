"""A live feed's subscription to the store's changes: woken, not queued.

Each subscriber of ``/api/events`` heard every change of the node and, for each, looked up
its jobs one by one and listed its declarations: with 20 feeds open, 300 deliveries of
someone else's mail cost the node 2.7 s of CPU instead of 0.3 and each delivery eight times
as long (45 feeds, which one agent may open: 15 times, for 18 times the CPU). Now a feed
keeps the job ids it was told of (up to ``MAX_PENDING``) and whether an answer may have
come, is woken only by changes it may see (an agent's feed: new jobs, or mail filed in its
own mailbox, where every answer to it goes), and makes one pass per wake-up, ``PAUSE``
apart at least: a few statements a second per feed, however busy the node.

``FeedState`` decides (sans-IO); ``Feed`` adds the event that wakes the stream.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Final

from mailboxes.ledger import Scope
from mailboxes.records import Change

__all__ = ["MAX_PENDING", "PAUSE", "Feed", "FeedState"]

MAX_PENDING: Final = 1024
"""Job ids a feed keeps between two passes; a burst past it is not told as arrivals (as the
queue it replaces dropped a burst), the answers to them are."""

PAUSE: Final = 0.25
"""Seconds a feed waits after a pass before the next: the changes of that time make one."""


@dataclass
class FeedState:
    """What a feed has heard since its last pass."""

    scope: Scope
    jobs: set[int] = field(default_factory=set)
    answers: bool = False
    """An answer the feed may see may have been written."""
    stopping: bool = False

    def hear(self, change: Change) -> bool:
        """Take what ``change`` tells; whether the feed should wake for it."""
        wake = False
        if change.job_ids:
            room = MAX_PENDING - len(self.jobs)
            self.jobs.update(change.job_ids[: max(room, 0)])
            wake = True
        if self._may_answer(change):
            self.answers = wake = True
        return wake

    def take(self) -> tuple[set[int], bool]:
        """The job ids and whether to look for answers, for a pass; cleared for the next."""
        jobs, self.jobs = self.jobs, set()
        answers, self.answers = self.answers, False
        return jobs, answers

    def _may_answer(self, change: Change) -> bool:
        scope = self.scope
        if scope.everything or scope.office_code is not None:
            return bool(change.mailboxes)  # an office's or Headquarters' feed: few, wide
        owner = scope.agent_address
        return owner is not None and any(mailbox == owner for mailbox, _ in change.mailboxes)


class Feed:
    """A ``FeedState`` and the event that wakes its stream."""

    def __init__(self, scope: Scope) -> None:
        self.state = FeedState(scope)
        self._woken = asyncio.Event()

    def hear(self, change: Change) -> None:
        if self.state.hear(change):
            self._woken.set()

    def stop(self) -> None:
        """The server is stopping: the stream ends at its next wake-up."""
        self.state.stopping = True
        self._woken.set()

    async def woken(self, within: float) -> bool:
        """Wait until there is something to look at (``True``) or ``within`` seconds pass."""
        try:
            async with asyncio.timeout(within):
                await self._woken.wait()
        except TimeoutError:
            return False
        self._woken.clear()
        return True
