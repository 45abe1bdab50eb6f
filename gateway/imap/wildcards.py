"""LIST and LSUB patterns (RFC 3501 section 6.3.8), matched without backtracking.

pymap turned a pattern into a regular expression (``*`` as ``.*?``, ``%`` as ``[^/]*?``),
which backtracks through every way of placing each wildcard: ``LIST "" "*a*a*a*a*a*a*a*a*b"``
against a folder named with 40 ``a`` took 3.8 s of the event loop, and two more ``*`` ten
times that. Here the pattern is read as a sequence of literal pieces and wildcards, and a
name is matched by carrying the set of positions the pattern so far can end at (bits of an
integer), as an automaton does: each piece of text costs a search of the name (once per
name however often the pattern repeats it), whatever came before. A name is dropped once no
position is left, and each piece of text moves the first position on, so a name of n
characters is done with within n pieces of text, however long the pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["WILDCARDS_ON_LOOP", "ListPattern", "wildcards"]

_WILDCARDS: Final = re.compile(r"([*%]+)")
WILDCARDS_ON_LOOP: Final = 2
"""Wildcards of a pattern matched on the event loop (``*``, ``%``, ``%/%`` and the like:
microseconds a folder); one with more may take up to about a millisecond a folder."""


def wildcards(pattern: str) -> int:
    """How many wildcards ``pattern`` holds."""
    return pattern.count("*") + pattern.count("%")


@dataclass(frozen=True, slots=True)
class _Any:
    """A run of wildcards: ``*`` anywhere in it matches across the delimiter, ``%`` alone
    within one level of the hierarchy."""

    crosses_levels: bool


class ListPattern:
    """One LIST pattern (the reference name and the mailbox name, joined), for one
    hierarchy delimiter."""

    def __init__(self, pattern: str, delimiter: str) -> None:
        if len(delimiter) != 1:
            raise ValueError("an IMAP hierarchy delimiter is one character")
        self._delimiter = delimiter
        self._pieces: list[str | _Any] = []
        for part in _WILDCARDS.split(pattern):
            if not part:
                continue
            if part[0] in "*%":
                self._pieces.append(_Any(crosses_levels="*" in part))
            else:
                self._pieces.append(part)

    def matches(self, name: str) -> bool:
        """Whether the whole of ``name`` matches the whole pattern."""
        length = len(name)
        every = (1 << (length + 1)) - 1  # bit i: the pattern so far can end before name[i]
        ends = 1
        starts: dict[str, int] = {}  # a pattern may repeat a piece hundreds of times
        for piece in self._pieces:
            if isinstance(piece, str):
                found = starts.get(piece)
                if found is None:
                    found = starts[piece] = _starts(name, piece)
                ends = (ends & found) << len(piece)
            elif piece.crosses_levels:
                ends = every & ~((ends & -ends) - 1)  # from the first end on, anywhere
            else:
                ends = self._within_levels(name, ends)
            if not ends:
                return False
        return bool(ends >> length & 1)

    def _within_levels(self, name: str, ends: int) -> int:
        """``ends`` extended, as ``%`` does, to every later position short of a delimiter."""
        start = 0
        while start <= len(name):
            stop = name.find(self._delimiter, start)
            if stop < 0:
                stop = len(name)
            level = ((1 << (stop + 1)) - 1) ^ ((1 << start) - 1)  # positions start..stop
            here = ends & level
            if here:
                ends |= level & ~((here & -here) - 1)
            start = stop + 1
        return ends


def _starts(name: str, piece: str) -> int:
    """The positions at which ``piece`` occurs in ``name``, as bits."""
    found = 0
    at = name.find(piece)
    while at >= 0:
        found |= 1 << at
        at = name.find(piece, at + 1)
    return found
