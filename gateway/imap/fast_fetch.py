"""A short way through pymap for the FETCH commands mail clients send most.

A single ``UID FETCH 7 (UID RFC822.SIZE FLAGS BODY.PEEK[])`` went through pymap's general
command parser (a quarter of its cost), then through its response objects (one per
attribute, rendered by ``BytesFormat``, written piece by piece). Here a command line that
matches a strict grammar skips both:

- **Parsing.** ``tag [UID ]FETCH set attributes`` with single spaces, a set of at most
  ``MAX_MESSAGES`` messages (one, when the messages are read) written as numbers and
  ``n:m`` ranges (no ``*``), and an
  attribute list that pymap's own parser read the same way before (``_AttributeCache``: a
  client sends the same few lists again and again). The command object is pymap's own
  ``FetchCommand``/``UidFetchCommand`` (as subclasses that say they came this way), so what
  pymap checks before a FETCH (logged in, mailbox selected) and every store call after it
  are unchanged.
- **Answering** (``answer`` and ``render``, called by ``extensions.State``). The
  session's own ``fetch_messages`` reads the messages (one hop to the database thread,
  \\Seen set for ``BODY[]`` as before) and the selected view's ``fork`` gives the untagged
  updates, as pymap's ``do_fetch``/``do_command`` do. The values come from the same
  loaded-message methods pymap's fetch values call (in the lane, ``gateway.lane``, for a
  message too costly to parse on the loop); only the formatting is done here, into one
  ``bytes`` written at once. A ``FETCH`` update for a message of the answer is merged
  into its response as pymap's ``FetchResponse.merge`` does; other updates are pymap's
  responses, rendered by pymap.

Anything else (``*``, larger sets, BINARY, ``CHANGEDSINCE``, literals, two spaces) goes to
pymap unchanged; a literal (``{4}``) never reaches the attribute parser here, which reads
a line alone and has no continuation to ask for. ``tests/gateway/imap/test_fast_fetch.py``
answers a table of command lines both ways on the same messages and compares the bytes.

Upstream, the equivalent in pymap would be a cache of parsed fetch-attribute lists in
``FetchCommand.parse`` and a ``FetchResponse`` that renders to one ``bytes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final, TypeGuard

from pymap.bytes import WriteStream
from pymap.fetch import DynamicLoadedFetchValue
from pymap.interfaces.message import LoadedMessageInterface, MessageInterface
from pymap.parsing import Params
from pymap.parsing.command.select import FetchCommand, UidFetchCommand
from pymap.parsing.exceptions import NotParseable
from pymap.parsing.primitives import List
from pymap.parsing.response import CommandResponse, ResponseCode, UntaggedResponse
from pymap.parsing.response.specials import FetchResponse
from pymap.parsing.specials import DateTime, FetchAttribute, FetchRequirement, SequenceSet
from pymap.parsing.specials.flag import Flag
from pymap.selected import SelectedMailbox

from gateway.imap.content import in_lane_read, made_in_lane

__all__ = [
    "MAX_MESSAGES",
    "FastCommand",
    "FastFetch",
    "FastUidFetch",
    "PreRendered",
    "answer",
    "is_fast",
    "parse",
    "render",
]

MAX_MESSAGES: Final = 64
"""Most messages one command may name to be answered here (a bulk fetch goes to pymap);
one only when the message is read (its bytes, size or envelope): the answer is made whole
before it is written, so that is never more than one message."""

_TAG: Final = rb"[\x21\x23\x24\x26\x27\x2C-\x5B\x5D\x5E-\x7A\x7C\x7E]+"  # pymap's Tag
_NUMBER: Final = rb"[1-9][0-9]{0,9}"
# The attributes: printable ASCII without "{" (no literal, which would need a continuation).
_LINE: Final = re.compile(
    rb"(%b) (?i:(UID) )?(?i:FETCH) (%b(?::%b)?(?:,%b(?::%b)?){0,15}) "
    rb"([(A-Za-z][\x20-\x7A\x7C-\x7E]{0,1023})\r\n" % (_TAG, _NUMBER, _NUMBER, _NUMBER, _NUMBER)
)

_SIMPLE: Final = frozenset({b"UID", b"FLAGS", b"INTERNALDATE"})
_LOADED: Final = frozenset(
    {b"RFC822.SIZE", b"ENVELOPE", b"BODY", b"BODY.PEEK", b"RFC822", b"RFC822.HEADER",
     b"RFC822.TEXT"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Attributes:
    """An attribute list as pymap parsed it, with what answering it needs worked out once."""

    attributes: tuple[FetchAttribute, ...]
    requirement: FetchRequirement
    loads: bool
    """Whether a value needs the message loaded (its bytes, size or envelope)."""
    sets_seen: bool
    reads_content: bool

    @classmethod
    def of(cls, attributes: Sequence[FetchAttribute]) -> Attributes:
        requirement = FetchRequirement.reduce(attribute.requirement for attribute in attributes)
        return cls(
            tuple(attributes),
            requirement,
            any(attribute.value in _LOADED for attribute in attributes),
            any(attribute.set_seen for attribute in attributes),
            not requirement.has_none(FetchRequirement.CONTENT),
        )


class FastCommand(FetchCommand):
    """A FETCH read by ``parse``, with its worked-out ``Attributes``."""

    def __init__(self, tag: bytes, seq_set: SequenceSet, parsed: Attributes) -> None:
        super().__init__(tag, seq_set, list(parsed.attributes))
        self.parsed = parsed


class FastFetch(FastCommand):
    """A ``FETCH`` read by ``parse``: ``answer`` may answer it."""


class FastUidFetch(FastCommand, UidFetchCommand):
    """A ``UID FETCH`` read by ``parse``: ``answer`` may answer it."""


def is_fast(command: object) -> TypeGuard[FastCommand]:
    """Whether ``command`` came from ``parse`` (a type test: pymap's commands are ABCs, and
    ``isinstance`` against an ABC costs many times more)."""
    return type(command) is FastUidFetch or type(command) is FastFetch


def _answerable(attributes: Sequence[FetchAttribute]) -> bool:
    for attribute in attributes:
        name = attribute.value
        if name in _SIMPLE:
            continue
        if name not in _LOADED:
            return False
        if name == b"BODY" and attribute.section is None:
            return False  # BODY without a section is BODYSTRUCTURE's short form
    return True


class _AttributeCache:
    """Attribute lists as pymap's ``FetchCommand.parse`` reads them, by their text.

    Bounded: a client sending ever new lists empties it now and then, nothing more.
    """

    SIZE: Final = 256

    def __init__(self) -> None:
        self._lists: dict[tuple[bytes, bool], Attributes | None] = {}

    def get(self, text: bytes, uid: bool, params: Params) -> Attributes | None:
        key = (text, uid)
        try:
            return self._lists[key]
        except KeyError:
            pass
        parsed = self._parse(text, uid, params)
        if len(self._lists) >= self.SIZE:
            self._lists.clear()
        self._lists[key] = parsed
        return parsed

    @staticmethod
    def _parse(text: bytes, uid: bool, params: Params) -> Attributes | None:
        command = UidFetchCommand if uid else FetchCommand
        try:
            parsed, rest = command.parse(memoryview(b" 1 %b\r\n" % text), params.copy(uid=uid))
        except NotParseable:
            return None
        if parsed.options or len(rest) or not _answerable(parsed.attributes):
            return None
        return Attributes.of(parsed.attributes)


_ATTRIBUTES: Final = _AttributeCache()


def parse(line: bytes | bytearray | memoryview, params: Params) -> FastCommand | None:
    """The FETCH command on ``line`` when it is one ``answer`` can answer, else ``None``."""
    match = _LINE.fullmatch(line)
    if match is None:
        return None
    tag, uid_word, set_text, attributes_text = match.groups()
    uid = uid_word is not None
    sequences: list[int | tuple[int, int]] = []
    count = 0
    for element in set_text.split(b","):
        low, colon, high = element.partition(b":")
        if colon:
            first, last = int(low), int(high)
            sequences.append((first, last))
            count += abs(last - first) + 1
        else:
            sequences.append(int(low))
            count += 1
    if count > MAX_MESSAGES:
        return None
    attributes = _ATTRIBUTES.get(bytes(attributes_text), uid, params)
    if attributes is None or (attributes.loads and count > 1):
        return None
    command = FastUidFetch if uid else FastFetch
    return command(bytes(tag), SequenceSet(sequences, uid), attributes)


class PreRendered(CommandResponse):
    """A tagged response with its untagged responses already rendered, as the parts they
    are made of: a value of megabytes (a message's bytes) is not copied into one answer on
    the event loop, and is written a slice at a time (``connection``'s ``_write_parts``)."""

    def __init__(
        self,
        tag: bytes,
        text: bytes,
        code: ResponseCode | None,
        parts: Sequence[bytes],
        terminal: bool,
    ) -> None:
        super().__init__(tag, text, code)
        self.condition = b"OK"
        self.parts = parts
        self._terminal = terminal

    @property
    def is_terminal(self) -> bool:
        return self._terminal

    def write(self, writer: WriteStream) -> None:
        for part in self.parts:
            writer.write(part)

    async def async_write(self, writer: WriteStream) -> None:
        self.write(writer)


_EXPUNGEISSUED: Final = ResponseCode.of(b"EXPUNGEISSUED")
_FLAG_LISTS: dict[frozenset[Flag], bytes] = {}


def _flag_list(flags: frozenset[Flag]) -> bytes:
    """``(\\Seen $Label1)`` as pymap's ``List(flags, sort=True)`` writes it; a mailbox has
    few distinct sets, so they are kept (a bounded few)."""
    text = _FLAG_LISTS.get(flags)
    if text is None:
        text = bytes(List(flags, sort=True))
        if len(_FLAG_LISTS) >= 512:
            _FLAG_LISTS.clear()
        _FLAG_LISTS[flags] = text
    return text


def _value(
    attribute: FetchAttribute,
    message: MessageInterface,
    selected: SelectedMailbox,
    loaded: LoadedMessageInterface | None,
) -> bytes:
    """One ``NAME value`` of a FETCH response, as pymap's ``pymap.fetch`` values write it."""
    name = attribute.value
    if name == b"UID":
        return b"UID %d" % message.uid
    if name == b"FLAGS":
        return b"FLAGS " + _flag_list(message.get_flags(selected.session_flags))
    if name == b"INTERNALDATE":
        return b"INTERNALDATE " + bytes(DateTime(message.internal_date))
    assert loaded is not None
    if name == b"RFC822.SIZE":
        return b"RFC822.SIZE %d" % loaded.get_size()
    if name == b"ENVELOPE":
        return b"ENVELOPE " + bytes(loaded.get_envelope_structure())
    data = bytes(DynamicLoadedFetchValue._get_data(attribute.section, attribute.partial, loaded))
    return b"%b {%d}\r\n%b" % (attribute.for_response.raw, len(data), data)


def _values(
    attributes: Sequence[FetchAttribute],
    message: MessageInterface,
    selected: SelectedMailbox,
    loaded: LoadedMessageInterface | None,
) -> dict[FetchAttribute, bytes]:
    return {attribute: _value(attribute, message, selected, loaded) for attribute in attributes}


async def answer(
    command: FastCommand,
    selected: SelectedMailbox,
    fetched: Iterable[tuple[int, MessageInterface]],
) -> tuple[dict[int, dict[FetchAttribute, bytes]], bool]:
    """The FETCH responses' values for the messages read, by sequence number, and whether
    one of them was expunged meanwhile (pymap's ``do_fetch``, formatting aside)."""
    parsed = command.parsed
    attributes, requirement, loads = parsed.attributes, parsed.requirement, parsed.loads
    responses: dict[int, dict[FetchAttribute, bytes]] = {}
    expunged = False
    for seq, message in fetched:
        if message.expunged:
            expunged = True
        loaded = await message.load_content(requirement) if loads else None
        if made_in_lane(loaded):  # its values cost as its parse, or its bytes, do
            values = await in_lane_read(loaded, partial(_values, attributes, message, selected))
        else:
            values = _values(attributes, message, selected, loaded)
        known = responses.get(seq)
        responses[seq] = values if known is None else known | values
    return responses, expunged


def render(
    command: FetchCommand,
    responses: dict[int, dict[FetchAttribute, bytes]],
    expunged: bool,
    updates: Iterable[UntaggedResponse],
) -> PreRendered:
    """The whole answer: the FETCH responses (with the updates about the same messages
    merged in, as ``CommandResponse.add_untagged`` merges them), the other updates, then
    the tagged ``OK``."""
    later: list[bytes] = []
    terminal = False
    for update in updates:
        terminal = terminal or update.is_terminal
        if isinstance(update, FetchResponse) and update.seq in responses:
            responses[update.seq].update(
                (attribute, bytes(value)) for attribute, value in update.data.items()
            )
        else:
            later.append(bytes(update))
    parts: list[bytes] = []
    for seq, values in responses.items():
        parts.append(b"* %d FETCH (" % seq)
        for index, value in enumerate(values.values()):
            parts.extend((b" ", value) if index else (value,))
        parts.append(b")\r\n")
    parts.extend(later)
    text = command.command + b" completed."
    code = _EXPUNGEISSUED if expunged else None
    if code is None:
        parts.append(b"%b OK %b\r\n" % (command.tag, text))
    else:
        parts.append(b"%b OK %b %b\r\n" % (command.tag, bytes(code), text))
    return PreRendered(command.tag, text, code, parts, terminal)
