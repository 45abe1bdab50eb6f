"""``Turns``: work that never waits lets the other tasks in once a turn has passed."""

from __future__ import annotations

import asyncio
import time

from gateway.turns import TURN, Turns


async def test_a_step_within_the_turn_keeps_the_loop() -> None:
    loop = asyncio.get_running_loop()
    let_in: list[float] = []
    loop.call_soon(lambda: let_in.append(loop.time()))
    turns = Turns()
    await turns.step()  # at once: well within TURN
    assert let_in == []  # a turn would have run the callback
    await asyncio.sleep(0)
    assert len(let_in) == 1


async def test_busy_steps_let_another_task_in_after_a_turn() -> None:
    loop = asyncio.get_running_loop()
    let_in: list[float] = []
    start = loop.time()
    other = loop.call_soon(lambda: let_in.append(loop.time()))
    turns = Turns()
    while not let_in:
        end = time.monotonic() + 0.001
        while time.monotonic() < end:  # a millisecond of work that never waits
            pass
        await turns.step()
    other.cancel()
    assert TURN <= let_in[0] - start < TURN + 0.05
