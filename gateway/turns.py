"""Turns on the event loop for work that never has to wait.

A session lets the event loop go only where it waits: for the client's next bytes, for the
store, for a client reading slowly. A client that pipelines thousands of commands, or one
SEARCH over many messages, leaves it nothing to wait for: it would keep the loop, and every
other client of the node would wait, until its work ran out (50 000 pipelined IMAP ``NOOP``
held every other client 2.7 s). Such work takes a turn between its steps: after ``TURN``
seconds on the loop it lets the others in, and goes on when they have had theirs.
"""

from __future__ import annotations

import asyncio
from typing import Final

__all__ = ["TURN", "Turns"]

TURN: Final = 0.02
"""Seconds of work between two turns: the longest another client waits for one that is
busy, where a step (a command, a message matched) takes well under a millisecond."""


class Turns:
    """One session's (or one command's) time on the event loop since its last turn.

    Time spent waiting counts as well: after a wait, a step may let the others in needlessly,
    which costs one pass of the loop.
    """

    __slots__ = ("_since",)

    def __init__(self) -> None:
        self._since = asyncio.get_running_loop().time()

    async def step(self) -> None:
        """Let the other tasks run if ``TURN`` seconds have passed since the last turn."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._since >= TURN:
            await asyncio.sleep(0)
            self._since = loop.time()
