"""Text encodings of the era: how declaration bytes become text.

Agents' software in 1997 wrote DOS code page 850 or Windows 1252; Unix mailers wrote
ISO-8859-1; some wrote plain ASCII. A document may declare its encoding (the flat file's
envelope record does); when it does not, ``decode_text`` guesses, by the rule documented in
docs/formats.md ("Encodings") and implemented in ``guess_encoding``.
"""

from __future__ import annotations

import re
from typing import Final

from edi_formats.errors import DeclarationSyntaxError

__all__ = [
    "ACCEPTED_ENCODINGS",
    "canonical_encoding",
    "decode_text",
    "guess_encoding",
]

ACCEPTED_ENCODINGS: Final[dict[str, str]] = {
    "ASCII": "ascii",
    "ISO-8859-1": "iso-8859-1",
    "CP850": "cp850",
    "CP1252": "cp1252",
    "UTF-8": "utf-8",
}
"""Canonical name (as written in documents) -> Python codec."""

_ALIASES: Final[dict[str, str]] = {
    "US-ASCII": "ASCII",
    "ASCII": "ASCII",
    "ISO-8859-1": "ISO-8859-1",
    "ISO8859-1": "ISO-8859-1",
    "ISO88591": "ISO-8859-1",
    "LATIN1": "ISO-8859-1",
    "LATIN-1": "ISO-8859-1",
    "CP850": "CP850",
    "IBM850": "CP850",
    "850": "CP850",
    "CP1252": "CP1252",
    "WINDOWS-1252": "CP1252",
    "1252": "CP1252",
    "UTF-8": "UTF-8",
    "UTF8": "UTF-8",
}

_SPANISH_LETTERS: Final = frozenset("áéíóúüñÁÉÍÓÚÜÑ")
_OPENING_MARKS: Final = frozenset("¿¡")
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")


def canonical_encoding(label: str) -> str | None:
    """The canonical name for an encoding label (case and common aliases tolerated)."""
    return _ALIASES.get(label.strip().upper())


def _is_letter(char: str) -> bool:
    return ("A" <= char <= "Z") or ("a" <= char <= "z") or char in _SPANISH_LETTERS


def _spanish_score(text: str) -> int:
    """How Spanish the non-ASCII characters of ``text`` look.

    A point for each accented letter or ñ next to another letter (inside a word), and for
    each ¿ or ¡ opening a word (a letter after it, none before). Other non-ASCII characters
    score nothing.
    """
    score = 0
    last = len(text) - 1
    for match in _NON_ASCII.finditer(text):
        index = match.start()
        char = text[index]
        before = text[index - 1] if index > 0 else ""
        after = text[index + 1] if index < last else ""
        letter_before = bool(before) and _is_letter(before)
        letter_after = bool(after) and _is_letter(after)
        if char in _SPANISH_LETTERS:
            if letter_before or letter_after:
                score += 1
        elif char in _OPENING_MARKS and letter_after and not letter_before:
            score += 1
    return score


def guess_encoding(data: bytes) -> str:
    """Canonical name of the encoding ``data`` is most likely in (never fails).

    ASCII if every byte is below 0x80; else UTF-8 if it decodes strictly as UTF-8; else CP850
    if its Spanish score beats CP1252's (and CP1252 when it cannot decode the bytes);
    otherwise CP1252, which also reads ISO-8859-1 text the same for every printable byte.
    """
    if data.isascii():
        return "ASCII"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "UTF-8"
    as_850 = data.decode("cp850")
    try:
        as_1252 = data.decode("cp1252")
    except UnicodeDecodeError:
        return "CP850"
    if _spanish_score(as_850) > _spanish_score(as_1252):
        return "CP850"
    return "CP1252"


def decode_text(data: bytes, declared: str | None) -> tuple[str, str]:
    """Decode ``data`` in its declared encoding, or the guessed one when none is declared.

    Returns ``(text, canonical encoding name)``. A declared encoding that is unknown, or
    that the bytes do not follow, raises FMT-ENCODING naming the line of the first bad byte.
    """
    if declared is None:
        name = guess_encoding(data)
    else:
        canonical = canonical_encoding(declared)
        if canonical is None:
            accepted = ", ".join(ACCEPTED_ENCODINGS)
            raise DeclarationSyntaxError(
                "FMT-ENCODING",
                f"codificación declarada desconocida: {declared!r}; se aceptan {accepted}",
            )
        name = canonical
    try:
        return data.decode(ACCEPTED_ENCODINGS[name]), name
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DeclarationSyntaxError(
            "FMT-ENCODING",
            f"el texto no está en la codificación declarada {name}: "
            f"byte 0x{data[exc.start]:02X} no válido",
            f"línea {line}",
        ) from exc
