"""An HTTP client for the node under test, logged in as a demo account."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from config.settings import Settings
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node

ADMIN = "aduana-000@aduanas.gob.pe"
"""The Headquarters account, made administrator by ``rig_settings``."""


def rig_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A demo node on free ports with the test rig's administration on, ``ADMIN`` its
    administrator; ``overrides`` are further settings."""
    return Settings(
        data_dir=tmp_path / "node",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        http_port=0,
        host_all_offices=True,
        http_admins=[ADMIN],
        http_test_rig=True,
        **overrides,
    )


def client(node: Node, user: str | None = "agente1@agencias.pe") -> httpx.AsyncClient:
    auth = (user, DEMO_PASSWORD) if user else None
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.port('http')}", auth=auth, timeout=30
    )


async def median_seconds(get: Callable[[], Awaitable[httpx.Response]], times: int = 7) -> float:
    """The median time of ``times`` requests, each answered ``200``: one slow request on a
    loaded machine does not move it."""
    took = []
    for _ in range(times):
        started = time.perf_counter()
        assert (await get()).status_code == 200
        took.append(time.perf_counter() - started)
    return statistics.median(took)


@contextlib.asynccontextmanager
async def loop_pauses() -> AsyncIterator[list[float]]:
    """The event loop's pauses meanwhile: the time between ticks meant to come every 5 ms."""
    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = loop.time()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = loop.time()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        yield gaps
    finally:
        done.set()
        await ticker
