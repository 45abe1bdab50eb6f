"""One worker thread for the node's work that is proportional to a message.

What costs as much as a message's bytes or parts (parsing a mail of 999 parts, decoding a
14 MB attachment, reading a large submission's header, unpickling a large analysis) is
not done on the event loop. But a thread of this process holds the interpreter lock while
it works, and the event loop must win the lock back at every step. With one such thread
it waits about the interpreter's switch interval (5 ms) a step; with several, it takes its
turn among them all. asyncio's default executor has up to six threads on two cores: four
IMAP clients fetching the structures of many-part messages at once held every other
client 0.6-0.9 s at a time.

So that work goes to this one thread, one item at a time (each item is one message's work,
at most a few hundred milliseconds), and the event loop, with the interpreter lock shared
between two, keeps answering. The items are taken by turns among their owners (the
account a connection logged in as; before that, the connection), in the order each owner
sent them: twenty connections of one account fetching the structures of many-part mails
had another account's one fetch wait behind all twenty items, 4-5 s; by turns it waits
for one. Work that waits on something else (a file, the network, a process) goes to
asyncio's executor as before: it would hold this thread without using it. So does the
answer path's pickling of a large analysis, which the declarations' answers wait on: not
behind IMAP clients.

No collection of the cyclic garbage collector runs while an item does. A parse of a mail of
999 parts makes some 140 000 objects in 0.1-0.2 s; collections during it moved them to the
oldest generation, and the next full pass walked them, 50-95 ms with the interpreter lock
held (twenty IMAP clients fetching such mails: another client's command waited up to
0.1 s). The item lets go of its objects itself, by their reference counts (a parse has no
cycles), so none is left for the collector: its passes walk what is left. A collection that
came due meanwhile (for the event loop's objects) is made as soon as the item is done, at
the lane's next allocation, as the collector makes any: even with the lane always busy.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import sys
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, Final, Generic, ParamSpec, TypeVar

__all__ = [
    "BYTES_ON_LOOP",
    "SWITCH_INTERVAL_AT_WORK",
    "FairQueue",
    "by_size",
    "for_size",
    "in_lane",
    "serve_as",
]

P = ParamSpec("P")
T = TypeVar("T")
Item = TypeVar("Item")

BYTES_ON_LOOP: Final = 1024 * 1024
"""Bytes a plain bytes operation (a join, a count, a replace) is given on the event loop:
about a millisecond. A mail's bytes past it are handled in the lane: for 20 MB, joining and
unstuffing SMTP's DATA took 26 ms, checking its line ends 24."""


class FairQueue(Generic[Item]):
    """Items waiting by owner, taken by turns: the first owner's oldest item, then the next
    owner's; an owner who still has items goes to the back."""

    def __init__(self) -> None:
        self._waiting: dict[Hashable, deque[Item]] = {}  # in the order of their turns

    def put(self, owner: Hashable, item: Item) -> None:
        self._waiting.setdefault(owner, deque()).append(item)

    def take(self) -> Item | None:
        if not self._waiting:
            return None
        owner = next(iter(self._waiting))
        items = self._waiting.pop(owner)
        item = items.popleft()
        if items:
            self._waiting[owner] = items
        return item


_OWNER: Final[contextvars.ContextVar[Hashable]] = contextvars.ContextVar("lane_owner")


def serve_as(owner: str) -> None:
    """What the current task sends to the lane from now on is ``owner``'s (an account, once
    logged in): one turn for all its connections. Unset, each task is its own owner."""
    _OWNER.set(owner)


SWITCH_INTERVAL_AT_WORK: Final = 0.0005
"""Seconds a thread holds the interpreter lock while another waits for it, while the lane has
work (Python's default, 0.005, otherwise). While the lane works, the event loop waits for the
lock after each of its system calls: with twenty IMAP clients keeping the lane busy, another
agent's ``250`` came in 73-116 ms at the median and its declaration's answer in 0.6-1.1 s
(18-45 ms alone); at 0.5 ms, in 15-17 ms and 0.11-0.12 s (the demo node, 2026-12-06). Only
while it works: set for good, the answer path's own threads (the event loop, the database's)
switched ten times as often, and on SQLite with two workers the bench's node took 413-496
declarations/s against 496-616, its process 1.49-1.79 ms of CPU a declaration against
1.18-1.45 (three alternations)."""


_Work = tuple[Callable[[], Any], "Future[Any]"]


class _Lane:
    """The thread and the work waiting for it; started with its first item. A daemon: what
    it runs only computes for the event loop, which is gone when the interpreter exits."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._waiting: FairQueue[_Work] = FairQueue()
        self._thread: threading.Thread | None = None

    def submit(self, owner: Hashable, call: Callable[[], T]) -> Future[T]:
        done: Future[T] = Future()
        with self._ready:
            self._waiting.put(owner, (call, done))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="message-lane", daemon=True)
                self._thread.start()
            self._ready.notify()
        return done

    def _work(self) -> None:
        usual = sys.getswitchinterval()
        while True:
            with self._ready:
                while (work := self._waiting.take()) is None:
                    sys.setswitchinterval(usual)
                    self._ready.wait()
                sys.setswitchinterval(SWITCH_INTERVAL_AT_WORK)
            _run(*work)
            del work  # its values let go of here, not when the next item comes


def _run(call: Callable[[], T], done: Future[T]) -> None:
    if not done.set_running_or_notify_cancel():
        return  # its caller was cancelled while it waited
    collecting = gc.isenabled()
    gc.disable()  # for the item's length only (the module's docstring says why)
    try:
        result = call()
    except BaseException as exc:  # to the caller, as an executor does
        done.set_exception(exc)
    else:
        done.set_result(result)
    finally:
        if collecting:
            gc.enable()


_LANE: Final = _Lane()


async def in_lane(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in the lane's thread, at its owner's turn, with the caller's
    context variables (as ``asyncio.to_thread``)."""
    owner = _OWNER.get(None) or asyncio.current_task()
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.wrap_future(_LANE.submit(owner, call))


async def for_size(size: int, fn: Callable[[], T]) -> T:
    """``fn()``, a plain pass over ``size`` bytes of mail: on the event loop up to
    ``BYTES_ON_LOOP``, in the lane past it."""
    if size <= BYTES_ON_LOOP:
        return fn()
    return await in_lane(fn)


async def by_size(fn: Callable[[bytes], T], data: bytes) -> T:
    """``fn(data)``, by ``for_size``."""
    return await for_size(len(data), functools.partial(fn, data))
