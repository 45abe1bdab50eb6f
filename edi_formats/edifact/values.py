"""Element values: reading them strictly (with the segment's position), writing them canonically.

ISO 9735 numbers are digits with an optional leading minus and one decimal mark (either ``.``
or ``,`` is read, whatever UNA announced; ``.`` is written), without exponent or thousands
separators; their length counts digits only. Dates here are ``CCYYMMDD`` (2379 = 102). Free
text longer than an element spreads over components and segments and is joined back exactly.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Final

from edi_formats.edifact.segments import EdiSegment
from edi_formats.errors import DeclarationSyntaxError

__all__ = [
    "FTX_PART",
    "FTX_PARTS",
    "date_value",
    "decimal_value",
    "format_date",
    "format_decimal",
    "integer_value",
    "split_text",
    "text_value",
]

FTX_PART: Final = 70
"""4440 free text: an..70."""

FTX_PARTS: Final = 5
"""C108 holds up to five 4440 components."""

_NUMBER: Final = re.compile(r"-?(\d+)(?:[.,](\d+))?")
_DATE: Final = re.compile(r"\d{8}")


def _error(
    segment: EdiSegment, element: int, component: int, message: str
) -> DeclarationSyntaxError:
    return DeclarationSyntaxError("EDI-VALUE", message, segment.where(element, component))


def text_value(
    segment: EdiSegment, element: int, component: int = 1, *, max_length: int, what: str
) -> str | None:
    """The text in one component, None when absent; longer than the element allows is refused."""
    value = segment.get(element, component)
    if not value:
        return None
    if len(value) > max_length:
        raise _error(
            segment,
            element,
            component,
            f"{what}: demasiado largo para el elemento (máximo {max_length} caracteres)",
        )
    return value


def decimal_value(
    segment: EdiSegment, element: int, component: int = 1, *, max_digits: int, what: str
) -> Decimal | None:
    """A numeric component as a Decimal (scale kept), None when absent."""
    value = segment.get(element, component)
    if not value:
        return None
    found = _NUMBER.fullmatch(value)
    if found is None:
        raise _error(
            segment,
            element,
            component,
            f"{what}: {value!r} no es un número (cifras, signo menos opcional y una marca decimal)",
        )
    digits = len(found.group(1)) + len(found.group(2) or "")
    if digits > max_digits:
        raise _error(segment, element, component, f"{what}: más de {max_digits} cifras")
    return Decimal(value.replace(",", "."))


def integer_value(
    segment: EdiSegment, element: int, component: int = 1, *, max_digits: int, what: str
) -> int | None:
    """A whole number, None when absent."""
    number = decimal_value(segment, element, component, max_digits=max_digits, what=what)
    if number is None:
        return None
    raw = segment.get(element, component)
    if "." in raw or "," in raw:
        raise _error(segment, element, component, f"{what}: se espera un número entero")
    return int(number)


def date_value(segment: EdiSegment, *, what: str) -> date:
    """The date of a DTM segment: C507 with 2380 in format 2379 = 102 (CCYYMMDD)."""
    value, shape = segment.get(1, 2), segment.get(1, 3)
    if shape not in ("", "102"):
        raise _error(
            segment, 1, 3, f"{what}: formato de fecha {shape} no admitido; se espera 102 (CCYYMMDD)"
        )
    if not _DATE.fullmatch(value):
        raise _error(segment, 1, 2, f"{what}: {value!r} no es una fecha CCYYMMDD")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise _error(segment, 1, 2, f"{what}: la fecha {value} no existe") from None


def format_decimal(value: Decimal) -> str:
    """A Decimal as ISO 9735 writes numbers: no exponent, the scale kept, ``.`` as the mark."""
    return format(value, "f")


def format_date(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def split_text(text: str, size: int, parts: int | None = None) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters (``parts`` of them, if given).

    A piece ends after the last space that fits (a word is not cut: ``no es`` | ``válido``),
    or at ``size`` characters when a word is longer. Pieces are rejoined without separator,
    so every space survives exactly. The caller checks that the text fits when ``parts`` is
    a hard limit (names: 35 characters a line, so a word may still be cut there).
    """
    pieces: list[str] = []
    start = 0
    while len(text) - start > size:
        space = text.rfind(" ", start, start + size)
        end = space + 1 if space >= start and parts is None else start + size
        pieces.append(text[start:end])
        start = end
    if start < len(text) or not pieces:
        pieces.append(text[start:])
    if parts is not None:
        return pieces[:parts]
    return pieces
