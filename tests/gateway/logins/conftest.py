"""A node with a short login penalty, and raw clients of its three protocols that can log in
from any loopback address (``127.0.0.0/8`` all reaches the node) and time the answer."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.logins import LoginLimits
from config.settings import Settings
from gateway.node import Node
from tests.conftest import FAST_HASHER

PENALTY = 0.2
MAX_PENALTY = 1.6


@pytest.fixture
async def guarded(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    settings = Settings(
        data_dir=tmp_path / "node",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        host_all_offices=True,
        logins=LoginLimits(penalty_seconds=PENALTY, max_penalty_seconds=MAX_PENALTY),
    )
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        yield node
    finally:
        await node.stop()


async def _open(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


async def smtp_auth(
    node: Node, user: str, password: str, source: str = "127.0.0.1"
) -> tuple[str, float]:
    """AUTH PLAIN once; the reply line and how long it took."""
    reader, writer = await _open(node.port("smtp"), source)
    try:
        await reader.readline()
        writer.write(b"EHLO client.example\r\n")
        while not (await reader.readline()).startswith(b"250 "):
            pass
        blob = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        started = time.monotonic()
        writer.write(f"AUTH PLAIN {blob}\r\n".encode())
        reply = (await reader.readline()).decode().strip()
        return reply, time.monotonic() - started
    finally:
        await _close(writer)


async def pop3_login(
    node: Node, user: str, password: str, source: str = "127.0.0.1"
) -> tuple[str, float]:
    reader, writer = await _open(node.port("pop3"), source)
    try:
        await reader.readline()
        writer.write(f"USER {user}\r\n".encode())
        await reader.readline()
        started = time.monotonic()
        writer.write(f"PASS {password}\r\n".encode())
        reply = (await reader.readline()).decode().strip()
        return reply, time.monotonic() - started
    finally:
        await _close(writer)


async def imap_login(
    node: Node, user: str, password: str, source: str = "127.0.0.1"
) -> tuple[str, float]:
    reader, writer = await _open(node.port("imap"), source)
    try:
        await reader.readline()
        started = time.monotonic()
        writer.write(f'a1 LOGIN "{user}" "{password}"\r\n'.encode())
        while not (line := await reader.readline()).startswith(b"a1 "):
            if not line:
                raise ConnectionError("closed")
        return line.decode().strip(), time.monotonic() - started
    finally:
        await _close(writer)
