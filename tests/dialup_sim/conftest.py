"""Real servers on loopback for the proxy tests: an SMTP sink (aiosmtpd) and an echo server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiosmtpd import smtp as aiosmtpd_smtp

from dialup_sim.phonebook import Address
from dialup_sim.proxy import ModemProxy, ProxySettings

LOOPBACK = "127.0.0.1"


@dataclass
class SinkHandler:
    """Keeps what aiosmtpd received; a DATA cut short never reaches ``handle_DATA``."""

    messages: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 2.0.0 stored"


@dataclass
class Sink:
    address: Address
    handler: SinkHandler


@pytest.fixture
async def smtp_sink() -> AsyncIterator[Sink]:
    handler = SinkHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: aiosmtpd_smtp.SMTP(handler, hostname="sink.test", ident="sink"), LOOPBACK, 0
    )
    try:
        yield Sink(Address(LOOPBACK, server.sockets[0].getsockname()[1]), handler)
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Echo:
    address: Address
    connections: int = 0


@pytest.fixture
async def echo_server() -> AsyncIterator[Echo]:
    echo = Echo(Address(LOOPBACK, 0))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        echo.connections += 1
        try:
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, LOOPBACK, 0)
    echo.address = Address(LOOPBACK, server.sockets[0].getsockname()[1])
    try:
        yield echo
    finally:
        server.close()
        await server.wait_closed()


ProxyFactory = Callable[..., Awaitable[ModemProxy]]


@pytest.fixture
async def start_proxy() -> AsyncIterator[ProxyFactory]:
    """``await start_proxy(target, **settings)``: a running proxy on a free port."""
    running: list[ModemProxy] = []

    async def start(target: Address, **options: Any) -> ModemProxy:
        base = ProxySettings(listen=Address(LOOPBACK, 0), target=target, seed=1, tick=0.005)
        proxy = ModemProxy(replace(base, **options))
        await proxy.start()
        running.append(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in running:
            await proxy.close()


def _can_hang_up_a_pty() -> bool:
    """TIOCVHANGUP needs CAP_SYS_ADMIN, which root in a container often lacks: try it."""
    import fcntl
    import os
    import pty

    from dialup_sim.pty_port import TIOCVHANGUP

    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, TIOCVHANGUP)
    except OSError:
        return False
    finally:
        os.close(slave)
        os.close(master)
    return True


needs_pty_hangup = pytest.mark.skipif(
    not _can_hang_up_a_pty(), reason="hanging up a pseudo-terminal needs CAP_SYS_ADMIN"
)
