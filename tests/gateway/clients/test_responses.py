"""What POP3 and IMAP servers answer, as the clients read it (pure: no server needed)."""

from __future__ import annotations

from gateway.clients.responses import (
    FetchedItem,
    announces_new_messages,
    imaplib_lines,
    parse_fetch,
    parse_scan_listing,
    parse_search,
    parse_select,
    parse_uidl,
    pop3_message,
    says_bye,
)

# -- IMAP, as aioimaplib gives it ------------------------------------------------------------


def test_fetch_items_in_either_attribute_order() -> None:
    lines: list[bytes | bytearray] = [
        b"1 FETCH (UID 7 BODY[HEADER.FIELDS (X-TELEDESPACHO-STATUS)] {34}",
        bytearray(b"X-Teledespacho-Status: accepted\r\n\r\n"),
        b")",
        b"2 FETCH (BODY[HEADER.FIELDS (X-TELEDESPACHO-STATUS)] {2}",
        bytearray(b"\r\n"),
        b" UID 9)",
        b"3 FETCH (FLAGS () UID 10)",  # unsolicited: a message that arrived meanwhile
        b"FETCH completed.",
    ]
    assert parse_fetch(lines) == [
        FetchedItem(7, literal=b"X-Teledespacho-Status: accepted\r\n\r\n"),
        FetchedItem(9, literal=b"\r\n"),
        FetchedItem(10),
    ]


def test_an_item_without_a_uid_is_not_taken_for_one() -> None:
    lines = [b"4 FETCH (FLAGS (\\Seen))", b"5 FETCH (UID 12 RFC822.SIZE 3)", b"OK done"]
    assert parse_fetch(lines) == [FetchedItem(12, size=3)]


def test_parse_select() -> None:
    lines = [b"FLAGS (\\Seen)", b"OK [UIDNEXT 12] Predicted next UID.", b"OK [UIDVALIDITY 99] x"]
    assert parse_select(lines) == (99, 12)
    assert parse_select([b"1 EXISTS"]) == (None, None)


def test_search_results_with_or_without_the_keyword() -> None:
    assert parse_search([b"SEARCH 3 5 8"]) == [3, 5, 8]
    assert parse_search([b"3 5"]) == [3, 5]  # imaplib drops the keyword
    assert parse_search([b"SEARCH"]) == []
    assert parse_search([b"SEARCH 3", b"SEARCH completed (0.001 secs)."]) == [3]


def test_untagged_announcements() -> None:
    assert announces_new_messages([b"4 EXISTS", b"1 RECENT"])
    assert not announces_new_messages([b"3 EXPUNGE", b"OK Still here"])
    assert says_bye([b"BYE Shutting down"])
    assert not says_bye([b"4 EXISTS"])


# -- IMAP, as imaplib gives it ---------------------------------------------------------------


def test_imaplib_data_reads_like_aioimaplib_lines() -> None:
    body = b"Subject: hola\r\n\r\n.\r\n"
    bodies: list[bytes | tuple[bytes, bytes] | None] = [
        (b"1 (UID 21 BODY[] {21}", body),
        b")",
        (b"2 (BODY[] {2}", b"\r\n"),
        b" UID 22)",
    ]
    assert parse_fetch(imaplib_lines(bodies)) == [
        FetchedItem(21, literal=body),
        FetchedItem(22, literal=b"\r\n"),
    ]
    sizes = [b"1 (UID 21 RFC822.SIZE 2048)", b"2 (RFC822.SIZE 10 UID 22)"]
    assert parse_fetch(imaplib_lines(sizes)) == [FetchedItem(21, 2048), FetchedItem(22, 10)]
    assert parse_search(imaplib_lines([b"21 22"])) == [21, 22]
    assert parse_search(imaplib_lines([None])) == []


# -- POP3 ------------------------------------------------------------------------------------


def test_scan_listing_and_unique_ids() -> None:
    assert parse_scan_listing([b"1 120", b"2 4096 extra"]) == [(1, 120), (2, 4096)]
    assert parse_uidl([b"1 whqtswO00WBw418f9t5JxYwZ", b"2 QhdPYR:00WBw1Ph7x7", b"3"]) == {
        1: "whqtswO00WBw418f9t5JxYwZ",
        2: "QhdPYR:00WBw1Ph7x7",
    }


def test_a_retrieved_message_ends_every_line_with_crlf() -> None:
    assert pop3_message([b"Subject: x", b"", b".hola"]) == b"Subject: x\r\n\r\n.hola\r\n"
