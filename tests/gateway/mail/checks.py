"""What the tests of composed mail check of every message: the email package reads it
without a defect, and its bytes are what RFC 5322 allows on the wire."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage


def without_defects(raw: bytes) -> EmailMessage:
    """The mail as the email package reads it; no part of it has a defect."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
    return message


def crlf_only(raw: bytes) -> None:
    """Every line ends in CRLF (RFC 5322 §2.3: no bare LF)."""
    assert raw.count(b"\n") == raw.count(b"\r\n")


def head_fit_for_the_wire(raw: bytes) -> None:
    """The header lines are ASCII and at most 998 octets (RFC 5322 §2.1.1)."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 and line.isascii() for line in head.split(b"\r\n"))
