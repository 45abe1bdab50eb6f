"""What POP3 and IMAP servers answer, parsed: the one place the clients read responses.

Pure functions over the lines a client library hands back (no sockets), so the agent's
client, the office watcher and the pickup readers agree on what a listing, a FETCH or a
SELECT says, and each rule is tested once.

IMAP responses come as aioimaplib gives them: one element per line, a literal as its own
element after the line that announces it, untagged lines without their ``* ``. imaplib's
shape (``(head, literal)`` tuples, the ``FETCH`` keyword dropped) is brought to it by
``imaplib_lines``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "FetchedItem",
    "Pop3Status",
    "announces_new_messages",
    "imaplib_lines",
    "parse_fetch",
    "parse_scan_listing",
    "parse_search",
    "parse_select",
    "parse_uidl",
    "pop3_ends",
    "pop3_message",
    "pop3_status",
    "pop3_unstuff",
    "says_bye",
    "text_of",
]

Line = bytes | bytearray

# -- IMAP (RFC 3501) ---------------------------------------------------------------------

_FETCH: Final = re.compile(rb"^\d+ (?:FETCH )?\(")
_UID: Final = re.compile(rb"\bUID (\d+)")
_SIZE: Final = re.compile(rb"\bRFC822\.SIZE (\d+)")
_LITERAL: Final = re.compile(rb"\{\d+\}$")
_UIDVALIDITY: Final = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT: Final = re.compile(rb"\[UIDNEXT (\d+)\]")


@dataclass(frozen=True, slots=True)
class FetchedItem:
    """One message's ``FETCH`` response: its UID, size and literal, where it carries them."""

    uid: int
    size: int | None = None
    """``RFC822.SIZE``."""
    literal: bytes | None = None
    """The body section asked for; ``None`` in an item without one (an unsolicited
    ``FLAGS`` update for a message that arrived meanwhile)."""


def parse_fetch(lines: Sequence[Line]) -> list[FetchedItem]:
    """The items of a ``UID FETCH`` response that name their UID.

    Each message comes as a ``n FETCH (... {size}`` line, the literal, then the rest of the
    item (``UID n)`` may come before or after the literal); an item without a literal is
    one line (``n FETCH (UID m RFC822.SIZE s)``).
    """
    found: list[FetchedItem] = []
    index = 0
    while index < len(lines):
        line = bytes(lines[index])
        if not _FETCH.match(line):
            index += 1
            continue
        text = line
        literal: bytes | None = None
        if _LITERAL.search(line) and index + 1 < len(lines):
            literal = bytes(lines[index + 1])
            index += 1
            if index + 1 < len(lines) and not _FETCH.match(bytes(lines[index + 1])):
                text += b" " + bytes(lines[index + 1])
                index += 1
        uid = _UID.search(text)
        if uid is not None:
            size = _SIZE.search(text)
            found.append(
                FetchedItem(int(uid.group(1)), int(size.group(1)) if size else None, literal)
            )
        index += 1
    return found


def parse_select(lines: Iterable[Line]) -> tuple[int | None, int | None]:
    """(UIDVALIDITY, UIDNEXT) from a SELECT response."""
    validity = next_uid = None
    for raw in lines:
        line = bytes(raw)
        if match := _UIDVALIDITY.search(line):
            validity = int(match.group(1))
        if match := _UIDNEXT.search(line):
            next_uid = int(match.group(1))
    return validity, next_uid


def parse_search(lines: Iterable[Line]) -> list[int]:
    """The numbers of a ``SEARCH`` response (``SEARCH 3 5`` or, from imaplib, ``3 5``).

    A line with anything but numbers after the keyword is not a result (the completion's
    text): it is skipped.
    """
    numbers: list[int] = []
    for raw in lines:
        words = bytes(raw).split()
        if words[:1] == [b"SEARCH"]:
            words = words[1:]
        if all(word.isdigit() for word in words):
            numbers += [int(word) for word in words]
    return numbers


def announces_new_messages(lines: Iterable[Line]) -> bool:
    """Whether untagged responses include ``n EXISTS`` (new mail in the selected folder)."""
    return any(bytes(line).rstrip().endswith(b"EXISTS") for line in lines)


def says_bye(lines: Iterable[Line]) -> bool:
    """Whether the server announced it is closing the connection (``BYE``)."""
    return any(bytes(line).startswith(b"BYE") for line in lines)


def imaplib_lines(data: Iterable[bytes | tuple[bytes, bytes] | None]) -> list[bytes]:
    """imaplib's response data as the flat lines the parsers above read.

    imaplib gives a literal as ``(line announcing it, literal)`` and the rest of the item
    as the next element; ``None`` stands for no data.
    """
    lines: list[bytes] = []
    for item in data:
        if isinstance(item, tuple):
            lines += [item[0], item[1]]
        elif item is not None:
            lines.append(item)
    return lines


def text_of(lines: Iterable[object]) -> str:
    """Response lines as one line of text, for an error message."""
    return " ".join(
        bytes(line).decode("utf-8", "replace") if isinstance(line, bytes | bytearray) else str(line)
        for line in lines
    )


# -- POP3 (RFC 1939, RFC 2449) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pop3Status:
    """A status line: ``+OK`` or ``-ERR`` (anything else counts as an error), and its text."""

    ok: bool
    text: str


def pop3_status(line: Line) -> Pop3Status:
    raw = _chomp(line)
    indicator, _, text = raw.partition(b" ")
    return Pop3Status(indicator == b"+OK", text.decode("utf-8", "replace"))


def pop3_ends(line: Line) -> bool:
    """Whether ``line`` is the one that ends a multi-line response (a lone dot)."""
    return _chomp(line) == b"."


def pop3_unstuff(line: Line) -> bytes:
    """A line of a multi-line response without its line end and byte-stuffed dot."""
    raw = _chomp(line)
    return raw[1:] if raw.startswith(b".") else raw


def _chomp(line: Line) -> bytes:
    """The line without its CRLF (or bare LF) ending."""
    raw = bytes(line)
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    return raw[:-1] if raw.endswith(b"\n") else raw


def parse_scan_listing(lines: Iterable[Line]) -> list[tuple[int, int]]:
    """(message number, size) from a ``LIST`` response's lines."""
    listing: list[tuple[int, int]] = []
    for raw in lines:
        words = bytes(raw).split()
        if len(words) >= 2 and words[0].isdigit() and words[1].isdigit():
            listing.append((int(words[0]), int(words[1])))
    return listing


def parse_uidl(lines: Iterable[Line]) -> dict[int, str]:
    """Message number -> unique id, from a ``UIDL`` response's lines."""
    keys: dict[int, str] = {}
    for raw in lines:
        number, _, uid = bytes(raw).decode("ascii", "replace").partition(" ")
        if number.isdigit() and uid.strip():
            keys[int(number)] = uid.strip()
    return keys


def pop3_message(lines: Iterable[Line]) -> bytes:
    """The message a ``RETR`` response's lines make, as poplib gives them (line ends and
    the end marker removed, dot-stuffing undone): lines joined with CRLF, CRLF-terminated."""
    return b"".join(bytes(line) + b"\r\n" for line in lines)
