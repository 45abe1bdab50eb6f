"""SEARCH over message text: what it finds, and that one client's SEARCH never holds the others.

pymap matched BODY, TEXT and header keys with a case-insensitive regular expression, which
tries the whole needle at every position of the text: a needle of 4 000 ``a`` then ``b``
against a body of ``a``, both within every bound, held the event loop for seconds per
megabyte (``gateway.imap.pymap_fixes``, fix 6).
"""

from __future__ import annotations

import imaplib

import pytest

from tests import mailbox_fill
from tests.gateway.http.rig import loop_pauses
from tests.gateway.imap.conftest import AGENT, Running, in_thread, mail

NEEDLE = b"a" * 4000 + b"b"
"""Within the bound of a literal after login (4 096 bytes), and the worst case for a matcher
that starts over at each position."""
RUN = 512 * 1024
"""Characters of ``a`` in the hostile message: 1.8 s of the event loop before the fix.

The searches below hold it 7-9 ms; the bound leaves room for a busy machine (0.27 s seen
once in a full suite)."""
LONGEST_PAUSE = 0.6


def _uid_search(client: imaplib.IMAP4, key: str, literal: bytes) -> list[bytes]:
    if literal:
        client.literal = literal  # type: ignore[attr-defined]  # sent as {n} after the key
    status, data = client.uid("SEARCH", key)
    assert status == "OK", data
    return data[0].split() if data and data[0] else []


async def _searched(imap: Running, key: str, needle: bytes) -> tuple[list[bytes], float]:
    """UIDs found by ``UID SEARCH key <needle>``, and the event loop's longest pause meanwhile."""

    def search() -> list[bytes]:
        client = imap.login(AGENT)
        client.select("INBOX")
        return _uid_search(client, key, needle)

    async with loop_pauses() as pauses:
        found = await in_thread(search)
    return found, max(pauses, default=0.0)


async def test_a_body_search_finds_text_in_any_case(imap: Running) -> None:
    await imap.store.deliver("z@example.pe", [AGENT], mail("uno", "Manifiesto de CARGA 118\r\n"))
    await imap.store.deliver("z@example.pe", [AGENT], mail("dos", "nada que ver\r\n"))

    found, _ = await _searched(imap, "BODY", b"manifiesto de carga")

    assert found == [b"1"]


async def test_a_body_search_of_a_hostile_needle_leaves_the_loop_free(imap: Running) -> None:
    body = "a" * RUN + "\r\n"
    await imap.store.deliver("z@example.pe", [AGENT], mail("larga", body))
    await imap.store.deliver("z@example.pe", [AGENT], mail("corta", "aaab\r\n"))

    found, pause = await _searched(imap, "BODY", NEEDLE)
    found_short, _ = await _searched(imap, "TEXT", b"AAAB")

    assert found == []
    assert found_short == [b"2"]
    assert pause < LONGEST_PAUSE, f"the event loop was held {pause:.2f} s by one SEARCH"


async def test_a_header_search_of_a_hostile_needle_leaves_the_loop_free(imap: Running) -> None:
    hostile = mail("larga").replace(b"Subject:", b"X-Nota: " + b"a" * RUN + b"\r\nSubject:")
    await imap.store.deliver("z@example.pe", [AGENT], hostile)

    found, pause = await _searched(imap, "HEADER X-Nota", NEEDLE)
    found_subject, _ = await _searched(imap, "SUBJECT", b"LARGA")

    assert found == []
    assert found_subject == [b"1"]
    assert pause < LONGEST_PAUSE, f"the event loop was held {pause:.2f} s by one SEARCH"


async def test_a_search_by_a_set_of_repeated_ranges_leaves_the_loop_free(imap: Running) -> None:
    # pymap's SEARCH made a set of every number each range of a sequence set names, range
    # after range: 6 000 copies of 1:* over UIDs up to 10 000, 60 million numbers.
    await mailbox_fill.fill(imap.store, "z@example.pe", AGENT, 10_000)
    repeated = ",".join(["1:*"] * 6000)

    def search() -> tuple[list[bytes], list[bytes]]:
        client = imap.login(AGENT)
        client.select("INBOX")
        by_uid = _uid_search(client, "UID " + repeated + " UID 9990:*", b"")
        status, data = client.search(None, repeated.replace("*", "5"), "7:9")
        assert status == "OK", data
        return by_uid, data[0].split()

    async with loop_pauses() as pauses:
        by_uid, by_number = await in_thread(search)

    assert by_uid == [b"%d" % uid for uid in range(9990, 10_001)]
    assert by_number == []  # 1:5 and 7:9 have nothing in common
    longest = max(pauses, default=0.0)
    assert longest < 0.5, f"the event loop was held {longest:.2f} s by one SEARCH"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # IMAP's work alone
@pytest.mark.usefixtures("frozen_heap")
async def test_a_search_of_thousands_of_keys_leaves_the_loop_free(imap: Running) -> None:
    # Each key is tried on each message: 5 000 distinct keys (within the 64 KiB a command may
    # have) over a slice of 500 messages held every other client 0.6 s, slice after slice.
    # Reading the command itself takes pymap 0.1-0.2 s, once.
    await mailbox_fill.fill(imap.store, "z@example.pe", AGENT, 2000)
    keys = " ".join(f"UID 1:{10_000 + n}" for n in range(5000))

    def search() -> list[bytes]:
        client = imap.login(AGENT)
        client.select("INBOX")
        status, data = client.search(None, keys)
        assert status == "OK", data
        return data[0].split()

    async with loop_pauses() as pauses:
        found = await in_thread(search)

    assert len(found) == 2000
    longest, second = sorted(pauses)[-1], sorted(pauses)[-2]
    assert longest < 0.5, f"the event loop was held {longest:.2f} s by one SEARCH"
    assert second < 0.25, f"the event loop was held {second:.2f} s more than once"
