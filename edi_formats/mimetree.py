"""The MIME tree of a well-formed mail, split without the email package's feed parser.

Extraction reads every submission's MIME tree, and the feed parser (a generator per part,
a stack of end-of-part predicates checked on every line) was a sixth of the CPU of
analysing a declaration mail. Agents' mails are almost all well formed: header blocks that
end in a blank line, multiparts with their boundary, a closing delimiter. For those,
``well_formed_tree`` builds the very ``Message`` tree that
``email.message_from_bytes(raw, policy=compat32)`` builds (the same header lists, payloads,
preambles and epilogues; tested node by node against it), splitting lines with ``str``
methods. Header fields are still stored and read by ``email.message.Message`` itself.

Anything the feed parser would treat as a defect or as a special case (a header line that is
not one, a continuation first, a Unix ``From`` line, a multipart without boundary or without
its delimiters, repeated delimiters, ``message/*`` and ``multipart/digest`` parts, a lone CR,
nesting deeper than ``MAX_NESTING``) makes it return None, and the caller parses the mail
with the email package as before: the shortcut never decides anything the parser would
decide differently.
"""

from __future__ import annotations

import re
from email.message import Message
from email.policy import compat32
from typing import Final

__all__ = ["MAX_NESTING", "Delimiter", "well_formed_tree"]

MAX_NESTING: Final = 30
"""Deeper multiparts are left to the email package (which the analysis budget bounds)."""

# The feed parser's patterns (email.feedparser): a header or continuation line, a blank line.
_HEADER_LINE: Final = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")


class _Unusual(Exception):
    """The mail is not one the shortcut builds exactly; the email package parses it."""


class Delimiter:
    """The feed parser's delimiter line for a boundary (``boundaryre`` in email.feedparser:
    ``--boundary``, ``--`` if closing, blanks, a line end), matched without compiling a
    pattern per mail: each mail has its own boundary, so the ``re`` cache never helps.

    Exact for the lines ``well_formed_tree`` reads: at most one line end, at their end, and
    no lone CR.
    """

    __slots__ = ("separator",)

    def __init__(self, boundary: str) -> None:
        self.separator = "--" + boundary

    def match(self, line: str) -> tuple[bool, str | None] | None:
        """(closing, line end or None) when ``line`` is a delimiter; None otherwise."""
        if not line.startswith(self.separator):
            return None
        rest = line[len(self.separator) :]
        if rest.startswith("--"):
            tail = rest[2:].lstrip(" \t")
            if tail in _LINE_ENDS:
                return True, tail or None
        tail = rest.lstrip(" \t")
        if tail in _LINE_ENDS:
            return False, tail or None
        return None


_LINE_ENDS: Final = ("", "\n", "\r\n")


class _Lines:
    """The mail's lines, read as the feed parser reads them: a line that is a delimiter of
    an enclosing multipart ends the part being read (``at_end``)."""

    __slots__ = ("delimiters", "lines", "position")

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.position = 0
        self.delimiters: list[Delimiter] = []

    def at_end(self) -> bool:
        if self.position >= len(self.lines):
            return True
        line = self.lines[self.position]
        return line.startswith("--") and any(d.match(line) for d in self.delimiters)

    def take(self) -> str:
        line = self.lines[self.position]
        self.position += 1
        return line

    def rest(self) -> list[str]:
        """The lines up to the end of the part being read."""
        lines, start, delimiters = self.lines, self.position, self.delimiters
        end = start
        for end in range(start, len(lines)):
            line = lines[end]
            if line.startswith("--") and any(d.match(line) for d in delimiters):
                break
        else:
            end = len(lines)
        self.position = end
        return lines[start:end]


def well_formed_tree(raw: bytes) -> Message | None:
    """The tree ``email.message_from_bytes(raw, policy=compat32)`` gives, when ``raw`` is a
    well-formed mail; None when the email package must parse it."""
    text = raw.decode("ascii", "surrogateescape")
    if text.count("\r") != text.count("\r\n"):
        return None  # a lone CR ends a line for the feed parser; not worth following here
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    reader = _Lines(lines)
    try:
        message = _entity(reader, 0, enclosed=False)
    except MemoryError:
        raise  # the mail is beyond its reader's memory: the email package would be too
    except Exception:  # _Unusual, or anything else: the email package decides, as before
        return None
    if reader.position != len(lines):
        return None
    return message


