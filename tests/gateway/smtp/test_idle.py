"""The idle timeout counts from the client's last command, however many came before it."""

from __future__ import annotations

import asyncio
import time

from gateway.smtp import SubmissionHandler
from gateway.smtp.server import SmtpServer
from mailboxes.store import Store
from tests.gateway.smtp.conftest import directory

IDLE = 1.0
"""Seconds; each command comes a quarter of it after the last, so a loaded machine
stretching a pause threefold still keeps the session open."""


async def test_commands_keep_a_session_open_and_silence_closes_it_after_the_idle_time(
    store: Store,
) -> None:
    server = SmtpServer(
        SubmissionHandler(store, directory(store)),
        hostname="test.aduanas.gob.pe",
        max_message_size=1024,
        idle_timeout=IDLE,
    )
    listening = await server.start(host="127.0.0.1", port=0)
    reader, writer = await asyncio.open_connection(*listening.sockets[0].getsockname()[:2])
    try:
        assert (await reader.readline()).startswith(b"220")
        for _ in range(5):  # more than the idle time in all, each within it
            await asyncio.sleep(IDLE / 4)
            writer.write(b"NOOP\r\n")
            assert (await reader.readline()).startswith(b"250")
        last = time.monotonic()
        goodbye = await asyncio.wait_for(reader.readline(), timeout=30)
        silent = time.monotonic() - last
        assert goodbye.startswith(b"421 4.4.2")
        assert IDLE * 0.9 <= silent < IDLE * 10
    finally:
        writer.close()
        await server.aclose()
