"""ISO 9735 interchanges: bytes in, checked segments out; segments in, bytes out.

``lexer`` splits the segments (release character, separators from UNA or the defaults); the
rest is done here: the syntax identifier picks the codec and the allowed
characters, the envelope is checked (UNB, one UNH..UNT message, UNZ), and the counts in UNT
and UNZ must match what was sent. Every problem is a ``DeclarationSyntaxError`` naming the
segment, never a Unicode exception.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from edi_formats.detect import strip_preamble
from edi_formats.edifact.charsets import SyntaxLevel, choose_level, level_for
from edi_formats.edifact.lexer import (
    MAX_SEGMENT_CHARS,
    MAX_SEGMENTS,
    WRITE_CHARS,
    RawSegment,
    ServiceChars,
    escape,
    parse_una,
    segments,
    serialize,
    service_chars_for,
)
from edi_formats.edifact.segments import EdiSegment, Element, trimmed
from edi_formats.errors import DeclarationSyntaxError

__all__ = [
    "MAX_EDIFACT_BYTES",
    "MAX_MESSAGES",
    "Interchange",
    "MessageType",
    "ServiceChars",
    "read_interchange",
    "split_messages",
    "write_interchange",
]

MAX_EDIFACT_BYTES: Final = 16 * 1024 * 1024
"""Largest interchange read (bounded before decoding or splitting)."""

_TAG: Final = re.compile(r"[A-Z][A-Z0-9]{2}")
_DIGITS: Final = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class MessageType:
    """S009 message identifier: type, version, release, controlling agency."""

    type: str
    version: str
    release: str
    agency: str

    def describe(self) -> str:
        return f"{self.type} {self.version}.{self.release} {self.agency}"


@dataclass(frozen=True, slots=True)
class Interchange:
    """A checked interchange holding one message."""

    level: SyntaxLevel
    syntax_version: int
    chars: ServiceChars
    has_una: bool
    sender: str
    recipient: str
    prepared: datetime
    control_reference: str
    message_reference: str
    message_type: MessageType
    association_code: str
    body: tuple[EdiSegment, ...]
    """The message's segments between UNH and UNT, numbered from 2 (UNH is 1)."""


def _error(code: str, message: str, position: str | None = None) -> DeclarationSyntaxError:
    return DeclarationSyntaxError(code, message, position)


# -- reading ------------------------------------------------------------------------------------


def _service_chars(advice: bytes) -> ServiceChars:
    chars, problem = parse_una(advice.decode("latin-1"))
    if chars is None:
        raise _error("EDI-SYNTAX", problem or "UNA no válido", "segmento UNA")
    return chars


def _segments_before(raw: bytes, chars: ServiceChars) -> int:
    """How many segments end in ``raw`` (as the lexer splits them)."""
    return sum(1 for segment in segments(raw.decode("latin-1"), chars) if segment.terminated)


def _syntax_identifier(body: bytes, chars: ServiceChars) -> tuple[str, str]:
    """UNB's S001 (identifier, version), read in ASCII before the codec is known."""
    head = body[:512].decode("latin-1")
    unb = next(segments(head, chars, limit=1), None)
    if unb is None or len(unb.elements) < 2 or (not unb.terminated and len(head) < 512):
        raise _error("EDI-ENVELOPE", "el segmento UNB está incompleto", "segmento UNB")
    s001 = unb.elements[1]
    return s001[0], s001[1] if len(s001) > 1 else ""


def _level(identifier: str, version: str) -> tuple[SyntaxLevel, int]:
    if not identifier:
        raise _error("EDI-ENVELOPE", "falta el identificador de sintaxis en UNB", "segmento UNB")
    if not version.isdigit() or len(version) > 2:
        raise _error(
            "EDI-ENVELOPE",
            f"falta o no es válida la versión de sintaxis en UNB ({identifier}:{version})",
            "segmento UNB, elemento 1",
        )
    level = level_for(identifier, int(version))
    if level is None:
        raise _error(
            "EDI-CHARSET",
            f"juego de caracteres {identifier} (sintaxis {version}) no admitido; se aceptan "
            "UNOA, UNOB, UNOC, UNOD, UNOE, UNOF (sintaxis 1 a 4) y UNOW (sintaxis 4)",
            "segmento UNB, elemento 1",
        )
    return level, int(version)


