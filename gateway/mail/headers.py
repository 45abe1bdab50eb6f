"""Header fields as bytes: RFC 5322 folding, RFC 2047 encoded words for what is not ASCII.

A field is written ``Name: value`` and folded at whitespace so no line passes 78 characters
where a space allows it (RFC 5322 §2.2.3: a fold is a CRLF before existing whitespace). A
word with characters outside printable ASCII goes out as UTF-8 encoded words (``=?utf-8?q?``,
RFC 2047 §4.2), at most 75 characters each (§2), consecutive such words encoded together so
the spaces between them survive (§6.2 drops whitespace between adjacent encoded words).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["LINE", "address_field", "field", "ids_field"]

LINE: Final = 78
"""RFC 5322 §2.1.1: lines SHOULD be no more than 78 characters, CRLF excluded."""
_ENCODED_MAX: Final = 75
_PREFIX: Final = "=?utf-8?q?"
_SUFFIX: Final = "?="
_PLAIN_WORD: Final = re.compile(r"^[\x21-\x7e]*$")
_ATOM_PHRASE: Final = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")
_Q_SAFE: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
"""RFC 2047 §5 (3): the characters an encoded word in a phrase may carry as they are."""


def _q(char: str) -> str:
    """One character in Q encoding (RFC 2047 §4.2), its UTF-8 octets kept together."""
    if char == " ":
        return "_"
    data = char.encode("utf-8")
    if len(data) == 1 and data[0] in _Q_SAFE:
        return char
    return "".join(f"={octet:02X}" for octet in data)


def _needs_encoding(word: str) -> bool:
    return not _PLAIN_WORD.match(word) or "=?" in word


def _tokens(value: str) -> list[tuple[str, bool]]:
    """The value as folding units: literal words, and runs of words that need encoding
    (encoded together, so their spaces are inside the encoded text), marked True."""
    tokens: list[tuple[str, bool]] = []
    run: list[str] = []
    for word in value.split(" "):
        if _needs_encoding(word):
            run.append(word)
            continue
        if run:
            tokens.append((" ".join(run), True))
            run = []
        tokens.append((word, False))
    if run:
        tokens.append((" ".join(run), True))
    return tokens


_WRAPPING: Final = len(_PREFIX) + len(_SUFFIX)
_MIN_ENCODED: Final = 9
"""An encoded word is not started on a line with room for fewer than three characters."""
_ENCODED_LINE: Final = 76


def _fold(name: str, tokens: list[tuple[str, bool]]) -> bytes:
    """``Name: tokens`` folded before a space wherever a line would pass 78 characters;
    encoded runs are cut into encoded words that fill the lines."""
    lines: list[str] = []
    line = f"{name}:"

    def room() -> int:  # RFC 2047 §2: a line with an encoded word is at most 76
        return (_ENCODED_LINE if "=?" in line else LINE) - len(line) - 1

    for text, encode in tokens:
        if not encode:
            if room() < len(text) and line.strip() and not line.endswith(":"):
                lines.append(line)
                line = ""
            line += f" {text}"
            continue
        pieces = [_q(char) for char in text]
        while pieces:
            space = min(_ENCODED_LINE - len(line) - 1, _ENCODED_MAX) - _WRAPPING
            if space < _MIN_ENCODED:
                lines.append(line)
                line = ""
                space = _ENCODED_MAX - _WRAPPING
            taken = ""
            while pieces and len(taken) + len(pieces[0]) <= space:
                taken += pieces.pop(0)
            line += f" {_PREFIX}{taken}{_SUFFIX}"
    lines.append(line)
    # ASCII but for an address outside it, written in UTF-8 as RFC 6532 allows.
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def field(name: str, value: str) -> bytes:
    """An unstructured field (Subject, X-...): folded, encoded where not ASCII.

    Line breaks and runs of whitespace in ``value`` become single spaces: a header value is
    one logical line.
    """
    value = " ".join(value.split())
    # No word needs encoding (``_needs_encoding``): the words are printable ASCII without
    # "=?", and what joins them is a space (checked on the whole value at once: cheaper).
    if value.isascii() and value.isprintable() and "=?" not in value + name:
        if len(name) + 2 + len(value) <= LINE:
            return f"{name}: {value}\r\n".encode("ascii")
        return _fold(name, [(word, False) for word in value.split(" ")])  # none to encode
    return _fold(name, _tokens(value))


def _phrase(display: str) -> list[tuple[str, bool]]:
    """A display name (RFC 5322 §3.2.5): atoms, a quoted string, or encoded words."""
    display = " ".join(display.split())
    if _ATOM_PHRASE.match(display) and "=?" not in display:
        return [(word, False) for word in display.split(" ")]
    if display.isascii() and display.isprintable():
        quoted = display.replace("\\", "\\\\").replace('"', '\\"')
        return [(f'"{quoted}"', False)]
    return [(display, True)]


def address_field(name: str, address: str, display: str | None = None) -> bytes:
    """``Name: display <address>``, or the bare address without a display name."""
    if display is None:
        return _fold(name, [(address, False)])
    return _fold(name, [*_phrase(display), (f"<{address}>", False)])


def ids_field(name: str, ids: str) -> bytes:
    """Message identifiers exactly as given, one per line (RFC 5322 §3.6.4).

    Never encoded: an identifier longer than a line (Exchange writes 78-character ones)
    must reach the reader intact for threading; lines may run to 998 octets.
    """
    return (f"{name}: " + "\r\n ".join(ids.split()) + "\r\n").encode("ascii")
