"""The one reconnection schedule: the office watcher's IMAP session and the store's change
notices both wait by it after losing their server.

A value with no clock: the caller asks for the next delay and sleeps it itself, so tests
read the schedule without waiting it out.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff"]


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
