"""Clocks: every deadline and every rule reads time from one of these, never from the OS.

A node can run on an emulated date (for example 1997-03-03, when Teledespacho was new), and
tests freeze time, so the clock is a value passed in rather than a call to ``datetime.now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "EmulatedClock", "FixedClock", "SystemClock"]


class Clock(Protocol):
    """Source of the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: for tests."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._instant = instant

    def now(self) -> datetime:
        return self._instant

    def advance(self, delta: timedelta) -> None:
        self._instant += delta

    def set(self, instant: datetime) -> None:
        self._instant = instant


class EmulatedClock:
    """Real time shifted so that the node starts on ``start_date``.

    The time of day and the passing of time stay real; only the calendar is moved, which is
    what an operator replaying 1997 expects from a node "running on 1997-03-03".
    """

    def __init__(self, start_date: date, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        real = self._base.now()
        target = datetime.combine(start_date, real.timetz())
        self._offset = target - real

    def now(self) -> datetime:
        return self._base.now() + self._offset

    def set_date(self, start_date: date) -> None:
        """Move the calendar to ``start_date`` from now on (a test rig's administration)."""
        real = self._base.now()
        self._offset = datetime.combine(start_date, real.timetz()) - real