def _decode(body: bytes, level: SyntaxLevel, chars: ServiceChars) -> str:
    try:
        return body.decode(level.codec)
    except UnicodeDecodeError as exc:
        number = _segments_before(body[: exc.start], chars) + 1
        raise _error(
            "EDI-CHARSET",
            f"el byte 0x{body[exc.start]:02X} no es válido en {level.identifier} "
            f"({level.description})",
            f"segmento {number} del intercambio",
        ) from None


def _tokenize(text: str, chars: ServiceChars, level: SyntaxLevel) -> list[EdiSegment]:
    found: list[EdiSegment] = []
    for raw in segments(text, chars):
        if raw.oversized:
            raise _error(
                "EDI-LIMIT",
                f"segmento demasiado largo (máximo {MAX_SEGMENT_CHARS} caracteres)",
                f"segmento {raw.number} del intercambio ({raw.tag[:3]})",
            )
        if not raw.terminated:
            after = f" (después de {found[-1].tag})" if found else ""
            raise _error(
                "EDI-SYNTAX",
                f"el segmento no termina con {chars.terminator!r}",
                f"segmento {raw.number} del intercambio{after}",
            )
        found.append(_segment(raw, level))
    return found


def _segment(raw: RawSegment, level: SyntaxLevel) -> EdiSegment:
    tag, number = raw.tag, raw.number
    if len(raw.elements[0]) > 1 or not _TAG.fullmatch(tag):
        shown = ":".join(raw.elements[0])
        what = "un segmento vacío" if not shown else f"etiqueta {shown[:10]!r}"
        raise _error(
            "EDI-SYNTAX",
            f"{what}: una etiqueta de segmento son tres letras o cifras en mayúsculas",
            f"segmento {number} del intercambio",
        )
    elements: tuple[Element, ...] = tuple(
        value[0] if len(value) == 1 else tuple(value) for value in raw.elements[1:]
    )
    segment = EdiSegment(tag, elements, number, in_message=False)
    # One search over the values joined by a space (which every level allows) finds the
    # first character the level refuses, as a search of each value in turn would.
    bad = level.first_forbidden(" ".join(segment.values()))
    if bad is not None:
        raise _error(
            "EDI-CHARSET",
            f"el carácter {bad!r} (U+{ord(bad):04X}) no está permitido en "
            f"{level.identifier} ({level.description})",
            segment.where(),
        )
    return segment


def read_interchange(data: bytes, expected: MessageType) -> Interchange:
    """The one message of the interchange in ``data``, checked; DeclarationSyntaxError if not."""
    if len(data) > MAX_EDIFACT_BYTES:
        raise _error(
            "EDI-LIMIT", f"intercambio demasiado grande (máximo {MAX_EDIFACT_BYTES} bytes)"
        )
    data = strip_preamble(data)
    if not data:
        raise _error("FMT-EMPTY", "el documento está vacío")
    has_una = data.startswith(b"UNA")
    if has_una:
        _service_chars(data[3:9])  # an unusable UNA is an error here, not a fallback
    lexed = service_chars_for(data[:64].decode("latin-1"))
    chars = lexed.chars
    body = data[lexed.body :]
    if not body.startswith(b"UNB"):
        raise _error(
            "EDI-ENVELOPE",
            "un intercambio empieza con UNB (precedido o no de UNA)",
            "segmento 1 del intercambio",
        )
    if body[3:4] != chars.data.encode("latin-1"):
        raise _error(
            "EDI-SYNTAX",
            f"tras la etiqueta UNB debe ir el separador de elementos {chars.data!r}",
            "segmento 1 del intercambio (UNB)",
        )
    identifier, version = _syntax_identifier(body, chars)
    level, syntax_version = _level(identifier, version)
    text = _decode(body, level, chars)
    if "\x00" in text:
        raise _error("EDI-CHARSET", "el intercambio contiene caracteres nulos (0x00)")
    if text.count(chars.terminator) > MAX_SEGMENTS:
        raise _error("EDI-LIMIT", f"demasiados segmentos (máximo {MAX_SEGMENTS})")
    return _check_envelope(
        _tokenize(text, chars, level), level, syntax_version, chars, has_una, expected
    )


