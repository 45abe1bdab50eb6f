"""Who sent an EDIFACT declaration, read from a document that may not parse at all.

A rejection quotes the agent's reference when it can. This scanner splits the first segments
at unescaped terminators without any of the interchange checks, and picks the document type
(BGM 929/830), the reference (BGM), the office (LOC+22) and the agent's code (NAD+AE). It
never raises: anything odd just leaves a value out (codec.peek_identity checks the values).
"""

from __future__ import annotations

from typing import Any, Final

from edi_formats.detect import strip_preamble
from edi_formats.edifact import codes as c

__all__ = ["edifact_identity"]

_MAX_SEGMENTS: Final = 200
_MAX_CHARS: Final = 64 * 1024


def _segments(
    text: str, separator: str, component: str, release: str, terminator: str
) -> list[list[list[str]]]:
    """The first segments as elements of components, unescaped; a ragged tail is kept."""
    segments: list[list[list[str]]] = []
    elements: list[list[str]] = [[""]]
    escaped = False
    for char in text:
        if escaped:
            elements[-1][-1] += char
            escaped = False
        elif char == release:
            escaped = True
        elif char == terminator:
            segments.append(elements)
            if len(segments) >= _MAX_SEGMENTS:
                return segments
            elements = [[""]]
        elif char == separator:
            elements.append([""])
        elif char == component:
            elements[-1].append("")
        elif char in "\r\n" and elements == [[""]]:
            continue
        else:
            elements[-1][-1] += char
    segments.append(elements)
    return segments


def edifact_identity(data: bytes) -> dict[str, Any]:
    """document_type, office, agent_code and agent_reference found in ``data`` (best effort)."""
    text = strip_preamble(data[:_MAX_CHARS]).decode("latin-1")
    component, separator, release, terminator = ":", "+", "?", "'"
    if text.startswith("UNA") and len(text) >= 9:
        component, separator, release, terminator = text[3], text[4], text[6], text[8]
        text = text[9:]
    found: dict[str, Any] = {}
    kinds = {code: kind for kind, code in c.DOCUMENT_NAME.items()}
    for elements in _segments(text, separator, component, release, terminator):
        tag = elements[0][0].strip()
        first = elements[1][0] if len(elements) > 1 else ""
        second = elements[2][0] if len(elements) > 2 else ""
        if tag == "BGM" and "document_type" not in found:
            if first in kinds:
                found["document_type"] = kinds[first]
            if second:
                found["agent_reference"] = second
        elif tag == "LOC" and first == c.LOCATION_CLEARANCE and second:
            found.setdefault("office", second)
        elif tag == "NAD" and first == c.PARTY_AGENT and second:
            found.setdefault("agent_code", second)
    return found
