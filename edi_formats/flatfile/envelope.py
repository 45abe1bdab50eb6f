"""The envelope record ``TDH``: the first line of every flat file.

``TDH|TELEDESPACHO|<layout version>|<document type>|<encoding>``. It is pure ASCII, so it
can be read before the rest of the file is decoded; that is how the encoding is declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from edi_formats.encodings import ACCEPTED_ENCODINGS, canonical_encoding

__all__ = [
    "ENVELOPE_FIELDS",
    "ENVELOPE_RECORD",
    "FORMAT_NAME",
    "LAYOUT_VERSION",
    "Envelope",
    "python_codec",
    "read_envelope",
]

ENVELOPE_RECORD: Final = "TDH"
FORMAT_NAME: Final = "TELEDESPACHO"
LAYOUT_VERSION: Final = "01"
ENVELOPE_FIELDS: Final = ("record", "format", "version", "document_type", "encoding")


@dataclass(frozen=True)
class Envelope:
    """What the envelope says: layout version, document type and declared encoding (or None)."""

    version: str
    document_type: str
    encoding: str | None


def read_envelope(first_line: str) -> Envelope | None:
    """The envelope in ``first_line``, or None when the line is not a TDH envelope record."""
    fields = first_line.rstrip("\r\n").split("|")
    if len(fields) != len(ENVELOPE_FIELDS) or fields[0] != ENVELOPE_RECORD:
        return None
    if fields[1] != FORMAT_NAME:
        return None
    encoding = fields[4].strip() or None
    return Envelope(version=fields[2], document_type=fields[3], encoding=encoding)


def python_codec(encoding: str | None) -> str | None:
    """The Python codec for a declared encoding name, or None if absent or unknown."""
    if encoding is None:
        return None
    canonical = canonical_encoding(encoding)
    return ACCEPTED_ENCODINGS[canonical] if canonical else None