def _element_text(segment: EdiSegment, element: int, what: str, max_length: int) -> str:
    value = segment.get(element)
    if not value:
        raise _error("EDI-ENVELOPE", f"falta {what} en {segment.tag}", segment.where(element))
    if len(value) > max_length:
        raise _error(
            "EDI-ENVELOPE",
            f"{what} en {segment.tag} es demasiado largo (máximo {max_length})",
            segment.where(element),
        )
    return value


def _prepared(unb: EdiSegment, syntax_version: int) -> datetime:
    day, clock = unb.get(4, 1), unb.get(4, 2)
    digits = 8 if syntax_version >= 4 else 6
    if len(day) != digits or not day.isdigit() or len(clock) != 4 or not clock.isdigit():
        shape = "AAAAMMDD" if digits == 8 else "AAMMDD"
        raise _error(
            "EDI-ENVELOPE",
            f"fecha y hora de preparación no válidas en UNB ({day}:{clock}); "
            f"se espera {shape}:HHMM",
            unb.where(4),
        )
    try:
        return datetime.strptime(day + clock, ("%Y%m%d" if digits == 8 else "%y%m%d") + "%H%M")
    except ValueError:
        raise _error(
            "EDI-ENVELOPE", f"fecha u hora imposible en UNB ({day}:{clock})", unb.where(4)
        ) from None


def _count(segment: EdiSegment, what: str) -> int:
    value = segment.get(1)
    if not _DIGITS.fullmatch(value) or len(value) > 6:  # 0074 and 0036 are n..6
        raise _error(
            "EDI-COUNT",
            f"{segment.tag} debe declarar {what} con cifras (dice {value!r})",
            segment.where(1),
        )
    return int(value)


