"""The implicit-TLS ports count a connection from its first packet, not from the end of its
handshake, and give the handshake ``login_timeout``.

On ``main`` before this, asyncio made the connection known to the service only after the
handshake: connections that never began one were counted by no limit, and one client held
13 000 of the node's descriptors on IMAPS within two minutes. Here ``PER_ADDRESS``
connections that never send a byte fill their address's share on every TLS port; the next
one is reset at once, another address is served over TLS meanwhile, and the silent ones are
closed when the handshake's time is up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from gateway.node import Node
from gateway.tls.handshake import _Relay
from tests.conftest import demo_node
from tests.gateway.test_tls import trusting

PER_ADDRESS = 4
HANDSHAKE_TIME = 1.0
GREETINGS = {"smtps": b"220 ", "pop3s": b"+OK", "imaps": b"* OK", "https": None}


@pytest.fixture
async def node(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    async with demo_node(
        tmp_path / "node",
        clock,
        http_port=0,
        https_port=0,
        login_timeout=HANDSHAKE_TIME,
        http_request_timeout=HANDSHAKE_TIME,
        max_connections_per_address=PER_ADDRESS,
    ) as running:
        yield running


async def _tls_greeting(node: Node, service: str, source: str) -> bytes:
    """A TLS client's first line from ``service`` (for HTTPS: the status line of ``GET /``)."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1",
        node.port(service),
        ssl=trusting(node),
        server_hostname="localhost",
        local_addr=(source, 0),
    )
    try:
        if GREETINGS[service] is None:
            writer.write(b"GET / HTTP/1.1\r\nHost: aduanas\r\nConnection: close\r\n\r\n")
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


async def _ended(reader: asyncio.StreamReader, within: float = 20.0) -> bytes:
    """What the node sends on a connection until it ends it (a reset is an end too)."""
    try:
        async with asyncio.timeout(within):
            return await reader.read()
    except ConnectionResetError:
        return b""


@pytest.mark.parametrize("service", sorted(GREETINGS))
async def test_connections_without_a_handshake_are_counted_and_timed(
    node: Node, service: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port = node.port(service)
    silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(PER_ADDRESS)]
    assert node.limits is not None

    over_reader, over_writer = await asyncio.open_connection("127.0.0.1", port)
    assert await _ended(over_reader) == b""  # reset before any TLS: nothing can be said
    over_writer.close()

    line = await _tls_greeting(node, service, "127.0.0.2")  # another address is served
    expected = GREETINGS[service] or b"HTTP/1.1 303 "
    assert line.startswith(expected), line

    for reader, writer in silent:  # closed when the handshake's time is up
        assert await _ended(reader) == b""
        writer.close()
    assert any("no TLS handshake" in r.getMessage() for r in caplog.records)
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("gateway"))


def test_what_comes_before_the_service_is_connected_is_replayed_in_order() -> None:
    """``start_tls`` may deliver the client's first bytes, even its close, before the TLS
    transport reaches the caller: the service's protocol sees them after ``connection_made``."""
    seen: list[object] = []

    class Recorder(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            seen.append("connected")

        def data_received(self, data: bytes) -> None:
            seen.append(data)

        def eof_received(self) -> None:
            seen.append("eof")

        def connection_lost(self, exc: Exception | None) -> None:
            seen.append("lost")

    relay = _Relay(Recorder())
    relay.data_received(b"GET / HTTP/1.1\r\n")
    relay.data_received(b"\r\n")
    relay.eof_received()
    relay.connection_lost(None)
    assert seen == []
    relay.attach(asyncio.Transport())
    assert seen == ["connected", b"GET / HTTP/1.1\r\n", b"\r\n", "eof", "lost"]
    relay.data_received(b"after")
    assert seen[-1] == b"after"
