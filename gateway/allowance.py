"""How many bytes each agent may submit in a day, over SMTP, the API and IMAP APPEND together.

Incoming mail stops short of the store's reserve (``min_free_space_mib``), so what was taken
is still answered; but one authenticated agent could fill the disk down to that reserve, and
from then on every agent's mail was refused (``452``) until the operator made room. Each
sender now has ``submission_mib_per_day``: past it, its own mail is refused for the rest of
its day (``452 4.7.1``, the API's ``429``), and the other agents' goes on. As Postfix's rate
limits, it is kept in memory: a restarted node counts afresh.

A mail is counted when it is taken, before it is stored, so two sessions of one sender never
both pass the last of its allowance; one that is then not stored (a full store, a header
refused, a store failure) is given back. Counted all the same, a client retrying a mail
while the store was full used up its day with nothing kept, and was refused for the rest
of it once the operator had made room.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from gateway.limiter import RateLimiter

__all__ = ["DAY", "SubmissionAllowance"]

DAY: Final = 86_400.0
"""Seconds of a sender's day, from its first mail counted."""

MAX_SENDERS: Final = 100_000
"""Senders remembered at once: every agent of a large node, with room to spare."""


class SubmissionAllowance:
    """Each sender's bytes in its current day (``RateLimiter`` with amounts)."""

    def __init__(
        self, bytes_per_day: int, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.bytes_per_day: Final = bytes_per_day
        self._limiter = RateLimiter(bytes_per_day, DAY, max_keys=MAX_SENDERS)
        self._monotonic = monotonic

    def has_room(self, sender: str, size: int = 1) -> bool:
        """Whether ``sender`` may submit ``size`` more bytes now (counting nothing)."""
        return self._limiter.would_allow(sender.lower(), self._monotonic(), size)

    def never_fits(self, size: int) -> bool:
        """Whether a mail of ``size`` bytes is larger than a whole day's allowance: refused
        for good (SMTP ``552 5.3.4``, the API ``413``), as no retry would pass."""
        return size > self.bytes_per_day

    def resets_in(self, sender: str) -> float:
        """Seconds until the sender's day ends and its allowance is whole again."""
        return self._limiter.resets_in(sender.lower(), self._monotonic())

    def take(self, sender: str, size: int) -> bool:
        """Count a mail of ``size`` bytes from ``sender``; ``False`` (and nothing counted)
        when it does not fit in what is left of the sender's day."""
        return self._limiter.allow(sender.lower(), self._monotonic(), size)

    def give_back(self, sender: str, size: int) -> None:
        """Uncount a mail taken and then not stored (a full store, a refused header, a
        failure): the allowance bounds what a sender stores, and a client retrying while
        the store was full would otherwise use up its day with nothing kept."""
        self._limiter.give_back(sender.lower(), self._monotonic(), size)
