"""Who sent an EDIFACT declaration, read from a document that may not parse at all.

A rejection quotes the agent's reference when it can. The first segments are split by the
lexer without any of the interchange checks, and this picks the document type (BGM 929/830),
the reference (BGM), the office (LOC+22) and the agent's code (NAD+AE). It never raises:
anything odd just leaves a value out (codec.peek_identity checks the values). The answer's
routing and references (``request_references``) are read the same way, so that even an
interchange that cannot be read is answered to its sender, quoting what it said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from edi_formats.detect import strip_preamble
from edi_formats.edifact import codes as c
from edi_formats.edifact.lexer import segments, service_chars_for

__all__ = ["RequestReferences", "edifact_identity", "request_references"]

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


@dataclass(frozen=True, slots=True)
class RequestReferences:
    """What an answer must quote of the interchange it answers, as far as it could be read."""

    sender: str | None = None
    sender_qualifier: str | None = None
    recipient: str | None = None
    recipient_qualifier: str | None = None
    control_reference: str | None = None
    message_reference: str | None = None
    document_number: str | None = None
    message_type: str | None = None


_REFERENCE: Final = re.compile(r"[^\x00-\x1f\x7f]{1,35}")


def _checked(value: str, length: int = 35) -> str | None:
    return value if value and len(value) <= length and _REFERENCE.fullmatch(value) else None


def _part(elements: list[list[str]], element: int, component: int = 0) -> str:
    if len(elements) <= element or len(elements[element]) <= component:
        return ""
    return elements[element][component]


def request_references(data: bytes) -> RequestReferences:
    """UNB sender and reference, UNH reference and type, BGM number of ``data``; never raises."""
    text = strip_preamble(data[:_MAX_CHARS]).decode("latin-1")
    lexed = service_chars_for(text)
    found: dict[str, str | None] = {}
    for segment in segments(text, lexed.chars, lexed.body, limit=_MAX_SEGMENTS):
        elements = segment.elements
        tag = segment.tag.strip()
        part = partial(_part, elements)
        if tag == "UNB" and "control_reference" not in found:
            found["sender"] = _checked(part(2))
            found["sender_qualifier"] = _checked(part(2, 1), 4)
            found["recipient"] = _checked(part(3))
            found["recipient_qualifier"] = _checked(part(3, 1), 4)
            found["control_reference"] = _checked(part(5), 14)
        elif tag == "UNH" and "message_reference" not in found:
            found["message_reference"] = _checked(part(1), 14)
            found["message_type"] = _checked(part(2), 6)
        elif tag == "BGM" and "document_number" not in found:
            found["document_number"] = _checked(part(2))
            break
    return RequestReferences(**found)
