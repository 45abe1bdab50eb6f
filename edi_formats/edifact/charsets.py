"""UN/EDIFACT syntax levels (UNOA, UNOB, UNOC...): which codec, which characters.

The lexer works on ``str`` and does not map the UNB syntax identifier to an encoding, so this
module does: the interchange header is read in ASCII, its syntax identifier picks the codec,
and the decoded values are checked against the repertoire the level allows (ISO 9735: level A
is upper case only, level B adds lower case; both are ISO 646 7-bit). A value holding a
character its level does not allow is refused, not silently passed on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "SYNTAX_LEVELS",
    "SyntaxLevel",
    "choose_level",
    "level_for",
]

_LEVEL_A: Final = r"A-Z0-9 .,\-()/='+:?!\"%&*;<>"
_CONTROLS: Final = r"\x00-\x1f\x7f-\x9f"


@dataclass(frozen=True, slots=True)
class SyntaxLevel:
    """One syntax identifier (``0001``): its Python codec and the characters values may use."""

    identifier: str
    codec: str
    versions: frozenset[int]
    forbidden: re.Pattern[str]
    description: str

    def first_forbidden(self, value: str) -> str | None:
        """The first character of ``value`` this level does not allow, or None."""
        found = self.forbidden.search(value)
        return found.group(0) if found else None


def _level(identifier: str, codec: str, versions: set[int], allowed: str, what: str) -> SyntaxLevel:
    return SyntaxLevel(identifier, codec, frozenset(versions), re.compile(allowed), what)


SYNTAX_LEVELS: Final[dict[str, SyntaxLevel]] = {
    level.identifier: level
    for level in (
        _level(
            "UNOA", "ascii", {1, 2, 3, 4}, f"[^{_LEVEL_A}]", "nivel A: ISO 646, solo mayúsculas"
        ),
        _level("UNOB", "ascii", {1, 2, 3, 4}, f"[^{_LEVEL_A}a-z]", "nivel B: ISO 646"),
        _level("UNOC", "iso-8859-1", {1, 2, 3, 4}, f"[{_CONTROLS}]", "nivel C: ISO 8859-1"),
        _level("UNOD", "iso-8859-2", {1, 2, 3, 4}, f"[{_CONTROLS}]", "nivel D: ISO 8859-2"),
        _level("UNOE", "iso-8859-5", {1, 2, 3, 4}, f"[{_CONTROLS}]", "nivel E: ISO 8859-5"),
        _level("UNOF", "iso-8859-7", {1, 2, 3, 4}, f"[{_CONTROLS}]", "nivel F: ISO 8859-7"),
        _level("UNOW", "utf-8", {4}, f"[{_CONTROLS}\ufeff]", "nivel W: ISO 10646 en UTF-8"),
    )
}
"""The syntax levels read and written here. UNOW (UTF-8) exists from syntax version 4 on."""


def level_for(identifier: str, version: int) -> SyntaxLevel | None:
    """The level named in a UNB header, None when it is unknown or not valid for ``version``."""
    level = SYNTAX_LEVELS.get(identifier)
    if level is None or version not in level.versions:
        return None
    return level


def choose_level(values: list[str]) -> tuple[SyntaxLevel, int]:
    """The plainest level (and syntax version) that can carry every one of ``values``.

    UNOA when everything is upper case, UNOC (ISO 8859-1, the era's Latin level) otherwise,
    and UNOW with syntax version 4 only for characters ISO 8859-1 does not have.
    """
    for identifier in ("UNOA", "UNOC"):
        level = SYNTAX_LEVELS[identifier]
        if all(level.first_forbidden(value) is None for value in values) and all(
            _encodable(value, level.codec) for value in values
        ):
            return level, 3
    return SYNTAX_LEVELS["UNOW"], 4


def _encodable(value: str, codec: str) -> bool:
    try:
        value.encode(codec)
    except UnicodeEncodeError:
        return False
    return True
