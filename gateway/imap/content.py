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
0.09 s.

The parse is pymap's own (``MessageContent._parse`` and its helpers, pinned pymap 0.36.7)
with the part count and depth threaded through; upstream, a ``max_parts``/``max_depth``
argument to ``MessageContent.parse`` would make this module a single call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.headerregistry import ContentTypeHeader
from typing import Final, TypeGuard, TypeVar

from pymap.interfaces.message import LoadedMessageInterface, MessageInterface
from pymap.mime import MessageBody, MessageContent, MessageHeader
from pymap.parsing.specials import FetchRequirement

from gateway.imap.shape import LoadedMessage, without_boundary_line_breaks
from gateway.lane import in_lane

__all__ = [
    "INLINE_BYTES",
    "INLINE_DELIMITERS",
    "MAX_DEPTH",
    "MAX_PARTS",
    "ParsedOffLoop",
    "crlf",
    "in_lane_parsed",
    "parse_bounded",
    "parsed_off_loop",
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


def crlf(raw: bytes) -> bytes:
    """IMAP literals have CRLF line ends; a message stored with bare LFs gets them here."""
    if raw.count(b"\n") == raw.count(b"\r\n"):
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def parse_bounded(raw: bytes) -> MessageContent:
    """``MessageContent.parse(raw)`` (CRLF line ends made), within MAX_PARTS and MAX_DEPTH."""
    data = crlf(raw)
    lines = MessageContent._find_lines(data)
    return _content(data, memoryview(data), lines, 0, _Budget(MAX_PARTS - 1))


def parses_inline(raw: bytes) -> bool:
    """Whether ``raw`` is parsed on the event loop: small, and of few parts."""
    return len(raw) <= INLINE_BYTES and raw.count(b"\n--") <= INLINE_DELIMITERS


class ParsedOffLoop(LoadedMessage):
    """A loaded message too large, or of too many parts, to parse on the loop: its bytes,
    parsed in the lane by the step that reads its parts (``in_lane_parsed``) and let go of
    in the same turn.

    A parsed message of 999 parts is about 36 000 objects. Parsed when loaded, it waited in
    the lane's queue for its values to be made, then again to be let go of: with twenty
    clients fetching such messages, the collector's full passes walked 1.5 million objects,
    1.5-2 s each, every two seconds, the event loop held meanwhile."""

    def __init__(
        self, message: MessageInterface, requirement: FetchRequirement, raw: bytes
    ) -> None:
        super().__init__(message, requirement, None)
        self.raw = raw

    @property
    def content(self) -> MessageContent:
        """Parsed where it is asked for: no step of the node reads a costly message's parts
        but through ``in_lane_parsed``, which does not keep them."""
        return parse_bounded(self.raw)


def parsed_off_loop(loaded: LoadedMessageInterface) -> TypeGuard[ParsedOffLoop]:
    """Whether ``loaded`` is too costly to parse on the event loop: what walks its content
    (a SEARCH's match, a FETCH's values) goes through ``in_lane_parsed``."""
    return isinstance(loaded, ParsedOffLoop)


async def in_lane_parsed(loaded: ParsedOffLoop, use: Callable[[LoadedMessage], T]) -> T:
    """``use`` of the message parsed, in one turn of the lane: the parse is made there and
    let go of there (its parts freed: 3 ms for 999, 10 for 20 MB) before another client's
    turn. What ``use`` returns must not hold the parse (bytes, a match)."""

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
