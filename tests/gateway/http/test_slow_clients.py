"""A client that opens HTTP connections and never finishes a request cannot take the console
and the API from everyone else: each connection counts against its address's limit (shared
with the mail ports), and a request not sent whole within ``http_request_timeout`` is
answered ``408`` and closed. On ``main`` before this, 250 half-sent requests from one client
made every other request ``503 Exceeded concurrency limit``, and none was ever closed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.gateway.http.rig import rig_settings

PER_ADDRESS = 5
TIMEOUT = 1.0
HALF_A_REQUEST = b"GET / HTTP/1.1\r\nHost: aduanas\r\n"  # the blank line never comes


@pytest.fixture
async def node(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    settings = rig_settings(
        tmp_path, http_request_timeout=TIMEOUT, max_connections_per_address=PER_ADDRESS
    )
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        yield node
    finally:
        await node.stop()


async def _open(
    node: Node, source: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", node.port("http"), local_addr=(source, 0))


async def _answer(reader: asyncio.StreamReader, within: float = 20.0) -> bytes:
    """Everything the node sends until it closes the connection."""
    async with asyncio.timeout(within):
        return await reader.read()


async def _get(node: Node, source: str) -> bytes:
    reader, writer = await _open(node, source)
    writer.write(b"GET / HTTP/1.1\r\nHost: aduanas\r\nConnection: close\r\n\r\n")
    try:
        return await _answer(reader)
    finally:
        writer.close()


async def _served_then_held(node: Node) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection the node has admitted (it answered a first request), now sending half
    of a second request."""
    reader, writer = await _open(node)
    writer.write(b"GET / HTTP/1.1\r\nHost: aduanas\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 303 "), head
    await reader.readexactly(_length(head))
    writer.write(HALF_A_REQUEST)
    return reader, writer


def _length(head: bytes) -> int:
    return int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])


async def _released(node: Node, address: str) -> None:
    async with asyncio.timeout(10):
        while node.limits is not None and node.limits.open_from(address):  # noqa: ASYNC110 - the connection count has no event to await
            await asyncio.sleep(0.01)


async def test_a_half_sent_request_is_answered_408_and_closed(node: Node) -> None:
    reader, writer = await _open(node)
    writer.write(HALF_A_REQUEST)
    answer = await _answer(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    assert b"\r\nConnection: close\r\n" in answer
    assert answer.endswith(b"\r\n\r\nThe request took too long to arrive.\n")


async def test_a_silent_connection_is_closed_too(node: Node) -> None:
    reader, writer = await _open(node)
    answer = await _answer(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer


async def test_a_body_that_stops_coming_is_answered_408(node: Node) -> None:
    credentials = base64.b64encode(f"agente1@agencias.pe:{DEMO_PASSWORD}".encode())
    reader, writer = await _open(node)
    writer.write(
        b"POST /api/declarations HTTP/1.1\r\nHost: aduanas\r\n"
        b"Authorization: Basic " + credentials + b"\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\nTDH|TELEDESPACHO|01|"
    )
    answer = await _answer(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer


async def test_a_request_sent_whole_is_not_hurried(node: Node) -> None:
    """The timeout is for sending a request: a keep-alive connection that sends its next
    request in pieces, each within the timeout of its own first byte, is served."""
    reader, writer = await _open(node)
    for _ in range(2):
        writer.write(HALF_A_REQUEST)
        await writer.drain()
        await asyncio.sleep(TIMEOUT / 2)  # half the time allowed, then the rest
        writer.write(b"\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 303 "), head
        await reader.readexactly(_length(head))
    writer.close()


async def test_one_address_cannot_take_the_console_from_the_others(node: Node) -> None:
    held = [await _served_then_held(node) for _ in range(PER_ADDRESS)]

    over_reader, over_writer = await _open(node)
    over = await _answer(over_reader)
    over_writer.close()
    assert over.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), over
    assert b"\r\nRetry-After: 10\r\n" in over

    elsewhere = await _get(node, "127.0.0.2")  # served while the five are held
    assert elsewhere.startswith(b"HTTP/1.1 303 "), elsewhere

    for reader, writer in held:  # each answered 408 and closed in its time
        assert (await _answer(reader)).startswith(b"HTTP/1.1 408 ")
        writer.close()
    await _released(node, "127.0.0.1")
    assert (await _get(node, "127.0.0.1")).startswith(b"HTTP/1.1 303 ")


async def test_the_console_counts_against_the_mail_ports_limit(node: Node) -> None:
    """One limit per address for every port: connections held on HTTP leave the address
    fewer for POP3."""
    held = [await _served_then_held(node) for _ in range(PER_ADDRESS)]
    reader, writer = await asyncio.open_connection("127.0.0.1", node.port("pop3"))
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert line.startswith(b"-ERR"), line
    for _, held_writer in held:
        held_writer.close()
        with contextlib.suppress(ConnectionError):
            await held_writer.wait_closed()


async def test_an_upgrade_request_is_served_as_http_and_its_connection_counted_out(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """The node serves no WebSocket: the ``Upgrade`` header is ignored, and the connection,
    still HTTP, is released when it ends."""
    reader, writer = await _open(node)
    writer.write(
        b"GET / HTTP/1.1\r\nHost: aduanas\r\nConnection: Upgrade, close\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    answer = await _answer(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 303 "), answer
    await _released(node, "127.0.0.1")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
