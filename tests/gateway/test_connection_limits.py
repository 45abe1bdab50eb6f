"""Caps and time limits of a whole node, with raw sockets (short limits set in the settings)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from config.clock import FixedClock
from config.settings import Settings
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.conftest import FAST_HASHER
from tests.node_clients import AGENT

USER = AGENT.address


@asynccontextmanager
async def running_node(tmp_path: Path, clock: FixedClock, **settings: Any) -> AsyncIterator[Node]:
    node = Node(
        Settings(
            data_dir=tmp_path / "node",
            smtp_port=0,
            pop3_port=0,
            imap_port=0,
            host_all_offices=True,
            **settings,
        ),
        clock=clock,
        hasher=FAST_HASHER,
    )
    await node.start(demo=True)
    try:
        yield node
    finally:
        await node.stop()
        for raw in Raw.opened:
            await raw.aclose()
        Raw.opened.clear()


class Raw:
    """A raw client connection; every read has a deadline so a silent server fails the test."""

    opened: ClassVar[list[Raw]] = []  # closed when the node stops

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        Raw.opened.append(self)

    @classmethod
    async def open(cls, node: Node, service: str, *, source: str | None = None) -> Raw:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", node.port(service), local_addr=(source, 0) if source else None
        )
        return cls(reader, writer)

    async def line(self, within: float = 10) -> bytes:
        async with asyncio.timeout(within):
            return await self.reader.readline()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def closed(self, within: float = 10) -> bytes:
        """Everything the server still says before it closes the connection."""
        async with asyncio.timeout(within):
            return await self.reader.read()

    async def trickle(self, data: bytes, every: float = 0.2) -> None:
        """Send ``data`` a byte at a time (slowloris), stopping if the server hangs up."""
        with contextlib.suppress(ConnectionError):
            for byte in data:
                await self.send(bytes([byte]))
                await asyncio.sleep(every)

    def close(self) -> None:
        self.writer.close()

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def imap_login(raw: Raw) -> None:
    assert (await raw.line()).startswith(b"* OK")
    await raw.send(b'a1 LOGIN %s "%s"\r\n' % (USER.encode(), DEMO_PASSWORD.encode()))
    while not (reply := await raw.line()).startswith(b"a1 "):
        pass
    assert reply.startswith(b"a1 OK"), reply


async def test_imap_client_that_does_not_log_in_in_time_gets_bye_however_it_trickles(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with running_node(tmp_path, clock, login_timeout=1.0) as node:
        raw = await Raw.open(node, "imap")
        assert (await raw.line()).startswith(b"* OK")
        started = time.monotonic()
        await raw.trickle(b"a1 L")  # 0.8 s of activity: a per-read timer would restart
        rest = await raw.closed()
        assert rest.startswith(b"* BYE"), rest
        assert b"Autologout" in rest
        assert time.monotonic() - started < 5


async def test_imap_idle_timeout_after_login_ends_an_idle(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with running_node(tmp_path, clock, login_timeout=30.0, imap_idle_timeout=1.0) as node:
        raw = await Raw.open(node, "imap")
        await imap_login(raw)
        await raw.send(b"a2 SELECT INBOX\r\n")
        while not (await raw.line()).startswith(b"a2 OK"):
            pass
        await raw.send(b"a3 IDLE\r\n")
        assert (await raw.line()).startswith(b"+ ")
        rest = await raw.closed()
        assert rest.startswith(b"* BYE"), rest
        assert rest.count(b"BYE") == 1  # and no second, "server bug" one


async def test_pop3_client_that_does_not_log_in_in_time_is_closed(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with running_node(tmp_path, clock, login_timeout=1.0) as node:
        raw = await Raw.open(node, "pop3")
        assert (await raw.line()).startswith(b"+OK")
        started = time.monotonic()
        await raw.trickle(b"USER")
        assert await raw.closed() == b""  # RFC 1939: autologout without a reply
        assert time.monotonic() - started < 5


async def test_smtp_client_that_does_not_log_in_in_time_gets_421(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with running_node(tmp_path, clock, login_timeout=1.0) as node:
        raw = await Raw.open(node, "smtp")
        assert (await raw.line()).startswith(b"220")
        await raw.send(b"EHLO slow\r\n")  # commands keep aiosmtpd's own timer at bay
        while (await raw.line()).startswith(b"250-"):
            pass
        await raw.send(b"NOOP\r\n")
        assert (await raw.line()).startswith(b"250")
        assert (await raw.closed()).startswith(b"421 4.4.2")


async def test_smtp_idle_client_gets_421(tmp_path: Path, clock: FixedClock) -> None:
    async with running_node(tmp_path, clock, smtp_idle_timeout=1.0) as node:
        raw = await Raw.open(node, "smtp")
        assert (await raw.line()).startswith(b"220")
        assert (await raw.closed()).startswith(b"421 4.4.2")


async def test_caps_per_address_refuse_in_each_protocols_words(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with running_node(tmp_path, clock, max_connections_per_address=3) as node:
        held = [await Raw.open(node, service) for service in ("smtp", "pop3", "imap")]
        for raw in held:
            await raw.line()  # greeted
        refusals = {}
        for service in ("smtp", "pop3", "imap"):
            raw = await Raw.open(node, service)
            refusals[service] = await raw.closed()
        assert refusals["smtp"].startswith(b"421 4.7.0 ")
        assert b"Too many connections from your address" in refusals["smtp"]
        assert refusals["pop3"].startswith(b"-ERR [SYS/TEMP] too many connections from your")
        assert refusals["imap"].startswith(b"* BYE [UNAVAILABLE] Too many connections from")
        other = await Raw.open(node, "imap", source="127.0.0.2")  # another address is served
        assert (await other.line()).startswith(b"* OK")
        held[0].close()
        await held[0].closed()
        again = await Raw.open(node, "smtp")  # a freed place is taken again
        assert (await again.line()).startswith(b"220")
        for raw in [*held, other, again]:
            raw.close()


async def test_global_cap_refuses_every_address(tmp_path: Path, clock: FixedClock) -> None:
    async with running_node(tmp_path, clock, max_connections=2) as node:
        first = await Raw.open(node, "pop3", source="127.0.0.2")
        second = await Raw.open(node, "imap", source="127.0.0.3")
        assert (await first.line()).startswith(b"+OK")
        assert (await second.line()).startswith(b"* OK")
        third = await Raw.open(node, "smtp", source="127.0.0.4")
        assert (await third.closed()).startswith(b"421 4.7.0 ")
        assert node.limits is not None and node.limits.total == 2
        first.close()
        second.close()


async def test_sigterm_like_stop_says_421_to_open_smtp_sessions(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with running_node(tmp_path, clock) as node:
        raw = await Raw.open(node, "smtp")
        assert (await raw.line()).startswith(b"220")
        await raw.send(b"EHLO agente\r\n")
        while (await raw.line()).startswith(b"250-"):
            pass
        await node.stop()
        assert (await raw.closed()).startswith(b"421 4.4.2 ")


@pytest.mark.parametrize("limit", [0, -1])
def test_settings_refuse_a_cap_below_one(limit: int) -> None:
    with pytest.raises(ValueError):
        Settings(max_connections=limit)


async def test_stop_lets_a_data_in_progress_finish_with_250_then_says_421(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with running_node(tmp_path, clock) as node:
        assert node.store is not None
        raw = await Raw.open(node, "smtp")
        assert (await raw.line()).startswith(b"220")
        plain = base64.b64encode(b"\0%s\0%s" % (USER.encode(), DEMO_PASSWORD.encode()))
        for command in (b"EHLO agente", b"AUTH PLAIN " + plain, b"MAIL FROM:<%s>" % USER.encode(),
                        b"RCPT TO:<%s>" % USER.encode(), b"DATA"):  # fmt: skip
            await raw.send(command + b"\r\n")
            while (reply := await raw.line())[3:4] == b"-":
                pass
            assert reply[:1] in (b"2", b"3"), reply
        await raw.send(b"Subject: a medias\r\n\r\n")
        port = node.port("smtp")
        stopping = asyncio.create_task(node.stop())
        await asyncio.sleep(0)  # let it start: it closes the listeners first
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
        assert not stopping.done()  # and waits for this DATA
        await raw.send(b"fin\r\n.\r\n")
        assert (await raw.line()).startswith(b"250 ")  # stored: the 250 still means it
        assert (await raw.closed()).startswith(b"421 4.4.2 ")
        await stopping


async def test_stop_leaves_no_idle_task_behind(tmp_path: Path, clock: FixedClock) -> None:
    # pymap's IDLE left its updates task running when the session was cancelled; it then
    # queried the store after the node had closed it.
    async with running_node(tmp_path, clock) as node:
        raw = await Raw.open(node, "imap")
        await imap_login(raw)
        await raw.send(b"a2 SELECT INBOX\r\n")
        while not (await raw.line()).startswith(b"a2 OK"):
            pass
        await raw.send(b"a3 IDLE\r\n")
        assert (await raw.line()).startswith(b"+ ")
        await node.stop()
        assert (await raw.closed()).startswith(b"* BYE [UNAVAILABLE]")
        left = [t for t in asyncio.all_tasks() if "handle_updates" in repr(t.get_coro())]
        assert left == []
