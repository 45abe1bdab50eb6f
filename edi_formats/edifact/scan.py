"""Light looks at an interchange inside a mail, before (and without) parsing it.

The extractor needs to know where an interchange pasted among other text ends, and in which
encoding the agent's software wrote it (the UNB syntax identifier), to undo a mail client's
re-encoding of the body. Neither may raise or take more than linear time; both split with
the lexer, so a UNA's release character (or its absence) counts as the reader will count it.
"""

from __future__ import annotations

import re
from typing import Final

from edi_formats.edifact.charsets import level_for
from edi_formats.edifact.lexer import MAX_SEGMENTS, segments, service_chars_for

__all__ = ["declared_codec", "interchange_end"]

_NEXT_START: Final = re.compile(rb"^[ \t]*(?:UNA[^\r\n]{6}|UNB[^A-Za-z0-9\r\n])", re.M)
"""Where the extractor sees the next interchange start (as edi_formats.extract does)."""

_LEAD: Final = b"\xef\xbb\xbf \t\r\n"


def interchange_end(data: bytes, start: int, limit: int) -> int:
    """Where the interchange beginning at ``start`` ends: after the terminator of its UNZ.

    UNZ counts only as a segment's tag, so a name containing "UNZ" does not cut the
    interchange short. Without UNZ, the interchange runs to the end of the text (and will be
    reported as truncated).
    """
    lead = len(data[start:limit]) - len(data[start:limit].lstrip(_LEAD))
    head = start + lead
    if data.startswith(b"UNA", head) and limit <= head + 12:
        # the next candidate start is this UNA's own UNB: look up to the one after it
        following = _NEXT_START.search(data, head + 12)
        limit = following.start() if following else len(data)
    text = data[head:limit].decode("latin-1")
    lexed = service_chars_for(text)
    # Past MAX_SEGMENTS the reader refuses the interchange whole: no need to look further.
    for segment in segments(text, lexed.chars, lexed.body, limit=MAX_SEGMENTS + 2):
        if segment.terminated and segment.tag.strip(" \t") == "UNZ":
            return head + segment.end
    return start + len(data[start:limit].rstrip())


def declared_codec(text: str) -> str | None:
    """The Python codec of the syntax level an interchange's UNB declares, if it is one we read."""
    head = text.lstrip("\ufeff \t\r\n")[:256]
    lexed = service_chars_for(head)
    first = next(iter(segments(head, lexed.chars, lexed.body, limit=1)), None)
    if first is None or first.tag != "UNB" or len(first.elements) < 2:
        return None
    s001 = first.elements[1]
    version = s001[1] if len(s001) > 1 else ""
    if not version.isdigit() or len(version) > 2:
        return None
    level = level_for(s001[0], int(version))
    return level.codec if level is not None else None
