"""The gate in front of the password-check threads: clean clients are served first."""

from __future__ import annotations

import asyncio

from gateway.logins.gate import FairGate


async def test_waiters_are_served_fewest_failures_first_then_in_order() -> None:
    failures = {"flood": 5, "clean": 0}
    gate = FairGate(1, lambda client: failures[client])
    served: list[str] = []
    await gate.acquire("flood")

    async def wait(client: str, tag: str) -> None:
        await gate.acquire(client)
        served.append(tag)
        gate.release()

    tasks = [asyncio.create_task(wait("flood", f"flood{n}")) for n in range(3)]
    tasks.append(asyncio.create_task(wait("clean", "clean")))
    await asyncio.sleep(0)  # one turn of the loop: every task reaches the gate
    assert gate.waiting == 4
    gate.release()
    await asyncio.gather(*tasks)
    assert served == ["clean", "flood0", "flood1", "flood2"]


async def test_a_cancelled_waiter_does_not_keep_a_place() -> None:
    gate = FairGate(1, lambda _client: 0)
    await gate.acquire("a")
    waiter = asyncio.create_task(gate.acquire("b"))
    await asyncio.sleep(0)
    assert gate.waiting == 1
    waiter.cancel()
    gate.release()
    await asyncio.gather(waiter, return_exceptions=True)
    await asyncio.wait_for(gate.acquire("c"), 1)  # the place is free again
