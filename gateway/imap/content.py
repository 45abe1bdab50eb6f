"""A message's MIME structure for pymap, bounded and parsed off the event loop.

pymap's ``MessageContent.parse`` models every part of a message, however many: a 1 MB mail
of 100 000 empty parts cost 40-65 s of the event loop and about 1 GB for one
``FETCH BODYSTRUCTURE``. Here, as Dovecot's message parser does (its limits are 100 nested
and 10 000 parts in all; ours are lower because each part costs more in Python):

- at most ``MAX_PARTS`` parts are modelled; once they are used, a multipart's remaining
  parts are not split out but stay in the bytes of its last modelled part;
- at most ``MAX_DEPTH`` levels of multipart and ``message/rfc822`` nesting; a part at that
  depth is modelled as an opaque ``application/octet-stream`` leaf.

Every byte of the message is still served by ``BODY[]``; only what the structure names is
bounded. Messages above ``INLINE_BYTES``, or with more than ``INLINE_DELIMITERS`` lines that
may delimit parts, are parsed in the lane (``gateway.lane``), so the loop keeps answering
other clients meanwhile: a part costs about 0.09 ms, so a mail of 10 KB and 999 parts took
0.09 s. A message fetched whole (``BODY[]``, ``RFC822``) is not parsed at all, whatever its
size: its bytes are what is sent (``ParsedOnDemand``).

The parse is pymap's own (``MessageContent._parse`` and its helpers, pinned pymap 0.36.7)
with the part count and depth threaded through; upstream, a ``max_parts``/``max_depth``
argument to ``MessageContent.parse`` would make this module a single call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.headerregistry import ContentTypeHeader
from typing import Final, TypeGuard, TypeVar

from pymap.bytes import Writeable
from pymap.interfaces.message import LoadedMessageInterface, MessageInterface
from pymap.mime import MessageBody, MessageContent, MessageHeader
from pymap.parsing.specials import FetchRequirement

from gateway.imap.shape import LoadedMessage, without_boundary_line_breaks
from gateway.lane import BYTES_ON_LOOP, in_lane
from mailboxes.line_ends import canonical_line_ends

__all__ = [
    "INLINE_BYTES",
    "INLINE_DELIMITERS",
    "MAX_DEPTH",
    "MAX_PARTS",
    "ParsedOffLoop",
    "ParsedOnDemand",
    "in_lane_read",
    "made_in_lane",
    "parse_bounded",
    "parses_inline",
]

T = TypeVar("T")

MAX_PARTS: Final = 1000
"""MIME parts modelled per message (the message itself counts as one)."""
MAX_DEPTH: Final = 32
"""Levels of nesting modelled (multipart in multipart, message/rfc822 in either)."""
INLINE_BYTES: Final = 64 * 1024
"""Messages up to this size are parsed on the loop (a thread hop would cost more)..."""
INLINE_DELIMITERS: Final = 100
"""...if they have at most this many lines starting ``--``: a parse of up to about 9 ms."""

_Line = tuple[int, int, int]
_OPAQUE: Final = "application/octet-stream"


@dataclass
class _Budget:
    parts: int


def parse_bounded(raw: bytes) -> MessageContent:
    """``MessageContent.parse(raw)`` (CRLF line ends made), within MAX_PARTS and MAX_DEPTH."""
    data = canonical_line_ends(raw)
    lines = MessageContent._find_lines(data)
    return _content(data, memoryview(data), lines, 0, _Budget(MAX_PARTS - 1))


def parses_inline(raw: bytes) -> bool:
    """Whether ``raw`` is parsed on the event loop: small, and of few parts."""
    return len(raw) <= INLINE_BYTES and raw.count(b"\n--") <= INLINE_DELIMITERS


class _AsStored(LoadedMessage):
    """A loaded message as its stored bytes, ``raw``; its structure is parsed later, if at
    all."""

    def __init__(
        self, message: MessageInterface, requirement: FetchRequirement, raw: bytes
    ) -> None:
        super().__init__(message, requirement, None)
        self.raw = raw


class ParsedOffLoop(_AsStored):
    """A loaded message too large, or of too many parts, to parse on the loop: its bytes,
    parsed in the lane by the step that reads its parts (``in_lane_read``) and let go of
    in the same turn.

    A parsed message of 999 parts is about 36 000 objects. Parsed when loaded, it waited in
    the lane's queue for its values to be made, then again to be let go of: with twenty
    clients fetching such messages, the collector's full passes walked 1.5 million objects,
    1.5-2 s each, every two seconds, the event loop held meanwhile."""

    @property
    def content(self) -> MessageContent:
        """Parsed where it is asked for: no step of the node reads a costly message's parts
        but through ``in_lane_read``, which does not keep them."""
        return parse_bounded(self.raw)


class ParsedOnDemand(_AsStored):
    """A loaded message whose MIME structure is parsed only when asked for: ``BODY[]``,
    what most clients fetch, is the message's bytes as stored (a fifth of a single
    FETCH's cost went to parsing a structure nothing used; a ``BODY.PEEK[]`` of a 16 MB mail
    cost the node 180-280 ms of CPU, 50-100 without it). Only messages that parse inline, or
    that the command reads whole (``BODY[]``, its size): a costlier one whose parts are
    asked for is a ``ParsedOffLoop``.

    ``raw`` has CRLF line ends already (``canonical_line_ends``, off the loop if large)."""

    @property
    def content(self) -> MessageContent:
        if self._content is None:
            self._content = parse_bounded(self.raw)
        return self._content

    def get_body(self, section: Sequence[int] | None = None, binary: bool = False) -> Writeable:
        if not section and not binary:
            return Writeable.wrap(self.raw)
        return super().get_body(section, binary)

    def get_size(self, section: Sequence[int] | None = None) -> int:
        """``RFC822.SIZE`` from the bytes: pymap's measures the parsed message, and the
        usual ``(UID RFC822.SIZE FLAGS BODY.PEEK[])`` parsed each message for it."""
        if not section:
            return len(self.raw)
        return super().get_size(section)

    def __bytes__(self) -> bytes:
        return self.raw


def made_in_lane(
    loaded: LoadedMessageInterface | None,
) -> TypeGuard[ParsedOffLoop | ParsedOnDemand]:
    """Whether what is read from ``loaded`` costs too much for the event loop: the parse of a
    ``ParsedOffLoop``, or a pass over the bytes of a message past ``BYTES_ON_LOOP``. What
    reads it (a SEARCH's match, a FETCH's values) goes through ``in_lane_read``."""
    return isinstance(loaded, ParsedOffLoop) or (
        isinstance(loaded, ParsedOnDemand) and len(loaded.raw) > BYTES_ON_LOOP
    )


async def in_lane_read(
    loaded: ParsedOffLoop | ParsedOnDemand, use: Callable[[LoadedMessage], T]
) -> T:
    """``use`` of the message, in one turn of the lane. A ``ParsedOffLoop`` is parsed there
    and let go of there (its parts freed: 3 ms for 999, 10 for 20 MB) before another
    client's turn; what ``use`` returns must not hold the parse (bytes, a match)."""
    if isinstance(loaded, ParsedOnDemand):
        return await in_lane(use, loaded)

    def parsed_use() -> T:
        return use(LoadedMessage(loaded.message, loaded.requirement, parse_bounded(loaded.raw)))

    return await in_lane(parsed_use)


