"""The office watcher: what it reads from the server, and how it rides out a server restart."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable

import pytest

from config.backoff import Backoff
from gateway.clients.office_watch import (
    Acceptance,
    OfficeWatcher,
    WatchRefused,
    acceptance_from_headers,
    mailbox_argument,
)
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.imap import ImapServer
from gateway.node import Node
from mailboxes.store import Store
from tests.gateway.imap.conftest import OFFICE, PASSWORD, accounts
from tests.gateway.imap.test_idle import smtp_send
from tests.gateway.pipeline.helpers import declaration, flat, submission

NUMBER = re.compile(r"^118-\d{4}-10-\d{6}$")


def office_copy(number: str, channel: str = "verde", status: str = "accepted") -> bytes:
    return (
        f"From: {OFFICE}\r\nTo: {OFFICE}\r\nSubject: DUA {number}\r\n"
        f"X-Teledespacho-Status: {status}\r\nX-Teledespacho-Reference: REF-{number[-2:]}\r\n"
        f"X-Teledespacho-Number: {number}\r\nX-Teledespacho-Channel: {channel}\r\n"
        "X-Teledespacho-Agent: 4821\r\n\r\nDeclaracion numerada.\r\n"
    ).encode()


# -- what the watcher reads ------------------------------------------------------------------


def test_only_accepted_declarations_are_acceptances() -> None:
    accepted = acceptance_from_headers(3, office_copy("118-2026-10-000042", "rojo"))
    assert accepted == Acceptance(3, "118-2026-10-000042", "4821", "rojo", "REF-42")
    assert accepted.line() == "118-2026-10-000042  despachador 4821  canal rojo  ref. REF-42"
    assert acceptance_from_headers(4, office_copy("x", status="rejected")) is None
    assert acceptance_from_headers(5, b"Subject: hola\r\n\r\n") is None


# -- the watcher against real servers --------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.acceptances: list[Acceptance] = []
        self.statuses: list[str] = []
        self._changed = asyncio.Event()

    def report(self, acceptance: Acceptance) -> None:
        self.acceptances.append(acceptance)
        self._changed.set()

    def status(self, message: str) -> None:
        self.statuses.append(message)
        self._changed.set()

    async def until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def watching(watcher: OfficeWatcher) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.ensure_future(watcher.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_watcher_reports_an_acceptance_within_a_second(node: Node) -> None:
    seen = Recorder()
    watcher = OfficeWatcher(
        host="127.0.0.1",
        port=node.port("imap"),
        user=OFFICE,
        password=DEMO_PASSWORD,
        report=seen.report,
        status=seen.status,
    )
    async with watching(watcher):
        await seen.until(lambda: watcher.sessions == 1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        agent = DEMO_AGENTS[0].address
        raw = submission(flat(declaration("dua", reference="R-IDLE")), sender=agent, to=OFFICE)
        await smtp_send(node, agent, OFFICE, raw)
        await seen.until(lambda: bool(seen.acceptances))
        elapsed = loop.time() - started
    (acceptance,) = seen.acceptances
    assert elapsed < 1.0, f"reported after {elapsed:.2f} s"
    assert NUMBER.match(acceptance.number)
    assert (acceptance.agent, acceptance.reference) == (DEMO_AGENTS[0].agent_code, "R-IDLE")
    assert acceptance.channel in {"verde", "naranja", "rojo"}


async def test_the_watcher_reconnects_and_reports_what_arrived_meanwhile(store: Store) -> None:
    await accounts(store)
    await store.deliver(OFFICE, [OFFICE], office_copy("118-2026-10-000001"))  # before: not shown
    first = ImapServer(store, greeting_name="imap.test")
    port = (await first.start(host="127.0.0.1", port=0)).sockets[0].getsockname()[1]
    seen = Recorder()
    watcher = OfficeWatcher(
        host="127.0.0.1",
        port=port,
        user=OFFICE,
        password=PASSWORD,
        report=seen.report,
        status=seen.status,
        backoff=Backoff(initial=0.05, maximum=0.2),
    )
    second: ImapServer | None = None
    try:
        async with watching(watcher):
            await seen.until(lambda: watcher.sessions == 1)
            await store.deliver(OFFICE, [OFFICE], office_copy("118-2026-10-000002"))
            await seen.until(lambda: len(seen.acceptances) == 1)

            await first.aclose()  # the server goes away...
            await seen.until(lambda: any("reintento" in s for s in seen.statuses))
            await store.deliver(OFFICE, [OFFICE], b"Subject: no es una aceptacion\r\n\r\nx\r\n")
            await store.deliver(OFFICE, [OFFICE], office_copy("118-2026-10-000003", "rojo"))
            await asyncio.sleep(0.3)  # ...for a few reconnection attempts
            second = ImapServer(store, greeting_name="imap.test")
            await second.start(host="127.0.0.1", port=port)
            await seen.until(lambda: len(seen.acceptances) == 2)
            await store.deliver(OFFICE, [OFFICE], office_copy("118-2026-10-000004"))
            await seen.until(lambda: len(seen.acceptances) == 3)
    finally:
        await first.aclose()
        if second is not None:
            await second.aclose()
    assert [a.number for a in seen.acceptances] == [
        "118-2026-10-000002",
        "118-2026-10-000003",
        "118-2026-10-000004",
    ]
    assert watcher.sessions == 2


async def test_a_refused_login_stops_the_watcher(store: Store) -> None:
    await accounts(store)
    server = ImapServer(store, greeting_name="imap.test")
    port = (await server.start(host="127.0.0.1", port=0)).sockets[0].getsockname()[1]
    watcher = OfficeWatcher(
        host="127.0.0.1", port=port, user=OFFICE, password="mala", report=Recorder().report
    )
    try:
        with pytest.raises(WatchRefused, match="login refused"):
            await asyncio.wait_for(watcher.run(), 5)
    finally:
        await server.aclose()


def test_mailbox_arguments_are_quoted_in_modified_utf7() -> None:
    assert mailbox_argument("INBOX") == '"INBOX"'
    assert mailbox_argument("Canal rojo") == '"Canal rojo"'
    assert mailbox_argument('Régimen "10"') == '"R&AOk-gimen \\"10\\""'
