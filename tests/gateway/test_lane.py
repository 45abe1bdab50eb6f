"""The one thread for work proportional to a message (``gateway.lane``)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

from gateway.lane import in_lane

CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller")


async def test_items_run_one_at_a_time_in_one_thread_in_the_order_they_came() -> None:
    running = 0
    most = 0
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()

    def work(index: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)  # a thread that waits lets another run, if there were another
        with lock:
            running -= 1
            seen.append((index, threading.current_thread().name))
        return index * 2

    results = await asyncio.gather(*(in_lane(work, index) for index in range(6)))

    assert results == [0, 2, 4, 6, 8, 10]
    assert most == 1
    assert [index for index, _ in seen] == list(range(6))
    assert len({name for _, name in seen}) == 1
    assert seen[0][1].startswith("message-lane")


async def test_the_caller_s_context_and_exceptions_cross() -> None:
    CALLER.set("imap")
    assert await in_lane(CALLER.get) == "imap"

    def fails() -> None:
        raise ValueError("no such part")

    try:
        await in_lane(fails)
    except ValueError as exc:
        assert str(exc) == "no such part"
    else:
        raise AssertionError("the lane's exception did not reach its caller")
