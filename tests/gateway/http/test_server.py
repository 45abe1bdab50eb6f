"""The HTTP listeners as a client meets them: a kept-alive connection answers at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from config.clock import FixedClock
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.gateway.http.rig import median_seconds, rig_settings
from tests.gateway.http.test_https import trusting

DELAYED_ACK = 0.040
"""Linux's shortest delayed acknowledgement: what a response waited for behind Nagle's
algorithm (44 ms a request, measured, on each port)."""


@pytest.fixture
async def node(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    running = Node(rig_settings(tmp_path, https_port=0), clock=clock, hasher=FAST_HASHER)
    await running.start(demo=True)
    try:
        yield running
    finally:
        await running.stop()


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_requests_on_a_kept_alive_connection_do_not_wait_for_acknowledgements(
    node: Node, scheme: str
) -> None:
    """Every request after the first on one connection (as browsers, httpx and curl send
    them) took 44 ms: the listening socket was made with protocol 0, so asyncio left
    Nagle's algorithm on, and a response's body waited for the client's delayed
    acknowledgement of its head. A request here takes a few milliseconds."""
    verify = trusting(node) if scheme == "https" else True
    base_url = f"{scheme}://127.0.0.1:{node.port(scheme)}"
    async with httpx.AsyncClient(base_url=base_url, verify=verify, timeout=30) as http:
        assert (await http.get("/login")).status_code == 200  # connected, page rendered once
        took = await median_seconds(lambda: http.get("/login"), times=9)
    assert took < DELAYED_ACK / 2, took
