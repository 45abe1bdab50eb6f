"""Table-driven structure check: does a message body follow its directory segment table?

The walk is the one a partner's translator makes: each segment either continues the current
group (at or after the current position, within its repetitions), opens a nested group (its
trigger segment), or closes groups until an enclosing one continues. A segment nothing
accepts is reported and skipped, so every problem is found in one pass, not only the first.
Problems carry the ISO 9735 syntax error code (data element 0085) that a CONTRL would use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edi_formats.edifact.directory import Entry, Group, Segment

__all__ = [
    "MISSING",
    "NOT_IN_POSITION",
    "TOO_MANY_GROUPS",
    "TOO_MANY_REPETITIONS",
    "Placed",
    "StructureProblem",
    "check_structure",
]

MISSING = "13"
"""0085: missing (a mandatory segment or group)."""
NOT_IN_POSITION = "15"
"""0085: not supported in this position."""
TOO_MANY_REPETITIONS = "35"
TOO_MANY_GROUPS = "36"


@dataclass(frozen=True, slots=True)
class StructureProblem:
    """One departure from the segment table, at a segment of the message (UNH = 1)."""

    code: str
    message: str
    position: int
    tag: str


@dataclass(frozen=True, slots=True)
class Placed:
    """Where the walk placed a segment: the segment groups it is in, outermost first."""

    tag: str
    position: int
    groups: tuple[int, ...]


@dataclass
class _Level:
    entries: tuple[Entry, ...]
    group: int | None
    index: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    places: dict[str, tuple[int, ...]] = field(init=False)
    """Where each tag may go in ``entries`` (a group by its trigger), in order."""

    def __post_init__(self) -> None:
        self.places = _places(self.entries)


_PLACES: dict[int, tuple[tuple[Entry, ...], dict[str, tuple[int, ...]]]] = {}
"""``_places`` of each table and group met, by identity (hashing a group would walk it)."""


def _places(entries: tuple[Entry, ...]) -> dict[str, tuple[int, ...]]:
    """Each tag's positions among ``entries``: a segment is looked up, not searched for."""
    known = _PLACES.get(id(entries))
    if known is not None and known[0] is entries:
        return known[1]
    found: dict[str, list[int]] = {}
    for at, entry in enumerate(entries):
        found.setdefault(_tag(entry), []).append(at)
    places = {tag: tuple(positions) for tag, positions in found.items()}
    _PLACES[id(entries)] = (entries, places)  # the entries kept: their id stays theirs
    return places


def _name(entry: Entry) -> str:
    return entry.tag if isinstance(entry, Segment) else f"el grupo {entry.number} ({entry.trigger})"


def _tag(entry: Entry) -> str:
    return entry.tag if isinstance(entry, Segment) else entry.trigger


def check_structure(
    tags: Sequence[tuple[str, int]], table: tuple[Entry, ...]
) -> tuple[list[Placed], list[StructureProblem]]:
    """Walk ``tags`` ((tag, position) from the segment after UNH) through ``table``."""
    problems: list[StructureProblem] = []
    placed: list[Placed] = []
    stack = [_Level(table, None)]

    def missing_between(level: _Level, start: int, stop: int, position: int, tag: str) -> None:
        for at in range(start, stop):
            entry = level.entries[at]
            if entry.mandatory and not level.counts.get(at):
                where = f"el grupo {level.group}" if level.group else "el mensaje"
                problems.append(
                    StructureProblem(
                        MISSING, f"falta {_name(entry)}, obligatorio en {where}", position, tag
                    )
                )

    def find(level: _Level, tag: str) -> int | None:
        first = max(level.index, 1 if level.group is not None else 0)
        fallback = None
        for at in level.places.get(tag, ()):
            if at < first:
                continue
            if level.counts.get(at, 0) < level.entries[at].max:
                return at
            if fallback is None:
                fallback = at  # full: a later entry with the same tag may still take it
        return fallback

    for tag, position in tags:
        depth = len(stack) - 1
        at = find(stack[depth], tag)
        while at is None and depth > 0:
            depth -= 1
            at = find(stack[depth], tag)
        if at is None:
            problems.append(
                StructureProblem(
                    NOT_IN_POSITION,
                    f"{tag} no va en esta posición según el directorio D.96B",
                    position,
                    tag,
                )
            )
            continue
        for closing in stack[depth + 1 :]:
            missing_between(closing, closing.index + 1, len(closing.entries), position, tag)
        del stack[depth + 1 :]
        level = stack[depth]
        missing_between(level, level.index + (1 if level.counts else 0), at, position, tag)
        if at != level.index:
            level.index = at
        level.counts[at] = level.counts.get(at, 0) + 1
        entry = level.entries[at]
        if level.counts[at] > entry.max:
            code = TOO_MANY_GROUPS if isinstance(entry, Group) else TOO_MANY_REPETITIONS
            problems.append(
                StructureProblem(
                    code, f"{_name(entry)} se repite más de {entry.max} veces", position, tag
                )
            )
        if isinstance(entry, Group):
            stack.append(_Level(entry.entries, entry.number, 0, {0: 1}))
        placed.append(
            Placed(tag, position, tuple(open_.group for open_ in stack[1:] if open_.group))
        )
    for level in reversed(stack):
        missing_between(level, level.index + 1 if level.counts else 0, len(level.entries), 0, "UNT")
    return placed, problems
