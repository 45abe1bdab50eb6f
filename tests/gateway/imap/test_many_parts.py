"""Messages small in bytes but of many MIME parts, fetched without holding the other clients.

A mail of 999 empty parts is 10 KB, within every limit (an agent may send one, and it is
filed in the office's mailbox like any other). Its MIME structure took 0.09 s to parse and
its BODYSTRUCTURE 0.03 s to write, and both were done on the event loop, for every message
of a FETCH in one go: ``FETCH 1:* BODYSTRUCTURE`` over 30 of them held every other client
of the node 4.7 s. Now the parse is done in a worker thread, and the loop is free between
messages.

Four clients doing so at once held the loop 0.6-0.9 s at a time: each parse in a thread of
its own, all holding the interpreter lock in turn, and each structure written on the loop
(25-100 ms). Now the parses, the structures' bytes and the freeing of the parsed parts go
to one thread (``gateway.lane``), and a parse leaves no classes behind for the collector.
"""

from __future__ import annotations

import asyncio
import imaplib
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import pytest
from pymap.mime import MessageContent

from gateway.imap import content
from tests.gateway.http.rig import loop_pauses
from tests.gateway.imap.conftest import AGENT, OTHER_AGENT, Running, fetched, in_thread

PARTS = 999
MANY_PARTS = (
    b"From: z@example.pe\r\nTo: agente1@agencias.pe\r\nSubject: partes\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    + b"--b\r\n\r\nx\r\n" * PARTS
    + b"--b--\r\n"
)
MESSAGES = 20
T = TypeVar("T")


FETCHES = [
    ("(BODYSTRUCTURE)", b'"mixed"'),
    ("(ENVELOPE)", b'"partes"'),
    ("(BODY.PEEK[1])", b"x"),
    ("(RFC822.SIZE)", b"RFC822.SIZE %d" % len(MANY_PARTS)),
]


async def readers(imap: Running, count: int, account: str = AGENT) -> list[imaplib.IMAP4]:
    """``count`` clients logged in as ``account``, each with INBOX selected read-only."""
    clients = [await in_thread(lambda: imap.login(account)) for _ in range(count)]
    for client in clients:
        await in_thread(lambda client=client: client.select("INBOX", readonly=True))
    return clients


def structures(client: imaplib.IMAP4, which: str = "1:*") -> list[bytes]:
    """The BODYSTRUCTUREs of those messages, fetched."""
    status, data = client.fetch(which, "(BODYSTRUCTURE)")
    assert status == "OK", data
    return [fetched(item) for item in data if item != b")"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # IMAP's work alone
@pytest.mark.usefixtures("frozen_heap")
async def test_a_fetch_of_many_part_messages_leaves_the_loop_free(imap: Running) -> None:
    for _ in range(MESSAGES):
        await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX"))

    for items, expect in FETCHES:

        def fetch(items: str = items) -> list[bytes]:
            status, data = client.fetch("1:*", items)
            assert status == "OK", data
            return [fetched(item) for item in data if item != b")"]

        async with loop_pauses() as pauses:
            answers = await in_thread(fetch)

        assert len(answers) == MESSAGES, items
        assert all(expect in answer for answer in answers), items
        longest = max(pauses, default=0.0)
        assert longest < 0.5, f"the event loop was held {longest:.2f} s by FETCH 1:* {items}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("frozen_heap")
async def test_four_clients_fetching_many_part_structures_leave_the_loop_free(
    imap: Running,
) -> None:
    for _ in range(MESSAGES):
        await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)
    clients = await readers(imap, 4)

    async with loop_pauses() as pauses:
        answers = await asyncio.gather(*(in_thread(partial(structures, c)) for c in clients))

    assert all(len(answer) == MESSAGES for answer in answers)
    assert all(item.count(b'("text" "plain"') == PARTS for answer in answers for item in answer)
    longest = max(pauses, default=0.0)
    assert longest < 0.4, f"the event loop was held {longest:.2f} s by four clients at once"


CROWD = 20


@pytest.fixture
def threads() -> Iterator[ThreadPoolExecutor]:
    """A thread for each client of a crowd: asyncio's default executor has six on two cores,
    and six clients at a time would be no crowd (and the others would wait for a thread)."""
    with ThreadPoolExecutor(CROWD + 1) as pool:
        yield pool


