"""An IMAP server (with a POP3 server beside it) on a real store, on free loopback ports.

The store is SQLite and PostgreSQL in turn (``tests.backends``); the tests that need a whole
node (``node``) run on SQLite only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import imaplib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from gateway.imap import ImapServer
from gateway.pop3.server import Pop3Server
from mailboxes.store import Store
from tests.backends import database_url, store

__all__ = ["database_url", "store"]

T = TypeVar("T")

AGENT = "agente1@agencias.pe"
OTHER_AGENT = "agente2@agencias.pe"
OFFICE = "aduana-118@aduanas.gob.pe"
DEPARTMENT = "despacho.118@aduanas.gob.pe"
PASSWORD = "clave de prueba"


def mail(subject: str, body: str = "texto\r\n", sender: str = "z@example.pe") -> bytes:
    return f"From: {sender}\r\nTo: {AGENT}\r\nSubject: {subject}\r\n\r\n{body}".encode()


@dataclass
class Running:
    store: Store
    server: ImapServer
    port: int
    pop3_port: int
    clients: list[imaplib.IMAP4] = field(default_factory=list)

    def client(self) -> imaplib.IMAP4:
        """An imaplib client, closed at teardown even when a test fails half-way. Its reads
        wait up to a minute: the heaviest commands here take seconds, longer when another
        test process shares the cores."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=60)
        self.clients.append(imap)
        return imap

    def login(self, user: str = AGENT, password: str = PASSWORD) -> imaplib.IMAP4:
        imap = self.client()
        imap.login(user, password)
        return imap


def fetched(item: bytes | tuple[bytes, bytes] | None) -> bytes:
    """One item of imaplib's FETCH data as the bytes the server sent (a literal's prefix and
    its bytes joined)."""
    assert item is not None
    return b"".join(item) if isinstance(item, tuple) else item


async def in_thread(fn: Callable[[], T]) -> T:
    """Run blocking imaplib/poplib code while the servers keep running on the loop."""
    return await asyncio.to_thread(fn)


async def accounts(store: Store) -> None:
    await store.create_account(AGENT, PASSWORD, role="agent", agent_code="4821")
    await store.create_account(OTHER_AGENT, PASSWORD, role="agent", agent_code="5307")
    await store.create_account(OFFICE, PASSWORD, role="office", office_code="118")
    await store.create_account(DEPARTMENT, PASSWORD, role="department", office_code="118")


async def serve(store: Store, **options: object) -> AsyncIterator[Running]:
    imap = ImapServer(store, greeting_name="imap.test", **options)  # type: ignore[arg-type]
    pop3 = Pop3Server(store, greeting_name="pop.test")
    listener = await imap.start(host="127.0.0.1", port=0)
    pop3_listener = await pop3.start(host="127.0.0.1", port=0)
    running = Running(
        store,
        imap,
        listener.sockets[0].getsockname()[1],
        pop3_listener.sockets[0].getsockname()[1],
    )
    try:
        yield running
    finally:
        for client in running.clients:
            with contextlib.suppress(OSError):
                client.shutdown()
        await pop3.aclose()
        await imap.aclose()


@pytest.fixture
async def imap(store: Store) -> AsyncIterator[Running]:
    await accounts(store)
    async for running in serve(store, idle_poll=0.2):
        yield running


@pytest.fixture
async def shared_imap(store: Store) -> AsyncIterator[Running]:
    """A server configured to show offices their departments' mailboxes."""
    await accounts(store)
    async for running in serve(store, share_departments=True):
        yield running


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    """For tests that time the event loop's pauses: as ``serve`` freezes what it holds once
    started, so the collector's full passes skip it. Over this test process's own heap they
    took 0.1-0.3 s each, late in the suite: a pause the node does not have."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
