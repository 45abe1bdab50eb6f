"""The one EDIFACT lexer: service characters, segments, elements, and where each one stood.

Everything that splits an interchange uses this module: the strict reader (``syntax``), the
best-effort identity of an unreadable document (``identity``), the light looks of the mail
extractor (``scan``) and the writer (``serialize``). So they agree on what ISO 9735 says:

- a UNA service string advice sets the six service characters; without it, level B (UNOB)
  uses the information separators IS1/IS3/IS4 and every other level ``:+.? '``;
- a release character in the UNA position of a space means "no release character";
- a released separator is data, and so is a released release character;
- line breaks between segments are not part of them.

Splitting is ``str.split`` on the terminator, with released terminators glued back; a segment
without a release character in it is split with ``str.split`` too, and only the rare segment
holding one walks character by character. That is several times faster than a tokenizer that
walks every character (``bench/edifact_read.py`` measures it against pydifact's).

The lexer never raises: a segment keeps its offset, so the caller can say where a problem is
(``line_and_column``), and an unterminated tail is returned flagged, not dropped. A segment
longer than ``MAX_SEGMENT_CHARS`` is returned flagged too, with its tag alone, and ends the
segments: split, one of 14 MB of data separators made 14 million lists (1.2 GB, 42 s), and
14 MB of released terminators cost 37 s to find its end, in every reader of the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_CHARS",
    "LEVEL_B_CHARS",
    "MAX_SEGMENTS",
    "MAX_SEGMENT_CHARS",
    "WRITE_CHARS",
    "Lexed",
    "RawSegment",
    "ServiceChars",
    "escape",
    "lex",
    "line_and_column",
    "parse_una",
    "segments",
    "serialize",
    "service_chars_for",
]


@dataclass(frozen=True, slots=True)
class ServiceChars:
    """The six characters of a UNA service string advice (release None: there is none)."""

    component: str = ":"
    data: str = "+"
    decimal: str = "."
    release: str | None = "?"
    reserved: str = " "
    terminator: str = "'"

    def advice(self) -> str:
        release = self.release or " "
        return (
            f"UNA{self.component}{self.data}{self.decimal}{release}{self.reserved}{self.terminator}"
        )


DEFAULT_CHARS: Final = ServiceChars(decimal=",")
"""ISO 9735 defaults when there is no UNA (level A and the levels after B)."""

LEVEL_B_CHARS: Final = ServiceChars(
    component="\x1f", data="\x1d", decimal=",", release=None, terminator="\x1c"
)
"""Level B's defaults without UNA: the information separators IS1, IS3 and IS4."""

WRITE_CHARS: Final = ServiceChars()
"""What this gateway writes, always announced in a UNA: ``UNA:+.? '``."""

_BETWEEN: Final = "\r\n"
"""Characters tolerated between segments (a segment per line)."""

MAX_SEGMENTS: Final = 500_000
"""Most segments read from one interchange (10 000 series of 50 segments; a flat file has
the same bound on its records), counted by their terminators before any is split: 3.5
million empty segments took over a minute to read."""

MAX_SEGMENT_CHARS: Final = 8192
"""Longest segment split, its terminator apart. CUSDEC's longest (FTX: five texts of 512
characters) is under 3 000 even with every character released; a flat file's line has the
same bound."""


@dataclass(frozen=True, slots=True)
class RawSegment:
    """One segment as split: its elements (each a list of components), where it starts.

    ``elements[0][0]`` is the tag as written (the caller checks it). ``terminated`` is False for
    a tail after the last terminator, which a complete interchange does not have.
    """

    elements: list[list[str]]
    offset: int
    end: int
    """Offset just after the terminator (or the tail's end)."""
    number: int
    terminated: bool = True
    oversized: bool = False
    """Longer than ``MAX_SEGMENT_CHARS``: ``elements`` holds its tag alone, and it is the last
    segment returned."""

    @property
    def tag(self) -> str:
        return self.elements[0][0] if self.elements and self.elements[0] else ""


@dataclass(frozen=True, slots=True)
class Lexed:
    """Where the segments of an interchange begin and with which service characters."""

    chars: ServiceChars
    has_una: bool
    body: int
    """Offset of the first segment after the UNA (0 without UNA)."""
    una_error: str | None = None
    """Why the UNA could not be used, when it could not (the defaults then apply)."""


def parse_una(advice: str) -> tuple[ServiceChars | None, str | None]:
    """The service characters of the six characters after ``UNA``, or why they are unusable."""
    if len(advice) != 6:
        return None, "la cadena de servicio UNA está incompleta"
    if not advice.isascii():
        return None, "la cadena de servicio UNA debe estar en ASCII"
    component, data, decimal, release, reserved, terminator = (advice[i] for i in range(6))
    separators = [component, data, terminator] + ([release] if release != " " else [])
    if len(set(separators)) != len(separators) or any(
        char.isalnum() or char == " " for char in separators
    ):
        return None, (
            f"caracteres de servicio no válidos en UNA ({advice!r}): los separadores y el "
            "carácter de escape deben ser distintos y no pueden ser letras, cifras ni espacio"
        )
    if decimal not in ".,":
        return None, f"la marca decimal de UNA debe ser '.' o ',' (es {decimal!r})"
    chars = ServiceChars(
        component, data, decimal, None if release == " " else release, reserved, terminator
    )
    return chars, None