def _check_envelope(
    segments: list[EdiSegment],
    level: SyntaxLevel,
    syntax_version: int,
    chars: ServiceChars,
    has_una: bool,
    expected: MessageType,
) -> Interchange:
    unb = segments[0]
    if unb.tag != "UNB":  # pragma: no cover - the bytes were checked to start with UNB
        raise _error("EDI-ENVELOPE", "falta el segmento UNB", unb.where())
    sender = _element_text(unb, 2, "el remitente (S002)", 35)
    recipient = _element_text(unb, 3, "el destinatario (S003)", 35)
    prepared = _prepared(unb, syntax_version)
    control = _element_text(unb, 5, "la referencia de control (0020)", 14)
    index = 1
    if index >= len(segments):
        raise _error(
            "EDI-TRUNCATED",
            "el intercambio termina después de UNB, sin mensaje ni UNZ",
            "después del segmento UNB",
        )
    unh = segments[index]
    if unh.tag in ("UNG", "UNE"):
        raise _error(
            "EDI-ENVELOPE",
            "grupo funcional incompleto: cada UNG se cierra con un UNE con su referencia y "
            "el número de sus mensajes, y UNZ cuenta los grupos",
            unh.where(),
        )
    if unh.tag == "UNZ":
        raise _error("EDI-ENVELOPE", "el intercambio no contiene ningún mensaje", unh.where())
    if unh.tag != "UNH":
        raise _error("EDI-ENVELOPE", f"se esperaba UNH después de UNB, no {unh.tag}", unh.where())
    reference = _element_text(unh, 1, "la referencia del mensaje (0062)", 14)
    found = MessageType(unh.get(2, 1), unh.get(2, 2), unh.get(2, 3), unh.get(2, 4))
    if found != expected:
        raise _error(
            "EDI-MESSAGE",
            f"mensaje {found.describe().strip() or 'sin identificar'}: "
            f"se espera {expected.describe()}",
            unh.where(2),
        )
    body: list[EdiSegment] = []
    index += 1
    while index < len(segments) and segments[index].tag not in ("UNT", "UNH", "UNZ"):
        raw = segments[index]
        body.append(EdiSegment(raw.tag, raw.elements, len(body) + 2))
        index += 1
    if index >= len(segments):
        raise _error(
            "EDI-TRUNCATED",
            "el mensaje termina sin UNT ni UNZ: el intercambio llegó incompleto",
            f"después del segmento {len(body) + 1} del mensaje",
        )
    unt = segments[index]
    if unt.tag != "UNT":
        raise _error(
            "EDI-ENVELOPE",
            f"falta UNT: el mensaje {reference} no se cierra antes de {unt.tag}",
            unt.where(),
        )
    unt = EdiSegment(unt.tag, unt.elements, len(body) + 2)
    declared = _count(unt, "el número de segmentos del mensaje")
    actual = len(body) + 2
    if declared != actual:
        raise _error(
            "EDI-COUNT",
            f"UNT declara {declared} segmentos, pero el mensaje tiene {actual} (de UNH a UNT)",
            unt.where(1),
        )
    if unt.get(2) != reference:
        raise _error(
            "EDI-ENVELOPE",
            f"la referencia de UNT ({unt.get(2)!r}) no es la de UNH ({reference!r})",
            unt.where(2),
        )
    index += 1
    if index >= len(segments):
        raise _error("EDI-TRUNCATED", "el intercambio termina sin UNZ", "después del segmento UNT")
    unz = segments[index]
    if unz.tag == "UNH":
        raise _error(
            "EDI-COUNT",
            "el intercambio trae más de un mensaje: se responden uno por uno cuando UNZ "
            "declara cuántos son (y cada UNE los de su grupo)",
            unz.where(),
        )
    if unz.tag != "UNZ":
        raise _error("EDI-ENVELOPE", f"se esperaba UNZ después de UNT, no {unz.tag}", unz.where())
    messages = _count(unz, "el número de mensajes")
    if messages != 1:
        raise _error(
            "EDI-COUNT",
            f"UNZ declara {messages} mensajes, pero el intercambio trae 1",
            unz.where(1),
        )
    if unz.get(2) != control:
        raise _error(
            "EDI-ENVELOPE",
            f"la referencia de control de UNZ ({unz.get(2)!r}) no es la de UNB ({control!r})",
            unz.where(2),
        )
    if index + 1 < len(segments):
        raise _error("EDI-ENVELOPE", "hay segmentos después de UNZ", segments[index + 1].where())
    return Interchange(
        level=level,
        syntax_version=syntax_version,
        chars=chars,
        has_una=has_una,
        sender=sender,
        recipient=recipient,
        prepared=prepared,
        control_reference=control,
        message_reference=reference,
        message_type=found,
        association_code=unh.get(2, 5),
        body=tuple(body),
    )


# -- several messages -------------------------------------------------------------------------

MAX_MESSAGES: Final = 100
"""Messages of one interchange answered one by one; an interchange with more is read whole."""


