"""Long polling without sleeping: re-read the state whenever the store reports a commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mailboxes.store import Store

__all__ = ["wait_for"]

_T = TypeVar("_T")


async def wait_for(
    store: Store,
    read: Callable[[], Awaitable[_T]],
    done: Callable[[_T], bool],
    seconds: float,
) -> _T:
    """``read()`` again after each change until ``done`` holds or ``seconds`` have passed.

    The listener is in place before the first read, so a commit between the read and the
    wait is not missed.
    """
    changed = asyncio.Event()
    unsubscribe = store.subscribe(lambda _change: changed.set())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            changed.clear()
            value = await read()
            if done(value) or loop.time() >= deadline:
                return value
            try:
                async with asyncio.timeout_at(deadline):
                    await changed.wait()
            except TimeoutError:
                return await read()
    finally:
        unsubscribe()
