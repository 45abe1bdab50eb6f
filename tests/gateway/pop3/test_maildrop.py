"""The session's maildrop snapshot and the RETR/TOP byte transformations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.pop3 import CommandRefused, MaildropEntry, replies
from gateway.pop3.maildrop import (
    Maildrop,
    StoredListing,
    dot_stuff,
    dot_stuffed,
    normalize_line_endings,
    top_of_message,
)
from mailboxes.line_ends import PIECE
from tests.held_lock import longest_call_share


def test_dot_stuffing_doubles_leading_dots_and_terminates() -> None:
    assert dot_stuff(b".a\r\nb\r\n..c\r\n.\r\n") == b"..a\r\nb\r\n...c\r\n..\r\n.\r\n"
    assert dot_stuff(b"no final newline") == b"no final newline\r\n.\r\n"
    assert dot_stuff(b"") == b".\r\n"


def stuffed_whole(text: bytes) -> bytes:
    """RFC 1939's dot-stuffing in one pass over ``text`` (CRLF line ends), for comparison."""
    if text and not text.endswith(b"\r\n"):
        text += b"\r\n"
    if text.startswith(b"."):
        text = b"." + text
    return text.replace(b"\r\n.", b"\r\n..") + b".\r\n"


@given(
    text=st.lists(st.sampled_from([b"\r\n", b".", b"a", b"\r", b".."]), max_size=30).map(b"".join)
)
def test_dot_stuffing_in_pieces_is_the_same_as_in_one(text: bytes) -> None:
    # Pieces of 1 to 6 bytes start a piece at every line of these texts.
    for piece in range(1, 7):
        assert b"".join(dot_stuffed(text, piece)) == stuffed_whole(text), (text, piece)


def test_a_large_message_is_stuffed_a_piece_at_a_time() -> None:
    # 16 MB of lines that begin with a dot: doubling them was one call of most of the time.
    text = b".linea con punto\r\n" * (16 * PIECE // 18)
    assert b"".join(dot_stuffed(text)) == stuffed_whole(text)
    assert longest_call_share(lambda: list(dot_stuffed(text))) < 0.25


def test_line_endings_become_crlf_but_bare_cr_stays() -> None:
    assert normalize_line_endings(b"a\nb\r\nc\rd\n") == b"a\r\nb\r\nc\rd\r\n"


def test_top_of_message_with_empty_header() -> None:
    assert top_of_message(b"\r\nbody1\r\nbody2\r\n", 1) == b"\r\nbody1\r\n"


def test_maildrop_marks_and_lists() -> None:
    drop = Maildrop([MaildropEntry(4, 10, "1.4"), MaildropEntry(8, 20, "1.8")])
    drop.mark_deleted(2)
    assert [number for number, _ in drop.live()] == [1]
    assert (drop.live_count, drop.live_octets) == (1, 10)
    assert drop.deleted_uids() == frozenset({8})
    with pytest.raises(CommandRefused) as caught:
        drop.get(2)
    assert caught.value.reply == replies.ALREADY_DELETED
    assert not caught.value.counts_as_bad_command
    drop.unmark_all()
    assert drop.deleted_uids() == frozenset()


@pytest.mark.parametrize("unique_id", ["", "has space", "x" * 71, "ñ"])
def test_unique_ids_must_be_rfc_1939_shaped(unique_id: str) -> None:
    with pytest.raises(ValueError):
        MaildropEntry(1, 1, unique_id)


def test_duplicate_unique_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        Maildrop([MaildropEntry(1, 1, "7.1"), MaildropEntry(2, 1, "7.1")])


def test_a_stored_listing_is_the_same_maildrop_without_an_object_per_message() -> None:
    listing = StoredListing(1733300000, [3, 7, 9], [120, 80, 4000])
    entries = [
        MaildropEntry(3, 120, "1733300000.3"),
        MaildropEntry(7, 80, "1733300000.7"),
        MaildropEntry(9, 4000, "1733300000.9"),
    ]
    lazy, eager = Maildrop(listing), Maildrop(entries)
    for maildrop in (lazy, eager):
        maildrop.mark_deleted(2)
    assert list(lazy.live()) == list(eager.live())
    assert (lazy.live_count, lazy.live_octets) == (eager.live_count, eager.live_octets) == (2, 4120)
    assert lazy.get(3) == entries[2]
    assert lazy.deleted_uids() == frozenset({7})
    assert list(listing[1:]) == entries[1:]


def test_list_and_uidl_lines_leave_out_the_deleted_without_an_entry_per_message() -> None:
    listing = StoredListing(1733300000, [3, 7, 9], [120, 80, 4000])
    entries = [MaildropEntry(3, 120, "1733300000.3"), MaildropEntry(7, 80, "1733300000.7")]
    entries.append(MaildropEntry(9, 4000, "1733300000.9"))
    for maildrop in (Maildrop(listing), Maildrop(entries)):
        maildrop.mark_deleted(2)
        assert maildrop.scan_lines() == b"1 120\r\n3 4000\r\n"
        assert maildrop.unique_id_lines() == b"1 1733300000.3\r\n3 1733300000.9\r\n"
