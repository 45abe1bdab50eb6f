"""The one form a message is stored in: CRLF line ends (RFC 5322 §2.1).

Done once, at intake, as Postfix does with ``smtpd_forbid_bare_newline = normalize``, so that
every protocol agrees on a message's bytes and size: POP3 ``LIST`` and ``RETR``, IMAP
``RFC822.SIZE`` and ``BODY[]`` all count what they send. A bare LF becomes CRLF; a bare CR
is left alone (Postfix leaves it too).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

__all__ = ["PIECE", "canonical_line_ends", "has_bare_lf", "line_pieces"]

PIECE: Final = 1024 * 1024
"""Bytes of a message one call looks at, about, in a pass over it.

Counting a 19 MB message's CRLFs is one call of 17 ms (its LFs, 6 ms more), and a thread in
one call holds the interpreter's lock for all of it: the event loop waited that long while
the lane checked a large mail. A piece at a time, the lock may change hands between pieces
(about a millisecond each); the work is the same."""


def canonical_line_ends(raw: bytes) -> bytes:
    """``raw`` with every bare LF made CRLF; ``raw`` itself when it has none (the usual case)."""
    if not has_bare_lf(raw):
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def has_bare_lf(raw: bytes, piece: int = PIECE) -> bool:
    """Whether some LF of ``raw`` has no CR before it, looked for a piece at a time (a piece
    ends after an LF, so a CRLF is never cut in two)."""
    return any(
        raw.count(b"\n", start, end) != raw.count(b"\r\n", start, end)
        for start, end in line_pieces(raw, piece)
    )


def line_pieces(raw: bytes, size: int = PIECE) -> Iterator[tuple[int, int]]:
    """``raw`` cut into pieces of about ``size`` bytes, as (start, end) bounds: each ends
    after an LF but the last, which ends with ``raw``; a line longer than ``size`` is a
    piece of its own."""
    start, length = 0, len(raw)
    while start < length:
        end = raw.rfind(b"\n", start, start + size) + 1
        if end <= start:  # no line ends within ``size``: the line goes on
            end = raw.find(b"\n", start + size) + 1 or length
        yield start, end
        start = end
