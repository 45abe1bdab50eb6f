"""A pickup loop ends when the node stops, even when its cancellation is lost.

Polling a server that refuses connections, a pass fails within milliseconds inside
aioimaplib's ``asyncio.wait_for``; on Python 3.11 a cancellation that comes in that very turn
is lost (``gateway.tasks``), and the node's shutdown, waiting for the loop, hung. Seen once
in the suite: a topology test's teardown waited for minutes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from config.clock import SystemClock
from config.topology import PickupSource
from gateway.pickup.worker import PickupWorker


class _Refused(PickupWorker):
    """A pass that waits, as aioimaplib does, for a connection the test refuses."""

    def __init__(self, source: PickupSource) -> None:
        super().__init__(None, sources=[source], directory=None, clock=SystemClock())  # type: ignore[arg-type]
        self.attempts: list[asyncio.Future[None]] = []
        self.asked = asyncio.Event()

    async def pick_up(self, source: PickupSource) -> int:
        attempt: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.attempts.append(attempt)
        self.asked.set()
        await asyncio.wait_for(attempt, 10)
        return 0


async def test_stop_ends_a_loop_whose_cancellation_was_lost() -> None:
    source = PickupSource.model_validate(
        {
            "name": "isp-pop3",
            "protocol": "pop3",
            "host": "127.0.0.1",
            "port": 110,
            "user": "buzon@isp.pe",
            "password": "clave",
            "deliver_to": "aduana-127@aduanas.gob.pe",
            "poll_seconds": 0.01,
        }
    )
    worker = _Refused(source)
    await worker.start()
    await worker.asked.wait()
    loops = list(worker._tasks)
    worker.attempts[-1].set_exception(ConnectionRefusedError())  # in the turn the stop comes
    stopping = asyncio.create_task(worker.stop())
    done, _ = await asyncio.wait({stopping}, timeout=10)
    assert done == {stopping}, "stop() still waits for the loop"
    assert all(loop.done() for loop in loops)
