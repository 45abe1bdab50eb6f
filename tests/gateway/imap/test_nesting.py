"""The bound on a command's nesting, read before pymap's recursive parser sees it."""

from __future__ import annotations

import pytest

from gateway.imap.nesting import MAX_NESTING, nesting


@pytest.mark.parametrize(
    ("command", "levels"),
    [
        (b"a SEARCH ALL\r\n", 0),
        (b"a SEARCH (((ALL)))\r\n", 3),
        (b"a SEARCH (ALL) (ALL) (ALL)\r\n", 1),  # side by side, not nested
        (b"a SEARCH OR FROM x OR TO x SUBJECT x\r\n", 2),
        (b"a SEARCH NOT(SEEN)\r\n", 2),
        (b"a search or not seen all\r\n", 2),  # keys are case-insensitive
        (b"a SEARCH FROM ORACLE TO x@NOT\r\n", 0),  # words, not operators
        (b'a SEARCH SUBJECT "OR NOT (((" ALL\r\n', 0),  # a quoted string is data
        (b'a SEARCH SUBJECT "a\\"(" (ALL)\r\n', 1),  # with its escapes
        (b"a SEARCH SUBJECT {7}\r\n((OR ((\r\n", 0),  # so is a literal
        (b"a SEARCH SUBJECT {7+}\r\n((OR (( (ALL)\r\n", 1),
        (b"a UID SEARCH " + b"(" * 300 + b"ALL" + b")" * 300 + b"\r\n", MAX_NESTING + 1),
    ],
)
def test_nesting(command: bytes, levels: int) -> None:
    assert nesting(command) == levels


def test_counting_stops_at_the_cap() -> None:
    assert nesting(b"a SEARCH " + b"(" * 30_000, cap=5) == 5
    assert nesting(b"a SEARCH " + b"OR " * 200 + b"ALL " * 201) == MAX_NESTING + 1
