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

The values here are plain frozen dataclasses, not slotted ones: a template crosses a process
pipe for every acceptance, and Python 3.11 pickles a slotted dataclass through a Python-level
``__getstate__``/``__setstate__``, several times slower than an ordinary object's.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def value(self, slot: Slot) -> str:
        if slot is Slot.NUMBER:
            return self.number
        if slot is Slot.CHANNEL:
            return self.channel.value
        if slot is Slot.CHANNEL_UPPER:
            return self.channel.value.upper()
        return self.reason


@dataclass(frozen=True)
class ByChannel:
    """Text that differs per channel (what the channel means for the broker, say)."""

    texts: tuple[tuple[Channel, str], ...]

    def text(self, channel: Channel) -> str:
        for each, text in self.texts:
            if each is channel:
                return text
        raise KeyError(channel)


@dataclass(frozen=True)
class Wrapped:
    """A paragraph with slots, wrapped to ``width`` once they are filled."""

    pieces: tuple[str | Slot, ...]
    width: int
    indent: str = ""


Piece = str | Slot | ByChannel | Wrapped
Text = tuple[Piece, ...]


def fill_text(text: Text, filling: Filling) -> str:
    return _filled(text, _values(filling), filling.channel)


def _values(filling: Filling) -> dict[Slot, str]:
    """Each slot's value, looked up once per mail rather than once per hole."""
    return {slot: filling.value(slot) for slot in Slot}


def _filled(text: Text, values: dict[Slot, str], channel: Channel) -> str:
    out: list[str] = []
    for piece in text:
        if isinstance(piece, Slot):  # before str: a Slot is a str
            out.append(values[piece])
        elif isinstance(piece, str):
            out.append(piece)
        elif isinstance(piece, ByChannel):
            out.append(piece.text(channel))
        else:
            paragraph = "".join(values[p] if isinstance(p, Slot) else p for p in piece.pieces)
            out.append(wrap.paragraph(paragraph, piece.width, piece.indent))
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

    def bytes_for(self, filling: Filling) -> bytes:
        for channel, data, offsets in self.data:
            if channel is filling.channel:
                number = filling.number.encode("ascii")
                out = bytearray(data)
                for offset in offsets:
                    out[offset : offset + len(number)] = number
                return bytes(out)
        raise KeyError(filling.channel)


Hole = Field | TextPart | Attachment


@dataclass(frozen=True)
class Template:
    """Finished bytes and holes, in order (a picklable value)."""

    pieces: tuple[bytes | Hole, ...]

    @property
    def complete(self) -> bool:
        return all(isinstance(piece, bytes) for piece in self.pieces)


def _part(headers: bytes, body: bytes) -> bytes:
    return headers + b"\r\n" + body


def fill(template: Template, filling: Filling) -> bytes:
    """The mail with ``filling``'s values in its holes."""
    out: list[bytes] = []
    values = _values(filling)
    channel = filling.channel
    for piece in template.pieces:
        if isinstance(piece, bytes):
            out.append(piece)
        elif isinstance(piece, Field):
            out.append(field(piece.name, _filled(piece.value, values, channel)))
        elif isinstance(piece, TextPart):
            part = text_part(_filled(piece.text, values, channel))
            out.append(_part(part.headers, part.body))
        else:
            part = attachment(
                piece.bytes_for(filling),
                piece.content_type,
                _filled(piece.filename, values, channel),
                dict(piece.params),
            )
            out.append(_part(part.headers, part.body))
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