def in_own_thread(threads: ThreadPoolExecutor, fn: Callable[[], T]) -> asyncio.Future[T]:
    return asyncio.get_running_loop().run_in_executor(threads, fn)


class PartsAlive:
    """The most parsed parts alive at once: pymap's ``MessageContent``, one per part."""

    def __init__(self) -> None:
        self.alive = 0
        self.most = 0
        self._lock = threading.Lock()

    def born(self, part: MessageContent) -> None:
        with self._lock:
            self.alive += 1
            self.most = max(self.most, self.alive)
        weakref.finalize(part, self._gone)

    def _gone(self) -> None:
        with self._lock:
            self.alive -= 1


@pytest.fixture
def parts_alive(monkeypatch: pytest.MonkeyPatch) -> PartsAlive:
    counted = PartsAlive()
    make = MessageContent.__init__

    def counting(part: MessageContent, *args: Any, **kwargs: Any) -> None:
        make(part, *args, **kwargs)
        counted.born(part)

    monkeypatch.setattr(MessageContent, "__init__", counting)
    return counted


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("frozen_heap")
async def test_a_crowd_fetching_many_part_structures_holds_no_parse_in_waiting(
    imap: Running, parts_alive: PartsAlive, threads: ThreadPoolExecutor
) -> None:
    """Twenty clients fetching the structures of many-part mails held every other client of
    the demo node 0.4-1.9 s every two seconds. Each client's message, parsed when loaded
    (about 36 000 objects for 999 parts), waited in the lane's queue for its values to be
    made, then again to be let go of, and the collector's full passes walked them all
    (1.5-2.0 s each). Now a message is parsed, read and let go of in one turn of the lane."""
    for _ in range(3):
        await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)
    clients = await readers(imap, CROWD)

    async with loop_pauses() as pauses:
        answers = await asyncio.gather(
            *(in_own_thread(threads, partial(structures, c)) for c in clients)
        )

    assert all(item.count(b'("text" "plain"') == PARTS for answer in answers for item in answer)
    # The parts of one message at most, the one in the lane: never those of the twenty.
    assert parts_alive.most <= PARTS + 1, f"{parts_alive.most} parts were alive at once"
    longest = max(pauses, default=0.0)
    assert longest < 0.4, f"the event loop was held {longest:.2f} s by {CROWD} clients"


async def test_the_structure_still_names_every_part_up_to_the_limit(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)

    def structure() -> bytes:
        client = imap.login(AGENT)
        client.select("INBOX")
        _, data = client.fetch("1", "(BODYSTRUCTURE)")
        return fetched(data[0])

    answer = await in_thread(structure)
    assert answer.count(b'("text" "plain"') == PARTS


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_another_account_s_fetch_waits_for_a_turn_not_for_the_crowd(
    imap: Running, monkeypatch: pytest.MonkeyPatch, threads: ThreadPoolExecutor
) -> None:
    """The lane took its work in the order it came: twenty connections of one account
    fetching many-part structures had another account's one fetch wait behind all their
    messages (4-5 s on the demo node). Its work now takes turns with the account's."""
    for _ in range(2):
        await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)
    theirs = MANY_PARTS.replace(b"Subject: partes", b"Subject: otra")
    await imap.store.deliver("z@example.pe", [OTHER_AGENT], theirs)
    parsed: list[str] = []
    crowd_busy = threading.Event()
    parse = content.parse_bounded

    def recorded(raw: bytes) -> MessageContent:
        parsed.append("other" if raw == theirs else "crowd")
        if parsed.count("crowd") >= 2:
            crowd_busy.set()
        return parse(raw)

    monkeypatch.setattr(content, "parse_bounded", recorded)
    crowd = await readers(imap, CROWD)
    (other,) = await readers(imap, 1, OTHER_AGENT)

    fetching = asyncio.gather(*(in_own_thread(threads, partial(structures, c)) for c in crowd))
    await in_thread(crowd_busy.wait)
    parsed.append("asked")
    (answer,) = await in_own_thread(threads, partial(structures, other, "1"))
    await fetching

    assert b'"mixed"' in answer
    waited = parsed[parsed.index("asked") : parsed.index("other")].count("crowd")
    assert waited <= 2, f"another account's fetch waited for {waited} of the crowd's messages"
