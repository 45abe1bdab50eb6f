"""A mail written before two of its values are known: the declaration number and the channel.

An acceptance is composed when the declaration is decided, outside the transaction that
numbers it; the number and the channel (with the reason the office copy gives for it) are
known only there. The template holds every finished byte, and holes where those values go:
a header field, a text part, an attachment. ``fill`` writes each hole with the same code that
writes a whole mail (so the field is folded and encoded, the text part in quoted-printable,
the attachment in base64), and the mail stays valid MIME whatever the values.

The number has a fixed width (``OOO-YYYY-RR-NNNNNN``), so in an attachment rendered with a
stand-in number it is replaced in place; what depends on the channel is kept once per channel
(three small variants).

A template crosses a process pipe for every acceptance, so it keeps its holes in a wire form
of tuples, strings and numbers (``Template``); the values it is built from are plain frozen
dataclasses, not slotted ones: Python 3.11 pickles a slotted dataclass through a Python-level
``__getstate__``/``__setstate__``, several times slower than an ordinary object's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from edi_formats.responses import Channel
from gateway.mail import wrap
from gateway.mail.headers import field
from gateway.mail.mime import attachment, text_part

__all__ = [
    "Attachment",
    "ByChannel",
    "Field",
    "Filling",
    "Piece",
    "Slot",
    "Template",
    "TextPart",
    "WireHole",
    "Wrapped",
    "fill",
    "fill_text",
    "number_slots",
]

STAND_IN: Final = "000000"
"""The correlative of the stand-in number: never given (correlatives start at 1)."""


class Slot(StrEnum):
    NUMBER = "number"
    CHANNEL = "channel"
    CHANNEL_UPPER = "CHANNEL"
    REASON = "reason"


@dataclass(frozen=True)
class Filling:
    """The values filled in at numbering."""

    number: str
    channel: Channel
    reason: str = ""


@dataclass(frozen=True)
class ByChannel:
    """Text that differs per channel (what the channel means for the broker, say)."""

    texts: tuple[tuple[Channel, str], ...]


@dataclass(frozen=True)
class Wrapped:
    """A paragraph with slots, wrapped to ``width`` once they are filled."""

    pieces: tuple[str | Slot, ...]
    width: int
    indent: str = ""


Piece = str | Slot | ByChannel | Wrapped
Text = tuple[Piece, ...]


def fill_text(text: Text, filling: Filling) -> str:
    channel = filling.channel.value
    return _filled(_flat_text(text), _values(filling), channel)


def _values(filling: Filling) -> tuple[str, str, str, str]:
    """Each slot's value by its index in the wire form (``_SLOTS``), found once per mail."""
    channel = filling.channel.value
    return (filling.number, channel, channel.upper(), filling.reason)


_SLOTS: Final = {Slot.NUMBER: 0, Slot.CHANNEL: 1, Slot.CHANNEL_UPPER: 2, Slot.REASON: 3}
"""A slot's index in ``_values`` (how it goes in the wire form)."""

_FlatWrapped = tuple[tuple[str | int, ...], int, str]
_FlatText = tuple[str | int | dict[str, str] | _FlatWrapped, ...]
"""A ``Text`` in the wire form: text, a slot's index, a ``ByChannel`` as a dict by the
channel's value, a ``Wrapped`` as (pieces, width, indent)."""


def _flat_text(text: Text) -> _FlatText:
    flat: list[str | int | dict[str, str] | _FlatWrapped] = []
    for piece in text:
        if isinstance(piece, Slot):  # before str: a Slot is a str
            flat.append(_SLOTS[piece])
        elif isinstance(piece, str):
            flat.append(piece)
        elif isinstance(piece, ByChannel):
            flat.append({channel.value: text for channel, text in piece.texts})
        else:
            pieces = tuple(_SLOTS[p] if isinstance(p, Slot) else p for p in piece.pieces)
            flat.append((pieces, piece.width, piece.indent))
    return tuple(flat)


def _filled(text: _FlatText, values: tuple[str, str, str, str], channel: str) -> str:
    out: list[str] = []
    for piece in text:
        if isinstance(piece, str):
            out.append(piece)
        elif isinstance(piece, int):
            out.append(values[piece])
        elif isinstance(piece, dict):
            out.append(piece[channel])
        else:
            pieces, width, indent = piece
            paragraph = "".join(p if isinstance(p, str) else values[p] for p in pieces)
            out.append(wrap.paragraph(paragraph, width, indent))
    return "".join(out)


@dataclass(frozen=True)
class Field:
    """A header field whose value has slots."""

    name: str
    value: Text


@dataclass(frozen=True)
class TextPart:
    """A ``text/plain`` part (its fields and body) whose text has slots; the charset is
    chosen once the text is whole."""

    text: Text


