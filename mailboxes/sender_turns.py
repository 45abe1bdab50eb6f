"""In what order the pipeline takes the jobs of different senders: fair turns.

Taken oldest first, one agent's backlog (thousands of declarations mailed at once) held
every other agent's answer until all of it was read: on the demo node a single small DUA
waited 22 s behind another agent's 2 000 DUAs of 400 series, and the wait grew with the
backlog. Each job is now given a turn as it is taken in, and the queue is read by turn:
self-clocked fair queuing. A job's turn is its sender's previous turn or the head of the
queue (the last turn claimed), whichever is later, plus the job's cost; so a sender's jobs
are spaced by their cost, and a sender with nothing waiting starts at the head. A newcomer
waits for the jobs already in hand and a turn of each other sender, never for someone
else's backlog.

A job's cost is its mail's size, at least ``MIN_COST``: reading takes about as long as the
bytes are many, and a run of tiny mails is not free. Turns only order the queue; two jobs
of the same turn go in the order they came.

Sans-IO: the store asks for turns as mails come in and tells which turns were claimed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["MIN_COST", "SenderTurns", "cost"]

MIN_COST: Final = 4096
"""Bytes a mail counts for at least."""


def cost(size: int) -> int:
    """How far a mail of ``size`` bytes moves its sender's next turn."""
    return max(size, MIN_COST)


class SenderTurns:
    """The queue's head and each waiting sender's last turn.

    The head is the latest turn claimed: a sender whose last turn is behind it starts from
    it, as a sender with nothing waiting does. Senders behind the head are forgotten, so
    what is kept is one entry per sender with jobs ahead of the head.
    """

    def __init__(self, head: int = 0, last: dict[str, int] | None = None) -> None:
        self._head = head
        self._last: dict[str, int] = {} if last is None else dict(last)

    @classmethod
    def resume(cls, pending: Iterable[tuple[str, int, int]]) -> SenderTurns:
        """The turns of a queue read back from the store (a node restarted): ``pending``
        gives each sender with pending jobs, its lowest and its highest turn among them.
        The head is the lowest of all, which the next claim takes first."""
        rows = list(pending)
        head = min((low for _, low, _ in rows), default=0)
        last: dict[str, int] = {}
        for sender, _, high in rows:
            key = sender.lower()
            last[key] = max(high, last.get(key, 0))
        return cls(head, last)

    @property
    def head(self) -> int:
        return self._head

    def take(self, sender: str, size: int) -> int:
        """The turn of a job for a mail of ``size`` bytes from ``sender``, come in now."""
        key = sender.lower()
        turn = max(self._head, self._last.get(key, 0)) + cost(size)
        self._last[key] = turn
        return turn

    def claimed(self, turns: Iterable[int]) -> None:
        """The pipeline took jobs of these turns: the head moves up to the highest."""
        head = max(turns, default=self._head)
        if head > self._head:
            self._head = head
            self._last = {key: turn for key, turn in self._last.items() if turn > head}

    def waiting_senders(self) -> int:
        """Senders with a turn ahead of the head: all that is remembered between claims."""
        return len(self._last)