def service_chars_for(text: str, start: int = 0) -> Lexed:
    """The service characters of the interchange at ``text[start:]``: UNA, or the defaults.

    A UNA that cannot be used is reported in ``una_error`` and the defaults apply, so a
    best-effort reader still finds something.
    """
    if text.startswith("UNA", start):
        chars, problem = parse_una(text[start + 3 : start + 9])
        body = start + 9
        while body < len(text) and text[body] in " \r\n":
            body += 1
        if chars is not None:
            return Lexed(chars, True, body)
        return Lexed(DEFAULT_CHARS, True, body, problem)
    if text[start + 3 : start + 4] == LEVEL_B_CHARS.data:
        return Lexed(LEVEL_B_CHARS, False, start)
    return Lexed(DEFAULT_CHARS, False, start)


def _released(text: str, found: int, start: int, release: str) -> bool:
    """Whether an odd run of release characters precedes ``text[found]`` (so it is data)."""
    at = found - 1
    while at >= start and text[at] == release:
        at -= 1
    return (found - 1 - at) % 2 == 1


def _split_released(text: str, chars: ServiceChars) -> list[list[str]]:
    """Elements and components of one segment holding a release character."""
    release = chars.release
    elements: list[list[str]] = []
    components: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == release:
            escaped = True
        elif char == chars.data:
            components.append("".join(current))
            elements.append(components)
            components, current = [], []
        elif char == chars.component:
            components.append("".join(current))
            current = []
        else:
            current.append(char)
    components.append("".join(current))
    elements.append(components)
    return elements


def _elements(text: str, chars: ServiceChars) -> list[list[str]]:
    if chars.release is not None and chars.release in text:
        return _split_released(text, chars)
    component = chars.component
    return [element.split(component) for element in text.split(chars.data)]


def _oversized(
    text: str, chars: ServiceChars, offset: int, number: int, *, terminated: bool
) -> RawSegment:
    """A segment too long to split: its tag alone (as far as a tag can be told), flagged."""
    tag = text[offset : offset + 8].split(chars.data, 1)[0].split(chars.component, 1)[0]
    end = offset + MAX_SEGMENT_CHARS
    return RawSegment([[tag]], offset, end, number, terminated, oversized=True)


def segments(
    text: str,
    chars: ServiceChars,
    start: int = 0,
    end: int | None = None,
    *,
    limit: int | None = None,
) -> Iterator[RawSegment]:
    """The segments of ``text[start:end]`` in order (at most ``limit`` of them).

    Line breaks before a segment are skipped. Anything after the last terminator that is not
    blank comes last, with ``terminated`` False.
    """
    stop = len(text) if end is None else end
    terminator, release = chars.terminator, chars.release
    offset = start
    number = 0
    while offset < stop:
        while offset < stop and text[offset] in _BETWEEN:
            offset += 1
        if offset >= stop:
            return
        found = text.find(terminator, offset, stop)
        if release is not None:
            while 0 <= found <= offset + MAX_SEGMENT_CHARS and _released(
                text, found, offset, release
            ):
                found = text.find(terminator, found + 1, stop)
        number += 1
        if found > offset + MAX_SEGMENT_CHARS:
            yield _oversized(text, chars, offset, number, terminated=True)
            return
        if found < 0:
            tail = text[offset:stop].rstrip(" \t\r\n")
            if len(tail) > MAX_SEGMENT_CHARS:
                yield _oversized(text, chars, offset, number, terminated=False)
            elif tail.strip(" \t"):
                yield RawSegment(_elements(tail, chars), offset, offset + len(tail), number, False)
            return
        yield RawSegment(_elements(text[offset:found], chars), offset, found + 1, number)
        if limit is not None and number >= limit:
            return
        offset = found + 1


def lex(text: str) -> tuple[Lexed, list[RawSegment]]:
    """Service characters and every segment of the interchange ``text`` starts with."""
    lexed = service_chars_for(text)
    return lexed, list(segments(text, lexed.chars, lexed.body))


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``, for a broker reading an editor."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# -- writing ----------------------------------------------------------------------------------


def _escaper(chars: ServiceChars) -> Callable[[str], str]:
    """A function releasing every service character of ``chars`` in a value."""
    release = chars.release
    if release is None:
        return str
    specials = {release, chars.component, chars.data, chars.terminator}
    pattern = re.compile("[" + "".join(re.escape(char) for char in sorted(specials)) + "]")
    replacement = release.replace("\\", "\\\\") + r"\g<0>"
    search, substitute = pattern.search, pattern.sub

    def escaped(value: str) -> str:
        return substitute(replacement, value) if search(value) else value

    return escaped


def escape(value: str, chars: ServiceChars) -> str:
    """``value`` with every service character released (as is, without a release character)."""
    return _escaper(chars)(value)


Written = str | Sequence[str]
"""A data element to write: a simple value or its components."""


def serialize(
    tagged: Iterable[tuple[str, Sequence[Written]]],
    chars: ServiceChars = WRITE_CHARS,
    *,
    newline: str = "\r\n",
) -> str:
    """UNA and the segments, one per line; trailing empty elements and components left out."""
    escaped = _escaper(chars)
    component, data, end = chars.component, chars.data, chars.terminator + newline
    lines = [chars.advice(), newline]
    for tag, elements in tagged:
        written = [tag]
        for value in elements:
            if isinstance(value, str):
                written.append(escaped(value))
                continue
            parts = list(value)
            while parts and parts[-1] == "":
                parts.pop()
            written.append(component.join([escaped(part) for part in parts]))
        while len(written) > 1 and written[-1] == "":
            written.pop()
        lines.append(data.join(written))
        lines.append(end)
    return "".join(lines)