@dataclass(frozen=True)
class Attachment:
    """An attachment per channel, rendered with the stand-in number at ``offsets``."""

    content_type: str
    params: tuple[tuple[str, str], ...]
    filename: Text
    data: tuple[tuple[Channel, bytes, tuple[int, ...]], ...]


Hole = Field | TextPart | Attachment

_FlatField = tuple[str, _FlatText]
_FlatTextPart = tuple[_FlatText]
_FlatAttachment = tuple[
    str, tuple[tuple[str, str], ...], _FlatText, tuple[tuple[str, bytes, tuple[int, ...]], ...]
]
_FlatHole = _FlatField | _FlatTextPart | _FlatAttachment
WireHole = _FlatHole
"""A hole in the wire form, told apart by its length: (name, text) for a field, (text,) for a
text part, (content type, params, file name, (channel's value, data, offsets) per channel)
for an attachment."""


def _flat(piece: bytes | Hole | _FlatHole) -> bytes | _FlatHole:
    if isinstance(piece, bytes | tuple):  # finished, or already in the wire form
        return piece
    if isinstance(piece, Field):
        return (piece.name, _flat_text(piece.value))
    if isinstance(piece, TextPart):
        return (_flat_text(piece.text),)
    data = tuple((channel.value, each, offsets) for channel, each, offsets in piece.data)
    return (piece.content_type, piece.params, _flat_text(piece.filename), data)


@dataclass(frozen=True, init=False)
class Template:
    """Finished bytes and holes, in order (a picklable value).

    Given as ``Field``, ``TextPart`` and ``Attachment`` values, the holes are kept in a wire
    form of tuples, strings and numbers only: a template crosses the analysis process's pipe
    for every acceptance, and unpickling builtins is several times cheaper for the node than
    building a dozen objects of classes (14 µs a template against 3).
    """

    pieces: tuple[bytes | _FlatHole, ...]

    def __init__(self, pieces: Iterable[bytes | Hole | _FlatHole]) -> None:
        object.__setattr__(self, "pieces", tuple(_flat(piece) for piece in pieces))

    @classmethod
    def of_wire(cls, pieces: tuple[bytes | WireHole, ...]) -> Template:
        """The template whose ``pieces`` these are (already in the wire form)."""
        template = object.__new__(cls)
        object.__setattr__(template, "pieces", pieces)
        return template

    @property
    def complete(self) -> bool:
        return all(isinstance(piece, bytes) for piece in self.pieces)


def _numbered(data: bytes, offsets: tuple[int, ...], number: str) -> bytes:
    """``data`` with ``number`` written over the stand-in at ``offsets``."""
    if not offsets:
        return data
    encoded = number.encode("ascii")
    out = bytearray(data)
    for offset in offsets:
        out[offset : offset + len(encoded)] = encoded
    return bytes(out)


def fill(template: Template, filling: Filling) -> bytes:
    """The mail with ``filling``'s values in its holes."""
    out: list[bytes] = []
    values = _values(filling)
    channel = values[1]
    for piece in template.pieces:
        if isinstance(piece, bytes):
            out.append(piece)
        elif len(piece) == 2:
            name, value = piece
            out.append(field(name, _filled(value, values, channel)))
        elif len(piece) == 1:
            part = text_part(_filled(piece[0], values, channel))
            out.append(part.headers + b"\r\n" + part.body)
        else:
            content_type, params, filename, variants = piece
            data, offsets = next((d, o) for c, d, o in variants if c == channel)
            part = attachment(
                _numbered(data, offsets, filling.number),
                content_type,
                _filled(filename, values, channel),
                dict(params),
            )
            out.append(part.headers + b"\r\n" + part.body)
    return b"".join(out)


def _places(data: bytes, number: bytes) -> list[int]:
    places = []
    start = data.find(number)
    while start >= 0:
        places.append(start)
        start = data.find(number, start + 1)
    return places


def number_slots(
    render: Callable[[str, Channel], bytes], prefix: str
) -> tuple[tuple[Channel, bytes, tuple[int, ...]], ...]:
    """``render(number, channel)`` for each channel, with the places of the number in it.

    Rendered with the stand-in number of the series ``prefix`` (``118-2026-10-``); where the
    declaration itself happens to carry that text too (an agent's reference, say), a second
    rendering with another number tells the number's places from the rest.
    """
    stand_in = f"{prefix}{STAND_IN}"
    variants = []
    for channel in Channel:
        data = render(stand_in, channel)
        places = _places(data, stand_in.encode("ascii"))
        if len(places) != 1:
            other = f"{prefix}{'9' * len(STAND_IN)}".encode("ascii")
            second = render(other.decode(), channel)
            if len(second) != len(data):
                raise ValueError("the rendering's length depends on the number")
            places = [at for at in places if second[at : at + len(other)] == other]
        variants.append((channel, data, tuple(places)))
    return tuple(variants)