def _content(
    data: bytes, view: memoryview, lines: Sequence[_Line], depth: int, budget: _Budget
) -> MessageContent:
    header_lines, body_lines = MessageContent._split_lines(data, lines)
    header = MessageHeader._parse(data, view, header_lines)
    body = _body(data, view, body_lines, header.parsed.content_type, depth, budget)
    return MessageContent(data, header, body)


def _body(
    data: bytes,
    view: memoryview,
    lines: Sequence[_Line],
    content_type: ContentTypeHeader | None,
    depth: int,
    budget: _Budget,
) -> MessageBody:
    if content_type is None:
        return MessageBody._parse(data, view, lines, None)
    maintype, subtype = content_type.maintype, content_type.subtype
    nests = maintype == "multipart" or (maintype, subtype) == ("message", "rfc822")
    if not nests:
        return MessageBody(data, lines, content_type, [])
    if depth + 1 >= MAX_DEPTH or budget.parts <= 0:
        return MessageBody(data, lines, MessageBody._parse_content_type(_OPAQUE), [])
    if maintype == "message":
        budget.parts -= 1
        nested = _content(data, view, lines, depth + 1, budget)
        return MessageBody(data, lines, content_type, [nested])
    boundary = MessageBody._get_boundary(content_type)
    if not boundary:
        return MessageBody(data, lines, content_type, [])
    parts: list[MessageContent] = []
    for part_lines in _split_parts(view, lines, boundary, budget):
        parts.append(_content(data, view, part_lines, depth + 1, budget))
    return MessageBody(data, lines, content_type, parts)


def _split_parts(
    view: memoryview, lines: Sequence[_Line], boundary: bytes, budget: _Budget
) -> list[list[_Line]]:
    """pymap's ``MessageBody._find_parts`` (as ``shape`` corrects it), opening no more parts
    than the budget holds."""
    delimiter = b"--%s" % boundary
    close = b"--%s--" % boundary
    parts: list[list[_Line]] = []
    for line in lines:
        start, end, _ = line
        text = view[start:end]
        if text == close:
            break
        if text == delimiter and budget.parts > 0:
            budget.parts -= 1
            parts.append([])
        elif parts:
            parts[-1].append(line)
    return without_boundary_line_breaks(parts)
