"""A client that sends commands but never reads the answers is cut off after the idle timeout.

The timer that does it is armed only when a response is left in the transport's buffer
(see ``gateway.imap.connection``): this test fills that buffer.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from gateway.imap.connection import Bounds
from mailboxes.store import Store
from tests.gateway.imap.conftest import AGENT, PASSWORD, accounts, mail, serve


class _Noticed(logging.Handler):
    """Sets an event when the connection logs that it cut a client off (same loop)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.cut_off = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "not reading our responses" in record.getMessage():
            self.cut_off.set()


@asynccontextmanager
async def _slow_client(
    store: Store,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.Event]]:
    """A client of a small receive buffer, logged in with INBOX selected, to a server that
    cuts off after 0.5 s a client that does not read; the event is set when it does."""
    noticed = _Noticed()
    connection_log = logging.getLogger("gateway.imap.connection")
    connection_log.addHandler(noticed)
    level = connection_log.level
    connection_log.setLevel(logging.INFO)
    try:
        async for running in serve(store, bounds=Bounds(idle_timeout=0.5)):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", running.port))
            reader, writer = await asyncio.open_connection(sock=sock)
            try:
                writer.write(f'a LOGIN {AGENT} "{PASSWORD}"\r\nb SELECT INBOX\r\n'.encode())
                yield reader, writer, noticed.cut_off
            finally:
                writer.close()
    finally:
        connection_log.removeHandler(noticed)
        connection_log.setLevel(level)


async def test_client_that_stops_reading_responses_is_cut_off(store: Store) -> None:
    await accounts(store)
    big = mail("grande", ("x" * 78 + "\r\n") * 25_000)  # 2 MB
    await store.deliver("z@example.pe", [AGENT], big)
    async with _slow_client(store) as (reader, writer, cut_off):
        writer.write(b"".join(b"c%d UID FETCH 1 BODY.PEEK[]\r\n" % n for n in range(10)))
        await writer.drain()
        async with asyncio.timeout(20):  # 20 MB asked for, never read
            await cut_off.wait()
        received = 0
        with pytest.raises(ConnectionResetError):
            async with asyncio.timeout(10):
                while chunk := await reader.read(1 << 20):
                    received += len(chunk)
                raise ConnectionResetError("closed")  # an orderly close counts too
        assert received < 10 * len(big)


MESSAGES = 20
"""Messages of 4 MB one FETCH asks for: 80 MB, held whole and then buffered for the client
before the fix (the node grew by 60-250 MB; now by a few messages at most)."""


def _peak_resident_reset() -> None:
    """Start the kernel's count of this process's peak resident memory over (Linux)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def _peak_resident() -> int:
    with open("/proc/self/status") as status:
        [line] = [line for line in status if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # IMAP's work alone
@pytest.mark.parametrize(
    "command",
    [b"FETCH 1:%d BODY.PEEK[]" % MESSAGES, b"FETCH 1:* (UID BODY.PEEK[])"],
    ids=["numbered", "whole-mailbox"],
)
async def test_a_fetch_of_many_large_messages_is_written_as_the_client_reads(
    store: Store, command: bytes
) -> None:
    await accounts(store)
    big = mail("grande", ("x" * 78 + "\r\n") * 50_000)  # 4 MB
    for _ in range(MESSAGES):
        await store.deliver("z@example.pe", [AGENT], big)
    async with _slow_client(store) as (reader, writer, cut_off):
        writer.write(b"w FETCH 1:2 BODY.PEEK[]\r\n")  # read: what the first FETCH of a
        await writer.drain()  # process sets up is not counted
        async with asyncio.timeout(20):
            while not (await reader.readuntil(b"\r\n")).startswith(b"w OK"):
                pass
        _peak_resident_reset()
        before = _peak_resident()
        writer.write(b"c " + command + b"\r\n")  # and nothing more is read
        await writer.drain()
        async with asyncio.timeout(20):
            await cut_off.wait()
        grown = _peak_resident() - before
    assert grown < 8 * len(big), f"the node grew by {grown / 1e6:.0f} MB for one FETCH"
