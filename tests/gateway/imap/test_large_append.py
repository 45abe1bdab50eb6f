"""A large APPEND read and made CRLF without holding the event loop.

For a message of 20 MB, checking its line ends took 24 ms of the event loop in one step,
and eight clients appending such messages at once held every other client up to 0.13-0.21 s.
Past ``BYTES_ON_LOOP`` it is done in the lane; which thread does it is what the first test
looks at.

Eight clients appending 19 MB each still held the others up to 72-134 ms: the literal was
gathered whole in the connection's stream buffer, which grew by reallocation (a copy of all
of it at each growth), then copied whole three more times on the loop (the last by pymap's
parse). Now it is read a piece at a time, the stream buffering no more than its usual bound,
and the command is joined and parsed in the lane.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pymap.parsing import Params
from pymap.parsing.primitives import LiteralString

import gateway.imap.connection
import gateway.imap.mailbox
import mailboxes.folders
from gateway.lane import BYTES_ON_LOOP
from mailboxes.line_ends import canonical_line_ends
from tests.gateway.imap.conftest import AGENT, PASSWORD, Running, fetched, in_thread

LINE = b"x" * 76 + b"\r\n"
LARGE = b"From: z@example.pe\r\nSubject: grande\r\n\r\nuna linea con LF suelto\n" + LINE * (
    2 * BYTES_ON_LOOP // len(LINE)
)
SMALL = b"From: z@example.pe\r\nSubject: chico\r\n\r\nuna linea con LF suelto\n" + LINE


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """Which threads made the line ends CRLF (wherever the IMAP mailbox or the store did it:
    once for a message), by name."""
    seen: dict[str, list[str]] = {"line ends": []}

    def record(raw: bytes) -> Any:
        seen["line ends"].append(threading.current_thread().name)
        return canonical_line_ends(raw)

    for module in (gateway.imap.mailbox, mailboxes.folders):
        monkeypatch.setattr(module, "canonical_line_ends", record, raising=False)
    yield seen


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_large_append_is_made_crlf_in_the_lane(
    imap: Running, threads: dict[str, list[str]]
) -> None:
    client = await in_thread(lambda: imap.login(AGENT))

    def append() -> None:
        for message in (LARGE, SMALL):
            status, data = client.append("INBOX", "", "", message)
            assert status == "OK", data

    def fetch() -> list[bytes]:
        client.select("INBOX")
        status, data = client.fetch("1:2", "(BODY.PEEK[])")
        assert status == "OK", data
        return [fetched(item) for item in data if item != b")"]

    await in_thread(append)

    # The large one in the lane, the small one on the loop as before; each once.
    large, small = threads["line ends"]
    assert large.startswith("message-lane") and small == "MainThread", threads

    bodies = await in_thread(fetch)

    assert bodies[0].endswith(LARGE.replace(b"suelto\n", b"suelto\r\n"))
    assert bodies[1].endswith(SMALL.replace(b"suelto\n", b"suelto\r\n"))


class Reading:
    """The most bytes a connection's stream buffered at once, the threads that joined a
    command's pieces, and those that parsed a literal larger than ``BYTES_ON_LOOP``."""

    def __init__(self) -> None:
        self.most_buffered = 0
        self.joined: list[str] = []
        self.parsed_large: list[str] = []


@pytest.fixture
def reading(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reading]:
    seen = Reading()
    feed_data = asyncio.StreamReader.feed_data
    joined = gateway.imap.connection.joined

    def feed(self: asyncio.StreamReader, data: bytes) -> None:
        feed_data(self, data)
        seen.most_buffered = max(seen.most_buffered, len(self._buffer))  # type: ignore[attr-defined]

    def join(pieces: list[bytes | memoryview]) -> bytes:
        seen.joined.append(threading.current_thread().name)
        return joined(pieces)

    def parse(cls: type[LiteralString], buf: memoryview, params: Params) -> Any:
        parsed = literal_parse(buf, params)
        if len(parsed[0].value) > BYTES_ON_LOOP:
            seen.parsed_large.append(threading.current_thread().name)
        return parsed

    literal_parse = LiteralString.parse
    monkeypatch.setattr(asyncio.StreamReader, "feed_data", feed)
    monkeypatch.setattr(LiteralString, "parse", classmethod(parse))
    monkeypatch.setattr(gateway.imap.connection, "joined", join)
    yield seen


def append_raw(port: int, announce: bytes, message: bytes) -> bytes:
    """An APPEND of ``message`` as one literal announced as ``announce`` (``{N}`` waits for
    the server's go-ahead, ``{N+}`` does not); the tagged answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        lines = sock.makefile("rb")
        lines.readline()
        sock.sendall(b'a LOGIN %s "%s"\r\n' % (AGENT.encode(), PASSWORD.encode()))
        assert lines.readline().startswith(b"a OK"), "login"
        sock.sendall(b"b APPEND INBOX " + announce + b"\r\n")
        if not announce.endswith(b"+}"):
            assert lines.readline().startswith(b"+")
        sock.sendall(message + b"\r\n")
        return lines.readline()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("announce", [b"{%d}", b"{%d+}"], ids=["synchronizing", "literal-plus"])
async def test_a_large_literal_is_never_buffered_whole_and_is_joined_in_the_lane(
    imap: Running, reading: Reading, announce: bytes
) -> None:
    message = LARGE.replace(b"suelto\n", b"suelto\r\n")

    answer = await in_thread(lambda: append_raw(imap.port, announce % len(message), message))

    assert answer.startswith(b"b OK"), answer
    assert 0 < reading.most_buffered <= BYTES_ON_LOOP // 2, reading.most_buffered
    assert [name[:12] for name in reading.joined] == ["message-lane"], reading.joined
    assert [name[:12] for name in reading.parsed_large] == ["message-lane"], reading.parsed_large
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX", readonly=True))
    status, data = await in_thread(lambda: client.fetch("1", "(BODY.PEEK[])"))
    assert status == "OK" and fetched(data[0]).endswith(b"}" + message)
