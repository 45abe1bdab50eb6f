"""The ``+++`` escape from online data to online-command mode, timed by S2 and S12.

A real modem cannot know in advance that a ``+`` starts an escape, so every byte, pluses
included, still goes to the line; this detector only watches. The sequence (modemu2k,
tcpser4j, DOSBox staging): at least one guard time with no data from the DTE, then three
escape characters with the second and third within one guard time of the first, then one
more guard time of silence. Any byte before that silence ends (a fourth ``+`` included)
cancels it. Times are seconds passed in by the caller.
"""

from __future__ import annotations

import math
from enum import Enum

__all__ = ["EscapeDetector"]


class _Phase(Enum):
    DATA = 0
    ONE = 1
    TWO = 2
    THREE = 3


class EscapeDetector:
    """Watches online DTE bytes; ``expired(now)`` says when the escape has completed."""

    __slots__ = ("_first", "_last_byte", "_phase", "_third")

    def __init__(self, now: float = -math.inf) -> None:
        # Going online counts as the start of the silence: a real modem times the guard
        # from the last character it received, and it received none since CONNECT.
        self._last_byte = now
        self._phase = _Phase.DATA
        self._first = 0.0
        self._third = 0.0

    def feed(self, data: bytes, now: float, escape_char: int | None, guard: float) -> None:
        """Account for ``data`` arriving from the DTE at ``now``."""
        for byte in data:
            self._byte(byte, now, escape_char, guard)

    def deadline(self, guard: float) -> float | None:
        """When the post-guard silence ends, if three escape characters are pending."""
        return self._third + guard if self._phase is _Phase.THREE else None

    def expired(self, now: float, guard: float) -> bool:
        """True once, when the escape completes; the detector then starts over."""
        deadline = self.deadline(guard)
        if deadline is None or now < deadline:
            return False
        self._phase = _Phase.DATA
        self._last_byte = deadline
        return True

    def _byte(self, byte: int, now: float, escape_char: int | None, guard: float) -> None:
        phase = self._phase
        is_escape = escape_char is not None and byte == escape_char
        if phase is _Phase.ONE or phase is _Phase.TWO:
            if is_escape and now - self._first <= guard:
                if phase is _Phase.ONE:
                    self._phase = _Phase.TWO
                else:
                    self._phase = _Phase.THREE
                    self._third = now
                self._last_byte = now
                return
            self._phase = _Phase.DATA
        elif phase is _Phase.THREE:
            self._phase = _Phase.DATA
            self._last_byte = now
            return
        if is_escape and now - self._last_byte >= guard:
            self._phase = _Phase.ONE
            self._first = now
        self._last_byte = now
