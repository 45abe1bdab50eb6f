"""The command-line splitter: CRLF and LF, the 255-octet cap, bounded memory."""

from __future__ import annotations

from gateway.pop3.lines import MAX_LINE_OCTETS, OVERLONG, LineReader


def drain(reader: LineReader) -> list[bytes | object]:
    lines: list[bytes | object] = []
    while (line := reader.next_line()) is not None:
        lines.append(line)
    return lines


def test_crlf_and_bare_lf_lines() -> None:
    reader = LineReader()
    reader.feed(b"STAT\r\nNOOP\nLIST 1\r\npartial")
    assert drain(reader) == [b"STAT", b"NOOP", b"LIST 1"]
    reader.feed(b"\r\n")
    assert drain(reader) == [b"partial"]


def test_byte_at_a_time_gives_the_same_lines() -> None:
    data = b"USER a\r\nPASS b c\r\n" + b"x" * 300 + b"\r\nQUIT\r\n"
    whole = LineReader()
    whole.feed(data)
    one = LineReader()
    got: list[bytes | object] = []
    for i in range(len(data)):
        one.feed(data[i : i + 1])
        got += drain(one)
    assert got == drain(whole) == [b"USER a", b"PASS b c", OVERLONG, b"QUIT"]


def test_cap_counts_the_crlf() -> None:
    fits = b"A" * (MAX_LINE_OCTETS - 2) + b"\r\n"
    too_long = b"B" * (MAX_LINE_OCTETS - 1) + b"\r\n"
    reader = LineReader()
    reader.feed(fits + too_long)
    assert drain(reader) == [fits[:-2], OVERLONG]


def test_overlong_line_is_reported_once_and_not_kept() -> None:
    reader = LineReader()
    for _ in range(100):
        reader.feed(b"y" * 10_000)
        assert drain(reader) == []
        assert len(reader._buffer) < MAX_LINE_OCTETS
    reader.feed(b"yyy\r\nNOOP\r\n")
    assert drain(reader) == [OVERLONG, b"NOOP"]


def test_overlong_line_followed_by_another_in_one_chunk() -> None:
    reader = LineReader()
    reader.feed(b"z" * 600 + b"\n" + b"w" * 600 + b"\nNOOP\n")
    assert drain(reader) == [OVERLONG, OVERLONG, b"NOOP"]


def test_eof_is_remembered_and_later_bytes_ignored() -> None:
    reader = LineReader()
    reader.feed(b"QUIT\r\n")
    reader.feed(b"")
    reader.feed(b"NOOP\r\n")
    assert reader.at_eof
    assert drain(reader) == [b"QUIT"]
