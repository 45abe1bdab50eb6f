"""A large APPEND's line ends made CRLF off the event loop (``gateway.imap.mailbox``).

For a message of 20 MB, checking its line ends took 24 ms of the event loop in one step,
and eight clients appending such messages at once held every other client up to 0.13-0.21 s.
Past ``BYTES_ON_LOOP`` it is done in the lane; which thread does it is what this test looks
at.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import gateway.imap.mailbox
import mailboxes.folders
from gateway.lane import BYTES_ON_LOOP
from mailboxes.line_ends import canonical_line_ends
from tests.gateway.imap.conftest import AGENT, Running, fetched, in_thread

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
