"""A costly message's FETCH values are made in the lane, on every way a FETCH is answered
(``gateway.imap.fetch_values``, ``gateway.imap.fast_fetch``).

A message too costly to parse on the event loop (here 999 parts) was parsed off it, but its
values were made on it as its response was written: its BODYSTRUCTURE took 25-100 ms, a
14 MB attachment decoded for ``BINARY`` 40-60 ms, while every other client waited. Which
thread makes them is what these tests look at: timing four clients at once shows it too,
but within the noise of a shared machine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.imap.shape import LoadedMessage
from tests.gateway.imap.conftest import AGENT, Running, fetched, in_thread
from tests.gateway.imap.test_many_parts import MANY_PARTS


@pytest.fixture
def makers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the threads that made a costly message's structure or part bytes."""
    threads: list[str] = []

    def recorded(method: Callable[..., Any]) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> Any:
            threads.append(threading.current_thread().name)
            return method(*args, **kwargs)

        return record

    for name in ("get_body_structure", "get_body"):
        monkeypatch.setattr(LoadedMessage, name, recorded(getattr(LoadedMessage, name)))
    yield threads


# (command's set and items, what each answer holds): pymap's whole answer, in slices, and
# the short way for the usual lines.
FETCHES = [
    ("1", "(BODYSTRUCTURE)", b'"mixed"'),
    ("1:2", "(BODYSTRUCTURE)", b'"mixed"'),
    ("1", "(BINARY.PEEK[3])", b"BINARY[3] ~{1}x"),
    ("1:2", "(BODY.PEEK[2])", b"BODY[2] {1}x"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("which", "items", "expect"), FETCHES)
async def test_a_costly_message_s_values_are_made_in_the_lane(
    imap: Running, makers: list[str], which: str, items: str, expect: bytes
) -> None:
    for _ in range(2):
        await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX"))

    status, data = await in_thread(lambda: client.fetch(which, items))

    assert status == "OK", data
    answers = [fetched(item) for item in data if item != b")"]
    assert len(answers) == which.count(":") + 1
    assert all(expect in answer for answer in answers)
    assert makers, "no value of the costly message was made"
    assert all(name.startswith("message-lane") for name in makers), makers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_usual_fetch_line_s_values_too(imap: Running, makers: list[str]) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX"))

    status, data = await in_thread(lambda: client.uid("FETCH", "1", "(UID BODY.PEEK[2])"))

    assert status == "OK", data
    assert b"BODY[2] {1}x" in fetched(data[0])
    assert makers and all(name.startswith("message-lane") for name in makers), makers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_seen_flag_set_is_told_in_the_same_response(
    imap: Running, makers: list[str]
) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], MANY_PARTS)
    client = await in_thread(lambda: imap.login(AGENT))
    await in_thread(lambda: client.select("INBOX"))

    status, data = await in_thread(lambda: client.fetch("1", "(BODY[2])"))

    assert status == "OK", data
    # One response: its literal, then the rest of it (pymap merges the update into it).
    assert len(data) == 2 and isinstance(data[0], tuple), data
    assert data[0][0].startswith(b"1 (BODY[2] {1}") and data[0][1] == b"x", data
    assert data[1] == b" FLAGS (\\Recent \\Seen))", data
    assert makers and all(name.startswith("message-lane") for name in makers), makers
