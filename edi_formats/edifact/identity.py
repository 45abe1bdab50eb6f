"""Who sent an EDIFACT declaration, read from a document that may not parse at all.

A rejection quotes the agent's reference when it can. The first segments are split by the
lexer without any of the interchange checks, and this picks the document type (BGM 929/830),
the reference (BGM), the office (LOC+22) and the agent's code (NAD+AE). It never raises:
anything odd just leaves a value out (codec.peek_identity checks the values).
"""

from __future__ import annotations

from typing import Any, Final

from edi_formats.detect import strip_preamble
from edi_formats.edifact import codes as c
from edi_formats.edifact.lexer import segments, service_chars_for

__all__ = ["edifact_identity"]

_MAX_SEGMENTS: Final = 200
_MAX_CHARS: Final = 64 * 1024


def _value(elements: list[list[str]], element: int) -> str:
    return elements[element][0] if len(elements) > element else ""


def edifact_identity(data: bytes) -> dict[str, Any]:
    """document_type, office, agent_code and agent_reference found in ``data`` (best effort)."""
    text = strip_preamble(data[:_MAX_CHARS]).decode("latin-1")
    lexed = service_chars_for(text)
    found: dict[str, Any] = {}
    kinds = {code: kind for kind, code in c.DOCUMENT_NAME.items()}
    for segment in segments(text, lexed.chars, lexed.body, limit=_MAX_SEGMENTS):
        elements = segment.elements
        tag = segment.tag.strip()
        first, second = _value(elements, 1), _value(elements, 2)
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
