"""A fixed-window rate limiter, sans-IO: the caller passes the time in (seconds, monotonic).

One per key kind (sender address, client address), counting events or amounts (the bytes
a sender submits: ``gateway.submissions``). Memory is bounded: at most ``max_keys``
keys are remembered; when full, expired windows are dropped first and then the oldest ones,
so a flood of distinct keys costs a bounded table, never the process. The table is kept in
the order its windows started, so both are found at its front: looking for them across the
whole table cost each new key 1.2 ms of the event loop once 10 000 were remembered (a flood
from many addresses, each new one a scan).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

__all__ = ["RateLimiter"]


@dataclass
class RateLimiter:
    limit: int
    """Events (or the sum of their amounts) allowed per key in one window."""
    window: float
    """Window length, seconds."""
    max_keys: int = 10_000
    _windows: OrderedDict[str, tuple[float, int]] = field(
        default_factory=OrderedDict, init=False, repr=False
    )
    """Each key's window start and count, in the order the windows started."""

    def allow(self, key: str, now: float, amount: int = 1) -> bool:
        """Count an event of ``amount`` for ``key`` at ``now``; ``False`` if it would go over
        the limit (then not counted, so a refused client does not push its own window
        further)."""
        started, count = self._windows.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
            if key in self._windows:
                self._windows.move_to_end(key)  # its new window starts last
        if count + amount > self.limit:
            return False
        if key not in self._windows and len(self._windows) >= self.max_keys:
            self._make_room(now)
        self._windows[key] = (started, count + amount)
        return True

    def give_back(self, key: str, now: float, amount: int = 1) -> None:
        """Uncount ``amount`` that ``allow`` counted for ``key`` and that was then not done
        (never below nothing). Once the window it was counted in has ended, there is nothing
        to give back; should a new window have started since (an event that failed across
        the window's end), that one is given it, in the key's favour."""
        entry = self._windows.get(key)
        if entry is not None and now - entry[0] < self.window:
            self._windows[key] = (entry[0], max(0, entry[1] - amount))

    def would_allow(self, key: str, now: float, amount: int = 1) -> bool:
        """Whether ``allow`` would say yes now, without counting anything."""
        started, count = self._windows.get(key, (now, 0))
        return (0 if now - started >= self.window else count) + amount <= self.limit

    def resets_in(self, key: str, now: float) -> float:
        """Seconds until ``key``'s window ends and its count starts again (0: no window)."""
        started, _ = self._windows.get(key, (now - self.window, 0))
        return max(0.0, started + self.window - now)

    def _make_room(self, now: float) -> None:
        """Drop the expired windows, then the oldest until there is room: all at the front."""
        windows = self._windows
        while windows:
            started, _ = next(iter(windows.values()))
            if now - started < self.window and len(windows) < self.max_keys:
                return
            windows.popitem(last=False)
