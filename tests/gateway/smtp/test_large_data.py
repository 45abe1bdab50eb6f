"""A large mail's bytes are joined and their line ends checked off the event loop.

For a mail of 20 MB, joining and unstuffing its DATA took 26 ms of the event loop, checking
its line ends 24 ms, each in one step while every other session of the node waited. Past
``BYTES_ON_LOOP`` both are done in the lane (``gateway.lane``); which thread does them is
what this test looks at (timing shows it too, but within a shared machine's noise).
"""

from __future__ import annotations

import asyncio
import smtplib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import gateway.lane
import gateway.smtp.handler
import mailboxes.store
from gateway.lane import BYTES_ON_LOOP
from gateway.smtp.data import DataDecoder
from mailboxes.line_ends import canonical_line_ends
from mailboxes.store import Store
from tests.gateway.smtp.conftest import AGENT, OTHER_AGENT, PASSWORD, SmtpServer, serve
from tests.node_clients import untraced

LINE = b"x" * 76 + b"\r\n"
LARGE = (
    b"From: agente1@agencias.pe\r\nTo: agente2@agencias.pe\r\nSubject: grande\r\n\r\n"
    + b"una linea con LF suelto\n"
    + LINE * (2 * BYTES_ON_LOOP // len(LINE))
)


@pytest.fixture
async def large_smtp(store: Store) -> AsyncIterator[SmtpServer]:
    async for running in serve(store, 4 * BYTES_ON_LOOP):
        yield running


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """Which threads joined the DATA and checked the line ends (wherever the handler or the
    store did it: once for a mail), by name."""
    seen: dict[str, list[str]] = {"content": [], "line ends": [], "turns": []}

    def recorded(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def record(*args: Any) -> Any:
            seen[key].append(threading.current_thread().name)
            seen["turns"].append(str(gateway.lane._OWNER.get(None)))  # whose turn it takes
            return fn(*args)

        return record

    content = vars(DataDecoder)["content"].fget
    monkeypatch.setattr(DataDecoder, "content", property(recorded("content", content)))
    ends = recorded("line ends", canonical_line_ends)
    for module in (gateway.smtp.handler, mailboxes.store):
        monkeypatch.setattr(module, "canonical_line_ends", ends, raising=False)
    yield seen


def _send(server: SmtpServer, data: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        client.login(AGENT, PASSWORD)
        return client.sendmail(AGENT, [OTHER_AGENT], data)


async def test_a_large_mail_is_joined_and_its_line_ends_made_in_the_lane(
    large_smtp: SmtpServer, threads: dict[str, list[str]]
) -> None:
    assert await asyncio.to_thread(_send, large_smtp, LARGE) == {}

    [info] = await large_smtp.store.list_messages(OTHER_AGENT)
    stored = await large_smtp.store.read_message(OTHER_AGENT, "INBOX", info.uid)
    assert untraced(stored) == LARGE.replace(b"suelto\n", b"suelto\r\n")
    assert [name[: len("message-lane")] for name in threads["content"]] == ["message-lane"]
    # Once, in the lane: not read again by the store, on the loop.
    assert [name[: len("message-lane")] for name in threads["line ends"]] == ["message-lane"]
    # At the turns of the account the session logged in as (``gateway.lane``).
    assert threads["turns"] == [AGENT, AGENT]


async def test_a_small_mail_is_still_handled_on_the_loop(
    large_smtp: SmtpServer, threads: dict[str, list[str]]
) -> None:
    small = LARGE[: LARGE.index(b"suelto\n") + 7] + LINE
    assert await asyncio.to_thread(_send, large_smtp, small) == {}

    [info] = await large_smtp.store.list_messages(OTHER_AGENT)
    stored = await large_smtp.store.read_message(OTHER_AGENT, "INBOX", info.uid)
    assert untraced(stored) == small.replace(b"suelto\n", b"suelto\r\n")
    assert threads["content"] == ["MainThread"]
    assert threads["line ends"] == ["MainThread"]
