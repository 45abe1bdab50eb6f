"""A large message's RETR is made off the event loop, and written a piece at a time.

For a message of 20 MB, checking its line ends and stuffing its dots (RFC 1939 §3) took
about 50 ms of the event loop in one step while every other session of the node waited.
Past ``BYTES_ON_LOOP`` the session's answer is made in the lane (``gateway.lane``); which
thread makes it is what the first test looks at.

Made whole, the answer was then copied whole on the loop, and again into the socket's
buffer: with eight clients retrieving 19 MB each, another client's command waited up to
47-87 ms (39-55 ms at the 99th percentile). The session now hands it out a megabyte at a
time, each piece written once the last is on its way.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import gateway.lane
import gateway.pop3.session
from gateway.lane import BYTES_ON_LOOP
from gateway.pop3.maildrop import dot_stuffed
from gateway.pop3.session import OUTPUT_PIECE
from mailboxes.store import Store
from tests.gateway.pop3.test_server import AGENT, AGENT_PW, Running, in_thread, start
from tests.stream_writes import record_writes

LINE = b"x" * 76 + b"\r\n"
LARGE = b"From: a@example.pe\r\nSubject: grande\r\n\r\n.punto inicial\r\n" + LINE * (
    2 * BYTES_ON_LOOP // len(LINE)
)
SMALL = b"From: a@example.pe\r\nSubject: chico\r\n\r\n.punto inicial\r\n" + LINE


@pytest.fixture
async def pop3(store: Store) -> AsyncIterator[Running]:
    await store.create_account(AGENT, AGENT_PW, role="agent", agent_code="4321")
    await store.deliver("a@example.pe", [AGENT], LARGE)
    await store.deliver("a@example.pe", [AGENT], SMALL)
    async for running in start(store):
        yield running


@pytest.fixture
def turns() -> list[str]:
    """The accounts whose turns in the lane the stuffing took (``gateway.lane``)."""
    return []


@pytest.fixture
def stuffers(monkeypatch: pytest.MonkeyPatch, turns: list[str]) -> Iterator[list[str]]:
    """The names of the threads that stuffed a message's dots."""
    seen: list[str] = []
    stuff: Callable[[bytes], Iterator[bytes]] = dot_stuffed

    def record(text: bytes) -> Any:
        seen.append(threading.current_thread().name)
        turns.append(str(gateway.lane._OWNER.get(None)))  # whose turn in the lane it took
        return stuff(text)

    monkeypatch.setattr(gateway.pop3.session, "dot_stuffed", record)
    yield seen


async def test_a_large_message_is_retrieved_as_stored_its_answer_made_in_the_lane(
    pop3: Running, stuffers: list[str], turns: list[str]
) -> None:
    client = await pop3.login()
    stuffers.clear()

    turns.clear()
    _, large, _ = await in_thread(lambda: client.retr(1))
    assert stuffers and all(name.startswith("message-lane") for name in stuffers), stuffers
    assert set(turns) == {AGENT}, "not at the turns of the account logged in as"
    stuffers.clear()
    _, small, _ = await in_thread(lambda: client.retr(2))
    assert stuffers == ["MainThread"]

    assert b"\r\n".join(large) + b"\r\n" == LARGE
    assert b"\r\n".join(small) + b"\r\n" == SMALL


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the node's writes to its clients' streams."""
    return record_writes(monkeypatch)


async def test_a_large_message_is_written_a_piece_at_a_time(
    pop3: Running, writes: list[int]
) -> None:
    client = await pop3.login()
    writes.clear()

    _, large, _ = await in_thread(lambda: client.retr(1))

    assert b"\r\n".join(large) + b"\r\n" == LARGE
    assert sum(writes) > len(LARGE) and len(writes) >= 2, writes
    assert max(writes) <= OUTPUT_PIECE, writes
