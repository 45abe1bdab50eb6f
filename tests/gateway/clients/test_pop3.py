"""The POP3 session the agent's client uses on its line, against the node's POP3 server."""

from __future__ import annotations

import asyncio
import contextlib
import poplib
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from gateway.clients.pop3 import MAX_LINE, Pop3Error, Pop3Session
from mailboxes.store import Store
from tests.gateway.imap.conftest import AGENT, PASSWORD, Running, accounts, in_thread, serve

DOTTED = b"From: z@example.pe\r\nSubject: puntos\r\n\r\n.hola\r\n.\r\n..\r\nfin\r\n"


@pytest.fixture
async def servers(store: Store) -> AsyncIterator[Running]:
    await accounts(store)
    async for running in serve(store):
        yield running


@contextlib.contextmanager
def session(port: int, **options: int) -> Iterator[Pop3Session]:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        Pop3Session(sock, **options) as pop,
    ):
        yield pop


async def test_the_session_reads_what_poplib_reads(servers: Running) -> None:
    await servers.store.deliver("z@example.pe", [AGENT], DOTTED)
    await servers.store.deliver("z@example.pe", [AGENT], b"Subject: dos\r\n\r\nx\r\n")

    def ours() -> tuple[list[tuple[int, int]], dict[int, str], list[bytes]]:
        with session(servers.pop3_port) as pop:
            pop.login(AGENT, PASSWORD)
            listing, keys = pop.scan_listing(), pop.unique_ids()
            messages = [pop.retrieve(number) for number, _ in listing]
            pop.quit()
            return listing, keys, messages

    def poplibs() -> tuple[list[tuple[int, int]], dict[int, str], list[bytes]]:
        pop = poplib.POP3("127.0.0.1", servers.pop3_port, timeout=10)
        pop.user(AGENT)
        pop.pass_(PASSWORD)
        listing = [(int(n), int(size)) for n, size in (e.split() for e in pop.list()[1])]
        keys = {int(n): uid.decode() for n, uid in (entry.split() for entry in pop.uidl()[1])}
        messages = [b"".join(line + b"\r\n" for line in pop.retr(n)[1]) for n, _ in listing]
        pop.quit()
        return listing, keys, messages

    listing, keys, messages = await in_thread(ours)
    assert (listing, keys, messages) == await in_thread(poplibs)
    assert len(listing) == 2 and len(keys) == 2
    assert messages[0].endswith(b"\r\n.hola\r\n.\r\n..\r\nfin\r\n")  # dot-stuffing undone


async def test_deleted_messages_are_gone_after_quit(servers: Running) -> None:
    for subject in ("uno", "dos"):
        await servers.store.deliver("z@example.pe", [AGENT], f"Subject: {subject}\r\n\r\n".encode())

    def delete_first_then_list() -> list[tuple[int, int]]:
        with session(servers.pop3_port) as pop:
            pop.login(AGENT, PASSWORD)
            pop.delete(1)
            pop.quit()
        with session(servers.pop3_port) as pop:
            pop.login(AGENT, PASSWORD)
            return pop.scan_listing()

    assert len(await in_thread(delete_first_then_list)) == 1


async def test_a_refused_password_is_an_error_with_the_servers_words(servers: Running) -> None:
    def wrong_password() -> str:
        with session(servers.pop3_port) as pop, pytest.raises(Pop3Error) as caught:
            pop.login(AGENT, "otra")
        return str(caught.value)

    assert "auth" in (await in_thread(wrong_password)).lower()


@contextlib.asynccontextmanager
async def answering(reply: bytes) -> AsyncIterator[int]:
    """A server that greets, then answers any command with ``reply`` and closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"+OK hostile\r\n")
        await reader.readline()
        writer.write(reply)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_an_endless_line_is_refused_once_over_the_bound() -> None:
    async with answering(b"+OK " + b"x" * (MAX_LINE + 10)) as port:

        def scan() -> str:
            with session(port) as pop, pytest.raises(Pop3Error) as caught:
                pop.scan_listing()
            return str(caught.value)

        assert "longer than" in await in_thread(scan)


async def test_a_response_over_its_budget_is_refused() -> None:
    lines = b"".join(b"%d 100\r\n" % n for n in range(1, 2000))
    async with answering(b"+OK listing\r\n" + lines + b".\r\n") as port:

        def scan() -> str:
            with session(port, max_response=4096) as pop, pytest.raises(Pop3Error) as caught:
                pop.scan_listing()
            return str(caught.value)

        assert "more than 4096 bytes" in await in_thread(scan)
