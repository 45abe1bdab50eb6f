"""Undoing RFC 3676 ``format=flowed``: the wrapping of Thunderbird and Apple Mail.

Those clients wrap a pasted line longer than about 72 characters at a space and leave that
space at the end of each piece, so ``IMP|RUC|…|AV. ARGENTINA 2833, CALLAO`` arrives as two
lines, the second one ``CALLAO``. Joining the pieces again gives back the record the agent
pasted. The stdlib reads the parameter but does not undo the wrapping.

Works on bytes: every mark RFC 3676 uses (space, ``>``, CRLF) is ASCII, and so are the
charsets declarations travel in, so the text need not be decoded first.
"""

from __future__ import annotations

from typing import Final

__all__ = ["unflow"]

_SIGNATURE: Final = b"-- "


def unflow(data: bytes, *, delsp: bool = False) -> bytes:
    """The text of a ``format=flowed`` body with its soft line breaks joined (RFC 3676 §4).

    A line that ends in a space (other than the signature separator ``-- ``) continues on
    the next line of the same quote depth; with ``DelSp=yes`` that space was added by the
    client and goes. Space-stuffing is removed. Quoted lines keep their ``>`` marks.
    """
    out: list[bytes] = []
    pending: bytearray | None = None
    pending_depth = 0
    for raw_line in data.split(b"\n"):
        line = raw_line[:-1] if raw_line.endswith(b"\r") else raw_line
        depth = len(line) - len(line.lstrip(b">"))
        content = line[depth:]
        if content.startswith(b" "):  # space-stuffed (§4.4), after the quote marks if any
            content = content[1:]
        if pending is not None and depth != pending_depth:  # improperly flowed (§4.5)
            out.append(_quoted(pending_depth, bytes(pending)))
            pending = None
        flowed = content.endswith(b" ") and content != _SIGNATURE
        if flowed and delsp:
            content = content[:-1]
        if pending is None:
            pending, pending_depth = bytearray(content), depth
        else:
            pending += content
        if not flowed:
            out.append(_quoted(depth, bytes(pending)))
            pending = None
    if pending is not None:
        out.append(_quoted(pending_depth, bytes(pending)))
    return b"\r\n".join(out)


def _quoted(depth: int, content: bytes) -> bytes:
    return b">" * depth + (b" " if depth and content else b"") + content
