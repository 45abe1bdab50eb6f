"""``gateway.tasks.cancel_and_wait``: a loop whose cancellation is lost still ends."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from gateway.tasks import cancel_and_wait


async def _polling(refused: list[asyncio.Future[None]], asked: asyncio.Event) -> None:
    """A background loop as the pickup's: each pass waits (``wait_for``) for a connection,
    a failure is logged and the loop goes on."""
    while True:
        attempt = asyncio.get_running_loop().create_future()
        refused.append(attempt)
        asked.set()
        with contextlib.suppress(ConnectionRefusedError):  # told, and polled again
            await asyncio.wait_for(attempt, 10)
        await asyncio.sleep(0)


async def test_a_loop_whose_cancellation_wait_for_lost_is_cancelled_again() -> None:
    refused: list[asyncio.Future[None]] = []
    asked = asyncio.Event()
    task = asyncio.create_task(_polling(refused, asked))
    await asked.wait()
    # The connection is refused in the very turn the loop is cancelled: Python 3.11's
    # wait_for raises the refusal, and the cancellation is gone.
    refused[-1].set_exception(ConnectionRefusedError())
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # cancelled once, it polls on
    async with asyncio.timeout(10):
        await cancel_and_wait(task)
    assert task.cancelled()


async def test_what_the_task_raised_is_raised() -> None:
    async def failing() -> None:
        raise ValueError("roto")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="roto"):
        await cancel_and_wait(task)
