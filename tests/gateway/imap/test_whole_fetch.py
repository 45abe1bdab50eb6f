"""A large message fetched whole is sent as it is stored, never parsed.

``BODY[]`` and ``RFC822`` (what fetchmail, mbsync and getmail ask for) are the message's
bytes. A message past ``INLINE_BYTES`` had its whole MIME structure parsed in the lane all
the same, for bytes it already had: such a fetch of a 16 MB mail with one attachment cost
the node 180-280 ms of CPU while other accounts' turns in the lane waited (50-100 ms now).
Now only a command that reads its parts parses it, and a value past ``BYTES_ON_LOOP`` is
made in the lane (a pass over its bytes), not on the loop.

The answer was then joined whole on the loop and handed to the socket whole, its bytes
copied into the transport's buffer in one call: eight clients fetching 19 MB each held
another client's command up to 0.18-0.2 s. Now it is written a slice at a time, each once
the client has taken the last.
"""

from __future__ import annotations

import imaplib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from pymap.fetch import DynamicLoadedFetchValue
from pymap.mime import MessageContent

from gateway.imap import content
from gateway.imap.connection import BUFFERED_BYTES
from gateway.imap.content import INLINE_BYTES
from gateway.lane import BYTES_ON_LOOP
from tests.gateway.imap.conftest import AGENT, Running, fetched, in_thread
from tests.stream_writes import record_writes

LINE = b"QUJD" * 19 + b"\r\n"
LARGE = (
    b"From: z@example.pe\r\nTo: agente1@agencias.pe\r\nSubject: grande\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nAdjunto.\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + LINE * (2 * BYTES_ON_LOOP // len(LINE))
    + b"--b--\r\n"
)

WHOLE = [
    "(UID RFC822.SIZE FLAGS BODY.PEEK[])",  # fetchmail's and mbsync's line
    "(RFC822)",
    "(FLAGS BODY.PEEK[]) (CHANGEDSINCE 0)",  # answered by pymap's own responses
    "(BODY.PEEK[]<0.100>)",
]


class Seen:
    """Which threads parsed a message, and which made a value larger than ``BYTES_ON_LOOP``."""

    def __init__(self) -> None:
        self.parsed: list[str] = []
        self.large_values: list[str] = []


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    seen = Seen()
    parse_bounded = content.parse_bounded
    get_data = DynamicLoadedFetchValue._get_data.__func__  # type: ignore[attr-defined]

    def parse(raw: bytes) -> MessageContent:
        seen.parsed.append(threading.current_thread().name)
        return parse_bounded(raw)

    def data(cls: type[DynamicLoadedFetchValue], *args: Any, **kwargs: Any) -> Any:
        made = get_data(cls, *args, **kwargs)
        if len(made) > BYTES_ON_LOOP:
            seen.large_values.append(threading.current_thread().name)
        return made

    monkeypatch.setattr(content, "parse_bounded", parse)
    monkeypatch.setattr(DynamicLoadedFetchValue, "_get_data", classmethod(data))
    yield seen


def fetch(client: imaplib.IMAP4, items: str) -> bytes:
    status, data = client.fetch("1", items)
    assert status == "OK", data
    return fetched(data[0])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # IMAP's work alone
async def test_a_large_message_fetched_whole_is_not_parsed(imap: Running, seen: Seen) -> None:
    assert len(LARGE) > max(INLINE_BYTES, BYTES_ON_LOOP)
    await imap.store.deliver("z@example.pe", [AGENT], LARGE)
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX", readonly=True))

    answers = [await in_thread(lambda items=items: fetch(client, items)) for items in WHOLE]

    assert seen.parsed == []
    assert all(answer.endswith(b"}" + LARGE) for answer in answers[:3]), WHOLE
    assert answers[3].endswith(b"{100}" + LARGE[:100])
    assert len(seen.large_values) == 3
    assert all(name.startswith("message-lane") for name in seen.large_values), seen.large_values

    structure = await in_thread(lambda: fetch(client, "(BODYSTRUCTURE)"))

    assert b'"octet-stream"' in structure
    assert len(seen.parsed) == 1 and seen.parsed[0].startswith("message-lane"), seen.parsed


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the node's writes to its clients' streams."""
    return record_writes(monkeypatch)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("uid", [False, True], ids=["short-way", "pymap"])
async def test_a_large_message_is_written_a_slice_at_a_time(
    imap: Running, writes: list[int], uid: bool
) -> None:
    # ``FETCH 1`` of the usual line takes the short way; ``UID FETCH 1:*``, pymap's.
    await imap.store.deliver("z@example.pe", [AGENT], LARGE)
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX", readonly=True))
    writes.clear()

    def fetch_whole() -> bytes:
        if uid:
            status, data = client.uid("FETCH", "1:*", WHOLE[0])
        else:
            status, data = client.fetch("1", WHOLE[0])
        assert status == "OK", data
        return fetched(data[0])

    answer = await in_thread(fetch_whole)

    assert answer.endswith(b"}" + LARGE)
    assert sum(writes) > len(LARGE) and max(writes) <= BUFFERED_BYTES, writes
