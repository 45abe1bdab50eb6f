"""The one form a message is stored in: CRLF line ends (RFC 5322 §2.1).

Done once, at intake, as Postfix does with ``smtpd_forbid_bare_newline = normalize``, so that
every protocol agrees on a message's bytes and size: POP3 ``LIST`` and ``RETR``, IMAP
``RFC822.SIZE`` and ``BODY[]`` all count what they send. A bare LF becomes CRLF; a bare CR
is left alone (Postfix leaves it too).
"""

from __future__ import annotations

from typing import Final

__all__ = ["PIECE", "canonical_line_ends", "has_bare_lf"]

PIECE: Final = 1024 * 1024
"""Bytes looked at in one call when looking for a bare LF.

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
    """Whether some LF of ``raw`` has no CR before it, looked for ``piece`` bytes at a time.

    A piece's LFs are those from its start to its end; its CRLFs, those whose LF is in it
    (the CR may be the last byte of the piece before)."""
    for start in range(0, len(raw), piece):
        end = start + piece
        if raw.count(b"\n", start, end) != raw.count(b"\r\n", max(start - 1, 0), end):
            return True
    return False