def split_messages(data: bytes) -> list[bytes] | None:
    """One interchange per message when ``data`` holds several, or a functional group.

    Each part keeps the UNA, the UNB (so its control reference) and the message's own
    segments as sent, closed by ``UNZ+1`` with the same reference, so that every message is
    read, validated and answered on its own. UNG/UNE are checked and dropped. None when
    ``data`` holds one message without a group, or is too broken to split (it is then read
    whole, and its errors reported): the UNZ count must match what was sent.
    """
    if len(data) > MAX_EDIFACT_BYTES:
        return None
    text = strip_preamble(data).decode("latin-1")
    if text.count("UNH") < 2 and "UNG" not in text:
        # One message at most, and no group, whatever the separators: nothing to split,
        # and lexing it took a tenth of the time a small interchange takes to read.
        return None
    lexed = service_chars_for(text)
    if text.count(lexed.chars.terminator) > MAX_SEGMENTS:
        return None  # read whole, and refused for it
    found = list(segments(text, lexed.chars, lexed.body))
    if not found or found[0].tag != "UNB" or not all(s.terminated for s in found):
        return None
    tags = [segment.tag for segment in found]
    if tags[-1] != "UNZ" or tags.count("UNZ") != 1 or tags.count("UNB") != 1:
        return None
    starts = [index for index, tag in enumerate(tags) if tag == "UNH"]
    groups = tags.count("UNG")
    if (len(starts) < 2 and not groups) or len(starts) > MAX_MESSAGES:
        return None
    unz = found[-1].elements
    reference = found[0].elements[5][0] if len(found[0].elements) > 5 else ""
    declared = unz[1][0] if len(unz) > 1 else ""
    if declared != str(groups or len(starts)) or (unz[2][0] if len(unz) > 2 else "") != reference:
        return None
    if not _groups_closed(found):
        return None
    chars = lexed.chars
    head = text[: found[0].end]
    closing = f"UNZ{chars.data}1{chars.data}{escape(reference, chars)}{chars.terminator}"
    parts: list[bytes] = []
    for start in starts:
        end = next((i for i in range(start + 1, len(tags)) if tags[i] in ("UNT", "UNH")), None)
        if end is None or tags[end] != "UNT":
            return None
        body = text[found[start].offset : found[end].end]
        parts.append((head + "\r\n" + body + "\r\n" + closing + "\r\n").encode("latin-1"))
    return parts


def _groups_closed(found: list[RawSegment]) -> bool:
    """Every UNG is closed by an UNE with its reference and count of messages."""
    open_group: RawSegment | None = None
    messages = 0
    for segment in found:
        if segment.tag == "UNG":
            if open_group is not None:
                return False
            open_group, messages = segment, 0
        elif segment.tag == "UNH":
            messages += 1
        elif segment.tag == "UNE":
            if open_group is None:
                return False
            reference = open_group.elements[5][0] if len(open_group.elements) > 5 else ""
            count = segment.elements[1][0] if len(segment.elements) > 1 else ""
            closes = segment.elements[2][0] if len(segment.elements) > 2 else ""
            if count != str(messages) or closes != reference:
                return False
            open_group = None
    return open_group is None


# -- writing ------------------------------------------------------------------------------------


SegmentSpec = tuple[str, Sequence[Element | None]]
"""A segment to write: its tag and its elements (None and trailing empties are left out)."""


def write_interchange(
    *,
    sender: tuple[str, str],
    recipient: tuple[str, str],
    prepared: datetime,
    control_reference: str,
    message_type: MessageType,
    body: Sequence[SegmentSpec],
    message_reference: str = "1",
) -> bytes:
    """One message in an interchange: UNA, UNB, UNH, ``body``, UNT, UNZ, a segment per line.

    The syntax level is the plainest that carries every value (``choose_level``); the UNB date
    has six digits up to syntax version 3 and eight from version 4, as ISO 9735 says.
    """
    written = [(tag, trimmed(elements)) for tag, elements in body]
    values = [sender[0], recipient[0], control_reference]
    for _, elements in written:
        for value in elements:
            values.extend([value] if isinstance(value, str) else value)
    level, version = choose_level(values)
    day = f"{prepared:%Y%m%d}" if version >= 4 else f"{prepared:%y%m%d}"
    header: list[tuple[str, list[str | list[str]]]] = [
        (
            "UNB",
            [
                [level.identifier, str(version)],
                list(sender),
                list(recipient),
                [day, f"{prepared:%H%M}"],
                control_reference,
            ],
        ),
        (
            "UNH",
            [
                message_reference,
                [
                    message_type.type,
                    message_type.version,
                    message_type.release,
                    message_type.agency,
                ],
            ],
        ),
    ]
    trailer: list[tuple[str, list[str | list[str]]]] = [
        ("UNT", [str(len(written) + 2), message_reference]),
        ("UNZ", ["1", control_reference]),
    ]
    return serialize([*header, *written, *trailer], WRITE_CHARS).encode(level.codec)
