"""Light looks at an interchange inside a mail, before (and without) parsing it.

The extractor needs to know where an interchange pasted among other text ends, and in which
encoding the agent's software wrote it (the UNB syntax identifier), to undo a mail client's
re-encoding of the body. Neither may raise or take more than linear time.
"""

from __future__ import annotations

import re
from typing import Final

from edi_formats.edifact.charsets import level_for

__all__ = ["declared_codec", "interchange_end"]

_NEXT_START: Final = re.compile(rb"^[ \t]*(?:UNA[^\r\n]{6}|UNB[^A-Za-z0-9\r\n])", re.M)
"""Where the extractor sees the next interchange start (as edi_formats.extract does)."""


def _service(head: bytes) -> tuple[bytes, bytes, bytes, bytes, int]:
    """(component, data separator, release, terminator, offset of UNB) from an optional UNA."""
    if head.startswith(b"UNA") and len(head) >= 9:
        rest = len(head) - len(head[9:].lstrip(b" \r\n"))
        return head[3:4], head[4:5], head[6:7], head[8:9], rest
    return b":", b"+", b"?", b"'", 0


def interchange_end(data: bytes, start: int, limit: int) -> int:
    """Where the interchange beginning at ``start`` ends: after the terminator of its UNZ.

    UNZ counts only at the start of a segment (after an unreleased terminator and optional line
    breaks), so a name containing "UNZ" does not cut the interchange short. Without UNZ, the
    interchange runs to the end of the text (and will be reported as truncated).
    """
    lead = len(data[start:limit]) - len(data[start:limit].lstrip(b"\xef\xbb\xbf \t\r\n"))
    head = data[start + lead : start + lead + 64]
    _, _, release, terminator, unb = _service(head)
    if unb and start + lead + unb >= limit:  # the next candidate is this UNA's own UNB
        following = _NEXT_START.search(data, start + lead + unb + 3)
        limit = following.start() if following else len(data)
    pattern = re.compile(
        rb"(?<!" + re.escape(release) + rb")" + re.escape(terminator) + rb"[ \t\r\n]*UNZ"
    )
    found = pattern.search(data, start, limit)
    if found is not None:
        stop = data.find(terminator, found.end(), limit)
        while stop > 0 and data[stop - 1 : stop] == release:
            stop = data.find(terminator, stop + 1, limit)
        if stop >= 0:
            return stop + 1
    return start + len(data[start:limit].rstrip())


def declared_codec(text: str) -> str | None:
    """The Python codec of the syntax level an interchange's UNB declares, if it is one we read."""
    head = text.lstrip("\ufeff \t\r\n")[:256].encode("latin-1", "replace")
    component, separator, _, _, offset = _service(head)
    rest = head[offset:] if head.startswith(b"UNA") else head
    if not rest.startswith(b"UNB" + separator):
        return None
    s001 = rest[4:].split(separator, 1)[0].decode("ascii", "replace")
    identifier, _, version = s001.partition(component.decode("latin-1"))
    version = version.partition(component.decode("latin-1"))[0]
    if not version.isdigit():
        return None
    level = level_for(identifier, int(version))
    return level.codec if level is not None else None
