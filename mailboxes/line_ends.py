"""The one form a message is stored in: CRLF line ends (RFC 5322 §2.1).

Done once, at intake, as Postfix does with ``smtpd_forbid_bare_newline = normalize``, so that
every protocol agrees on a message's bytes and size: POP3 ``LIST`` and ``RETR``, IMAP
``RFC822.SIZE`` and ``BODY[]`` all count what they send. A bare LF becomes CRLF; a bare CR
is left alone (Postfix leaves it too).
"""

from __future__ import annotations

__all__ = ["canonical_line_ends"]


def canonical_line_ends(raw: bytes) -> bytes:
    """``raw`` with every bare LF made CRLF; ``raw`` itself when it has none (the usual case)."""
    if raw.count(b"\n") == raw.count(b"\r\n"):
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
