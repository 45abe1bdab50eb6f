"""A FETCH or STORE over more messages than a slice answers as the same command cut in parts
would, byte for byte: the slices change when the work is done, not what is said.

The mailbox has a gap in its UIDs (messages expunged), so sequence numbers and UIDs differ
and a slice cut by UID must still answer with the numbers the client knows.
"""

from __future__ import annotations

import re

import pytest

from gateway.imap.slices import SLICE
from tests import mailbox_fill
from tests.gateway.imap.conftest import AGENT, OTHER_AGENT, Running
from tests.gateway.imap.test_fast_fetch import RawClient
from tests.stream_writes import record_writes

MESSAGES = 2 * SLICE + 200
GONE = range(5, 10)
KEPT = MESSAGES - len(GONE)


def _untagged(answer: bytes) -> bytes:
    """An answer without its tagged line (whose tag differs from command to command)."""
    head, _, tagged = answer.rstrip(b"\r\n").rpartition(b"\r\n")
    assert re.fullmatch(rb"t\d+ OK .* completed\.", tagged), tagged
    return head + b"\r\n" if head else b""


async def _mailbox(imap: Running, user: str) -> RawClient:
    await mailbox_fill.fill(imap.store, "z@example.pe", user, MESSAGES)
    await imap.store.expunge(user, "INBOX", GONE)
    return await RawClient.login(imap, user)


async def _in_parts(client: RawClient, template: bytes, last: int, size: int) -> bytes:
    """``template`` (with ``%s`` for a range) over 1..``last`` in commands of ``size``."""
    parts = []
    for start in range(1, last + 1, size):
        stop = min(last, start + size - 1)
        parts.append(_untagged(await client.command(template % b"%d:%d" % (start, stop))))
    return b"".join(parts)


@pytest.mark.parametrize(
    ("template", "size"),
    [
        (b"FETCH %s (FLAGS)", SLICE),
        (b"UID FETCH %s (FLAGS RFC822.SIZE)", SLICE),
        (b"FETCH %s (UID ENVELOPE)", SLICE),
        (b"FETCH %s (BODY.PEEK[HEADER.FIELDS (Subject)])", SLICE),
    ],
)
async def test_a_fetch_in_slices_answers_as_its_parts_do(
    imap: Running, template: bytes, size: int
) -> None:
    whole_client = await _mailbox(imap, AGENT)
    parts_client = await _mailbox(imap, OTHER_AGENT)
    last = KEPT if not template.startswith(b"UID") else MESSAGES
    assert last > size  # the whole command is cut into slices; each part is not
    try:
        whole = _untagged(await whole_client.command(template % b"1:%d" % last))
        parts = await _in_parts(parts_client, template, last, size)
    finally:
        await whole_client.close()
        await parts_client.close()
    assert whole.count(b" FETCH (") == KEPT
    # The two mailboxes' messages differ only in their To: (each is addressed to its owner).
    assert whole == parts.replace(b"agente2", b"agente1")


async def test_a_store_in_slices_answers_as_its_parts_do_and_is_not_told_twice(
    imap: Running,
) -> None:
    whole_client = await _mailbox(imap, AGENT)
    parts_client = await _mailbox(imap, OTHER_AGENT)
    try:
        whole = _untagged(await whole_client.command(b"STORE 1:%d +FLAGS (\\Flagged)" % KEPT))
        parts = await _in_parts(parts_client, b"STORE %s +FLAGS (\\Flagged)", KEPT, SLICE)
        silent = await whole_client.command(b"UID STORE 1:* -FLAGS.SILENT (\\Flagged)")
        after = await whole_client.command(b"NOOP")
    finally:
        await whole_client.close()
        await parts_client.close()
    assert whole.count(b"\\Flagged") == KEPT
    assert whole == parts
    assert silent.count(b"\r\n") == 1  # nothing but the tagged line
    assert after.count(b"\r\n") == 1  # its own changes are not announced to it again
    listed = await imap.store.list_messages(AGENT)
    assert len(listed) == KEPT and not any("\\Flagged" in info.flags for info in listed)


async def test_an_expunge_of_many_announces_each_message_once(imap: Running) -> None:
    client = await _mailbox(imap, AGENT)
    try:
        await client.command(b"STORE 1:* +FLAGS.SILENT (\\Deleted)")
        answer = await client.command(b"EXPUNGE")
    finally:
        await client.close()
    assert answer.count(b" EXPUNGE\r\n") == KEPT
    assert await imap.store.list_messages(AGENT) == []


async def test_numbers_hold_through_the_slices_when_another_session_expunges(
    imap: Running,
) -> None:
    """Another session expunges message 2 just before a UID FETCH of all: the answer's
    sequence numbers are those the client knows for every slice (the first slice's
    catching up must not renumber the later ones), and the removal is announced after."""
    await mailbox_fill.fill(imap.store, "z@example.pe", AGENT, MESSAGES)
    client = await RawClient.login(imap, AGENT)
    other = await RawClient.login(imap, AGENT)
    try:
        await other.command(b"UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        await other.command(b"EXPUNGE")
        answer = await client.command(b"UID FETCH 1:* (FLAGS)")
        later = answer + await client.command(b"NOOP")
    finally:
        await client.close()
        await other.close()
    numbered = re.findall(rb"\* (\d+) FETCH \((?:FLAGS \([^)]*\) )?UID (\d+)", answer)
    assert len(numbered) >= MESSAGES - 1
    assert all(seq == uid for seq, uid in numbered), [p for p in numbered if p[0] != p[1]][:3]
    assert later.count(b"* 2 EXPUNGE\r\n") == 1
    assert later.index(b"* 2 EXPUNGE") > answer.rindex(b" FETCH (")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_slice_s_small_responses_are_written_together(
    imap: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slice's responses go to the socket gathered (about ``WRITE_CHUNK`` at a time), not
    one write each: 1 200 FETCH lines of flags are a few writes."""
    client = await _mailbox(imap, AGENT)
    writes = record_writes(monkeypatch)
    try:
        answer = await client.command(b"UID FETCH 1:* (FLAGS)")
    finally:
        await client.close()
    assert answer.count(b" FETCH (") == KEPT
    assert len(writes) <= 3 * (MESSAGES // SLICE + 1), writes  # a write or two a slice
