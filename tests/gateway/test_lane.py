"""The one thread for work proportional to a message (``gateway.lane``), taken by turns."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
import time

import pytest

from gateway.lane import SWITCH_INTERVAL_AT_WORK, FairQueue, in_lane, serve_as

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


# (items put, as owner and item, in order) -> the order they are taken
TURNS = [
    ([], []),
    ([("a", 1), ("a", 2), ("a", 3)], [1, 2, 3]),
    ([("a", 1), ("a", 2), ("a", 3), ("b", 4)], [1, 4, 2, 3]),
    ([("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("a", 6)], [1, 2, 4, 3, 5, 6]),
]


@pytest.mark.parametrize(("put", "taken"), TURNS)
def test_a_fair_queue_takes_one_item_of_each_owner_in_turn(
    put: list[tuple[str, int]], taken: list[int]
) -> None:
    queue: FairQueue[int] = FairQueue()
    for owner, item in put:
        queue.put(owner, item)
    assert [queue.take() for _ in put] == taken
    assert queue.take() is None


def test_an_owner_back_after_its_last_item_queues_behind_those_waiting() -> None:
    queue: FairQueue[int] = FairQueue()
    queue.put("a", 1)
    queue.put("b", 2)
    assert queue.take() == 1
    queue.put("a", 3)
    assert [queue.take(), queue.take()] == [2, 3]


class FirstHolds:
    """Work that records the order its items ran in; the item named ``first`` holds the lane
    until ``release`` is set, so that the others wait in its queue meanwhile."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.ran: list[str] = []

    def __call__(self, name: str) -> None:
        if name == "first":
            self.started.set()
            self.release.wait(10)
        self.ran.append(name)


async def test_an_account_s_work_takes_turns_with_another_s() -> None:
    """Four items of one account (its connections' tasks), then one of another: the other's
    runs as soon as the first account's running item and next one are done, not after all."""
    work = FirstHolds()

    async def client(account: str, name: str) -> None:
        serve_as(account)
        await in_lane(work, name)

    first = asyncio.create_task(client("agente1", "first"))
    await asyncio.to_thread(work.started.wait, 10)
    crowd = [asyncio.create_task(client("agente1", f"crowd {n}")) for n in range(3)]
    await asyncio.sleep(0)  # the crowd's items are in the queue before the other's
    other = asyncio.create_task(client("agente2", "other"))
    await asyncio.sleep(0)
    work.release.set()
    await asyncio.gather(first, *crowd, other)

    assert work.ran == ["first", "crowd 0", "other", "crowd 1", "crowd 2"]


async def test_a_cancelled_caller_s_waiting_item_never_runs() -> None:
    work = FirstHolds()
    first = asyncio.create_task(in_lane(work, "first"))
    await asyncio.to_thread(work.started.wait, 10)
    waiting = asyncio.create_task(in_lane(work, "cancelled"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting  # the cancel has reached its item before the lane is free to take it
    work.release.set()
    await first
    await in_lane(work, "last")

    assert work.ran == ["first", "last"]


def _busy(started: threading.Event, seconds: float) -> float:
    """Python's own work for that long, without a call that lets go of the lock; the switch
    interval it ran under."""
    started.set()
    interval = sys.getswitchinterval()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return interval


async def test_the_event_loop_gets_the_lock_soon_while_the_lane_works() -> None:
    """The loop waits for the interpreter's lock after each of its system calls; with the
    lane at work it waited the default switch interval, 5 ms, each time. The lane shortens
    it while it works, and sets it back when it has nothing to do."""
    usual = sys.getswitchinterval()
    started = threading.Event()
    working = asyncio.ensure_future(in_lane(_busy, started, 1.0))
    await asyncio.to_thread(started.wait, 5)
    begun = time.perf_counter()
    for _ in range(50):
        await asyncio.sleep(0.0001)  # a system call (the selector) at each step
    steps = time.perf_counter() - begun

    # 0.3 s at the default interval, 0.09 s at the lane's (a quiet machine)
    assert steps < 0.2, f"50 steps of the event loop took {steps:.2f} s"
    assert await working == SWITCH_INTERVAL_AT_WORK
    assert await asyncio.to_thread(_set_back, usual) == usual


def _set_back(usual: float) -> float:
    """The switch interval once the lane has had nothing to do for a moment (it sets it back
    before it waits)."""
    deadline = time.monotonic() + 5
    while sys.getswitchinterval() != usual and time.monotonic() < deadline:
        time.sleep(0.01)
    return sys.getswitchinterval()


async def test_no_collection_runs_while_an_item_does() -> None:
    """A parse's objects, made and let go of within an item, never reach the collector's
    older generations, whose full passes would walk them all (a mail of 999 parts is some
    140 000 objects)."""
    lane_collections: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and threading.current_thread().name.startswith("message-lane"):
            lane_collections.append(info["generation"])

    def many_objects() -> int:
        made = [[index] for index in range(100_000)]  # hundreds of young collections' worth
        return len(made)

    def failing() -> None:
        raise ValueError("no")

    gc.callbacks.append(watch)
    try:
        assert await in_lane(many_objects) == 100_000
        with pytest.raises(ValueError):
            await in_lane(failing)
    finally:
        gc.callbacks.remove(watch)
    assert lane_collections == []
    assert gc.isenabled()  # again after each item, whether it returned or raised


async def test_the_loop_s_garbage_is_collected_with_the_lane_always_busy() -> None:
    """No collection runs during an item, but one that came due is made right after it:
    each item here waits while the event loop makes reference cycles, and the next item
    is already waiting for the lane."""
    collected: list[int] = []
    started = [threading.Event() for _ in range(5)]
    made = [threading.Event() for _ in range(5)]

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.append(info["collected"])

    def item(index: int) -> None:
        started[index].set()
        assert made[index].wait(10)

    async def make_cycles() -> None:
        for index in range(5):
            assert await asyncio.to_thread(started[index].wait, 10)
            for _ in range(2_000):
                cycle: list[object] = []
                cycle.append(cycle)
            made[index].set()

    gc.callbacks.append(watch)
    try:
        await asyncio.gather(make_cycles(), *(in_lane(item, index) for index in range(5)))
    finally:
        gc.callbacks.remove(watch)
    assert sum(collected) >= 8_000, collected
