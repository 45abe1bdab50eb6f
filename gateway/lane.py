"""One worker thread for the node's work that is proportional to a message.

What costs as much as a message's bytes or parts (parsing a mail of 999 parts, decoding a
14 MB attachment, reading a large submission's header, unpickling a large analysis) is
not done on the event loop. But a thread of this process holds the interpreter lock while
it works, and the event loop must win the lock back at every step. With one such thread
it waits about the interpreter's switch interval (5 ms) a step; with several, it takes its
turn among them all. asyncio's default executor has up to six threads on two cores: four
IMAP clients fetching the structures of many-part messages at once held every other
client 0.6-0.9 s at a time.

So that work goes to this one thread, in the order it comes. A client's command waits
behind the others' (each item is one message's work, at most a few hundred milliseconds),
and the event loop, with the interpreter lock shared between two, keeps answering. Work
that waits on something else (a file, the network, a process) goes to asyncio's executor
as before: it would hold this thread without using it. So does the answer path's pickling
of a large analysis, which the declarations' answers wait on: not behind IMAP clients.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, ParamSpec, TypeVar

__all__ = ["BYTES_ON_LOOP", "by_size", "in_lane"]

P = ParamSpec("P")
T = TypeVar("T")

BYTES_ON_LOOP: Final = 1024 * 1024
"""Bytes a plain bytes operation (a join, a count, a replace) is given on the event loop:
about a millisecond. A mail's bytes past it are handled in the lane: for 20 MB, joining and
unstuffing SMTP's DATA took 26 ms, checking its line ends 24."""

_LANE: Final = ThreadPoolExecutor(1, thread_name_prefix="message-lane")
"""Started with its first item; joined when the interpreter exits, as asyncio's own
executor is."""


async def in_lane(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in the lane's thread, with the caller's context variables
    (as ``asyncio.to_thread``)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await loop.run_in_executor(_LANE, call)


async def by_size(fn: Callable[[bytes], T], data: bytes) -> T:
    """``fn(data)``, a plain pass over a mail's bytes: on the event loop up to
    ``BYTES_ON_LOOP``, in the lane past it."""
    if len(data) <= BYTES_ON_LOOP:
        return fn(data)
    return await in_lane(fn, data)
