"""Dropping the plain text a client sent after asking for TLS and before the handshake.

A client (or a man in the middle) may pipeline commands behind ``STARTTLS``/``STLS`` in the
same packet; they sit in the stream's buffer when the connection is upgraded, and would be
read as if they had come encrypted: the STARTTLS command injection of CVE-2011-0411, which
RFC 2595 section 4 and RFC 3207 section 4.2 forbid. ``asyncio.StreamReader`` has no public
way to empty its buffer; aiosmtpd clears the same attribute for SMTP.
"""

from __future__ import annotations

import asyncio

__all__ = ["drop_buffered"]


def drop_buffered(reader: asyncio.StreamReader) -> int:
    """Empty ``reader``'s buffer; how many bytes were dropped."""
    buffered = getattr(reader, "_buffer", None)
    if not isinstance(buffered, bytearray):
        return 0
    dropped = len(buffered)
    buffered.clear()
    return dropped
