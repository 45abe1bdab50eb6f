"""Which wire format a document is in, judged from its content alone.

File names and MIME types in agents' mails are unreliable (1997 clients sent everything as
``application/octet-stream`` or plain text), so the format is read from the first bytes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["FLAT_SIGNATURE", "WireFormat", "detect_format", "strip_preamble"]

FLAT_SIGNATURE: Final = b"TDH|TELEDESPACHO|"
"""How every teledespacho flat file starts (its envelope record); see docs/formats.md."""

_BOMS: Final = (b"\xef\xbb\xbf",)
_LEADING_WHITESPACE: Final = b" \t\r\n\x0c\x0b"
_JSON_DISCRIMINATOR: Final = b'"document_type"'


class WireFormat(StrEnum):
    FLAT = "flat"
    JSON = "json"
    EDIFACT = "edifact"


def strip_preamble(data: bytes) -> bytes:
    """Drop a UTF-8 byte-order mark and leading blank space, which editors and mailers add."""
    for bom in _BOMS:
        if data.startswith(bom):
            data = data[len(bom) :]
    return data.lstrip(_LEADING_WHITESPACE)


def detect_format(data: bytes) -> WireFormat | None:
    """The format ``data`` is written in, or None when it is no declaration we know.

    Flat file: starts with the envelope record ``TDH|TELEDESPACHO|``. EDIFACT: starts with a
    ``UNA`` service string advice or a ``UNB`` interchange header. JSON: an object (``{``)
    that names ``"document_type"`` somewhere.
    """
    head = strip_preamble(data[:4096])
    if head.startswith(FLAT_SIGNATURE):
        return WireFormat.FLAT
    if head.startswith(b"UNA") and len(head) >= 9:
        return WireFormat.EDIFACT
    if head.startswith(b"UNB") and len(head) > 3 and not head[3:4].isalnum():
        return WireFormat.EDIFACT
    if head.startswith(b"{") and _JSON_DISCRIMINATOR in data:
        return WireFormat.JSON
    return None
