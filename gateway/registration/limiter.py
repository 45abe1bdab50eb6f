"""A fixed-window rate limiter, sans-IO: the caller passes the time in (seconds, monotonic).

One per key kind (sender address, client address). Memory is bounded: at most ``max_keys``
keys are remembered; when full, expired windows are dropped first and then the oldest ones,
so a flood of distinct keys costs a bounded table, never the process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RateLimiter"]


@dataclass
class RateLimiter:
    limit: int
    """Events allowed per key in one window."""
    window: float
    """Window length, seconds."""
    max_keys: int = 10_000
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict, init=False, repr=False)

    def allow(self, key: str, now: float) -> bool:
        """Count one event for ``key`` at ``now``; ``False`` if it is over the limit (then not
        counted, so a refused client does not push its own window further)."""
        started, count = self._windows.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        if count >= self.limit:
            return False
        if key not in self._windows and len(self._windows) >= self.max_keys:
            self._make_room(now)
        self._windows[key] = (started, count + 1)
        return True

    def would_allow(self, key: str, now: float) -> bool:
        """Whether ``allow`` would say yes now, without counting anything."""
        started, count = self._windows.get(key, (now, 0))
        return now - started >= self.window or count < self.limit

    def _make_room(self, now: float) -> None:
        expired = [k for k, (started, _) in self._windows.items() if now - started >= self.window]
        for key in expired:
            del self._windows[key]
        while len(self._windows) >= self.max_keys:
            oldest = min(self._windows, key=lambda k: self._windows[k][0])
            del self._windows[oldest]
