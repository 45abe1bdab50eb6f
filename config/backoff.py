"""The one reconnection schedule, and the one rule for how often a lasting failure is told.

The office watcher's IMAP session and the store's change notices both wait by ``Backoff``
after losing their server. A value with no clock: the caller asks for the next delay and
sleeps it itself, so tests read the schedule without waiting it out.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff", "told_again"]


@dataclass
class Backoff:
    """Delays between reconnection attempts: doubling from ``initial`` up to ``maximum``."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    _next: float | None = None

    def next_delay(self) -> float:
        delay = self.initial if self._next is None else self._next
        self._next = min(self.maximum, delay * self.factor)
        return delay

    def reset(self) -> None:
        self._next = None


def told_again(failures: int) -> bool:
    """Whether the ``failures``-th failure in a row is worth another line in the log: the
    8th, 16th, 32nd… An outage is told when it starts, then ever more rarely while it lasts,
    so an operator reads that it is still there without a line per attempt."""
    return failures >= 8 and failures & (failures - 1) == 0
