"""Each command of a logged-in client has the idle timeout to arrive, however many came before.

The connection keeps one timer for its deadline (``gateway.imap.connection``), set again
when it fires before a deadline that has moved on; these check both sides of it.
"""

from __future__ import annotations

import asyncio

from gateway.imap.connection import Bounds
from mailboxes.store import Store
from tests.gateway.imap.conftest import AGENT, PASSWORD, accounts, serve

IDLE_TIMEOUT = 0.5


async def _answer(reader: asyncio.StreamReader, tag: bytes) -> bytes:
    while True:
        line = await reader.readline()
        if not line or line.startswith(tag + b" "):
            return line


async def test_commands_within_the_timeout_keep_the_session_and_silence_ends_it(
    store: Store,
) -> None:
    await accounts(store)
    async for running in serve(store, bounds=Bounds(idle_timeout=IDLE_TIMEOUT)):
        reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
        try:
            await reader.readline()
            writer.write(
                b'a LOGIN %s "%s"\r\nb SELECT INBOX\r\n' % (AGENT.encode(), PASSWORD.encode())
            )
            assert (await _answer(reader, b"b")).startswith(b"b OK")
            # Four idle timeouts' worth of commands, each well within its own timeout.
            for n in range(10):
                await asyncio.sleep(IDLE_TIMEOUT / 2.5)
                writer.write(b"n%d NOOP\r\n" % n)
                assert (await _answer(reader, b"n%d" % n)).startswith(b"n%d OK" % n)
            loop = asyncio.get_running_loop()
            quiet_since = loop.time()
            async with asyncio.timeout(10):
                rest = await reader.read()
            assert rest.startswith(b"* BYE Autologout"), rest
            assert loop.time() - quiet_since >= IDLE_TIMEOUT * 0.9
        finally:
            writer.close()
