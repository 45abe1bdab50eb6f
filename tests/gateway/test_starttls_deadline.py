"""A client that asks for TLS on a plain port (SMTP ``STARTTLS``, POP3 ``STLS``, IMAP
``STARTTLS``) and then never handshakes is closed when its time to log in is up, and its
connection no longer counts; a STARTTLS session counts once.

On ``main`` before this, with ``login_timeout`` at 3 s, SMTP closed such a client after 2 s
but POP3 and IMAP held it for asyncio's own 60 s handshake limit (IMAP: 59.8 s; POP3 still
open after 30 s). And SMTP never released the count of either: a connection closed in its
STARTTLS handshake was never reported lost to the session, and a completed STARTTLS was
counted a second time. With ``max_connections_per_address`` at 2, two such sessions from
one address had it refused for good (seen 70 s later: ``421 4.7.0 ... Too many
connections from your address``); with the default limit, 50 STARTTLS submissions would.
"""

from __future__ import annotations

import asyncio
import smtplib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.conftest import demo_node
from tests.gateway.test_tls import trusting
from tests.node_clients import AGENT

LOGIN_TIMEOUT = 1.0
GREETINGS = {"smtp": b"220 ", "pop3": b"+OK", "imap": b"* OK"}
ASKS = {
    "smtp": [(b"EHLO cliente\r\n", b"250 "), (b"STARTTLS\r\n", b"220 ")],
    "pop3": [(b"STLS\r\n", b"+OK")],
    "imap": [(b"a STARTTLS\r\n", b"a OK")],
}


@pytest.fixture
async def node(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    async with demo_node(
        tmp_path / "node",
        clock,
        smtps_port=False,
        pop3s_port=False,
        imaps_port=False,
        login_timeout=LOGIN_TIMEOUT,
        max_connections_per_address=1,  # a connection whose count leaked refuses the next
    ) as running:
        yield running


async def _line_starting(reader: asyncio.StreamReader, prefix: bytes) -> None:
    async with asyncio.timeout(10):
        while not (line := await reader.readline()).startswith(prefix):
            assert line, f"closed before {prefix!r}"


@pytest.mark.parametrize("service", sorted(ASKS))
async def test_a_tls_upgrade_never_handshaken_ends_with_the_login_time(
    node: Node, service: str
) -> None:
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", node.port(service))
    await reader.readline()  # the greeting
    for command, answer in ASKS[service]:
        writer.write(command)
        await _line_starting(reader, answer)
    try:  # TLS now, the client says: and then it says nothing at all
        async with asyncio.timeout(20):
            await reader.read()
    except ConnectionResetError:
        pass
    finally:
        writer.close()
    assert time.monotonic() - started < LOGIN_TIMEOUT + 10  # not asyncio's 60 s

    await _released(node)
    reader, writer = await asyncio.open_connection("127.0.0.1", node.port(service))
    greeting = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert greeting.startswith(GREETINGS[service]), greeting  # not a refusal


async def test_a_starttls_session_counts_once(node: Node) -> None:
    """Two STARTTLS submissions one after the other from an address allowed one connection."""

    def submit() -> None:
        with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as client:
            client.starttls(context=trusting(node))
            client.login(AGENT.address, DEMO_PASSWORD)
            client.sendmail(AGENT.address, [AGENT.address], b"Subject: TLS\r\n\r\nHola.\r\n")

    for _ in range(2):
        await asyncio.to_thread(submit)
        await _released(node)


async def _released(node: Node) -> None:
    """Until the node counts no connection from the loopback address: a count is released
    as its session ends, after the client has seen the close (POP3: up to 5 s later, while
    the stream waits to be closed)."""
    async with asyncio.timeout(10):
        while node.limits is not None and node.limits.open_from("127.0.0.1"):  # noqa: ASYNC110 - the connection count has no event to await
            await asyncio.sleep(0.01)