def _entity(reader: _Lines, depth: int, *, enclosed: bool) -> Message:
    """One entity from the reader's position: its header, then its body or its parts.

    ``enclosed``: a part of a multipart, whose body's last line break belongs to the
    delimiter that follows (RFC 2046 §5.1.1).
    """
    if depth > MAX_NESTING:
        raise _Unusual
    message = Message(policy=compat32)
    _header(reader, message)
    maintype = message.get_content_maintype()
    if maintype == "message" or message.get_content_type() == "multipart/digest":
        raise _Unusual  # nested messages and digests: the feed parser's special cases
    if maintype == "multipart":
        _parts(reader, message, depth)
    else:
        body = "".join(reader.rest())
        message.set_payload(_without_eol(body) if enclosed else body)
    return message


def _header(reader: _Lines, message: Message) -> None:
    """The header fields up to the blank line, stored as the feed parser stores them."""
    field: list[str] = []
    while True:
        if reader.at_end():
            raise _Unusual  # the entity ends inside its header
        line = reader.take()
        if line in ("\r\n", "\n"):
            break
        if not _HEADER_LINE.match(line) or line.startswith("From "):
            raise _Unusual  # no blank line before the body, or a Unix From line
        if line[0] in " \t":
            if not field:
                raise _Unusual  # the first line is a continuation
            field.append(line)
            continue
        if line.startswith(":"):
            raise _Unusual  # a field without a name
        if field:
            message.set_raw(*compat32.header_source_parse(field))
        field = [line]
    if field:
        message.set_raw(*compat32.header_source_parse(field))


def _parts(reader: _Lines, message: Message, depth: int) -> None:
    """A multipart's preamble, parts and epilogue, as the feed parser splits them."""
    boundary = message.get_boundary()
    encoding = str(message.get("content-transfer-encoding", "8bit")).lower()
    if boundary is None or encoding not in ("7bit", "8bit", "binary"):
        raise _Unusual
    if "\r" in boundary or "\n" in boundary:
        raise _Unusual  # no line can hold its delimiter; not worth following
    delimiter = Delimiter(boundary)
    preamble: list[str] = []
    while not reader.at_end():
        line = reader.lines[reader.position]
        if line.startswith("--") and delimiter.match(line):
            break
        preamble.append(reader.take())
    else:
        raise _Unusual  # no delimiter at all
    if preamble:
        preamble[-1] = _without_eol(preamble[-1])  # RFC 2046: it belongs to the delimiter
        message.preamble = "".join(preamble)
    while True:
        if reader.at_end():
            raise _Unusual  # no closing delimiter
        found = delimiter.match(reader.take())
        assert found is not None
        closing, line_end = found
        if closing:
            if not message.is_multipart():
                raise _Unusual  # closed before any part
            break
        if reader.at_end() or delimiter.match(reader.lines[reader.position]):
            raise _Unusual  # an empty part, or repeated delimiters
        reader.delimiters.append(delimiter)
        part = _entity(reader, depth + 1, enclosed=True)
        reader.delimiters.pop()
        if part.is_multipart():  # the feed parser trims the line break off its epilogue
            if part.epilogue == "":
                part.epilogue = None
            elif part.epilogue is not None:
                part.epilogue = _without_eol(part.epilogue)
        message.attach(part)
    epilogue = [""] if line_end else []
    epilogue += reader.rest()
    if epilogue and epilogue[0][:1] in ("\r", "\n"):
        epilogue[0] = epilogue[0][2:] if epilogue[0].startswith("\r\n") else epilogue[0][1:]
    message.epilogue = "".join(epilogue)


def _without_eol(text: str) -> str:
    """``text`` without its final line break (CRLF, CR or LF), if it ends with one."""
    if text.endswith("\r\n"):  # not a search for a pattern anchored at the end: that
        return text[:-2]  # tries every position of a body, the whole body each time
    if text.endswith(("\r", "\n")):
        return text[:-1]
    return text
