"""A gate in front of the password-check threads: a few checks at once, fairest first.

Waiters are served by their client address's recent failures (fewest first), then in order
of arrival, both read when a place frees up: while a flood of wrong guesses queues, a client
with a clean record goes to the front and waits for the checks already running, not for
the flood.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["FairGate"]


@dataclass(slots=True)
class _Waiter:
    seq: int
    client: str
    granted: asyncio.Future[None] = field(repr=False)


class FairGate:
    def __init__(self, places: int, score: Callable[[str], int]) -> None:
        if places < 1:
            raise ValueError("a gate needs at least one place")
        self._free = places
        self._score = score
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, client: str) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter = _Waiter(next(self._seq), client, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.granted.done() and not waiter.granted.cancelled():
                self.release()  # given the place just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        # A waiter cancelled but not yet resumed still has its entry: skip it.
        self._waiters = [w for w in self._waiters if not w.granted.done()]
        if not self._waiters:
            self._free += 1
            return
        chosen = min(self._waiters, key=lambda w: (self._score(w.client), w.seq))
        self._waiters.remove(chosen)
        chosen.granted.set_result(None)
