"""Stopping a node's background loops: cancel, and cancel again until they end.

A task cancelled once may go on. Python 3.11's ``asyncio.wait_for`` loses a cancellation
that arrives as the awaitable it waits for completes: it returns that result, or raises
that error, instead (CPython gh-86296; 3.12 rewrote ``wait_for`` on ``asyncio.timeout``).
The client libraries a pass goes through (aioimaplib wraps every command in ``wait_for``)
then hand a loop that polls a refused port every few milliseconds an ordinary failure, the
loop polls on, and whoever awaits the task (the node's shutdown) waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

__all__ = ["cancel_and_wait"]

_AGAIN_AFTER: Final = 0.5
"""Seconds a cancelled task is given to end before it is cancelled again."""


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` until it has ended; raise what it raised, unless that is its
    cancellation."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=_AGAIN_AFTER)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
