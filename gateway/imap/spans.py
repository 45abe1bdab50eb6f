"""A sequence set (RFC 3501 ``sequence-set``) as sorted, disjoint spans of numbers.

A client may write the same numbers many times over (``1:*,1:*,...``, 6 000 times in a
command within every bound). Read as spans, merged, a set costs its elements once, however
many numbers each names: pymap's SEARCH made a set of every number of every range, 60
million numbers for that command over a mailbox whose UIDs reach 10 000 (1.7 s of the event
loop).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from pymap.parsing.specials import SequenceSet
from pymap.parsing.specials.sequenceset import MaxValue

__all__ = ["Spans", "element_bounds", "spans_of"]


def element_bounds(element: Any, maximum: int) -> tuple[int, int] | None:
    """The inclusive range one sequence-set element covers, as ``SequenceSet.iter`` reads it
    (``n:*`` above the maximum still means the last one)."""
    if isinstance(element, int):
        return (element, element) if element <= maximum else None
    if isinstance(element, MaxValue):
        return maximum, maximum
    left, right = element
    left = maximum if isinstance(left, MaxValue) else left
    right = maximum if isinstance(right, MaxValue) else right
    low = min(left, right)
    if low > maximum:
        return None
    return low, min(max(left, right), maximum)


def spans_of(seq_set: SequenceSet, maximum: int) -> list[tuple[int, int]]:
    """The numbers ``seq_set`` names (``*`` being ``maximum``), as ascending, disjoint
    inclusive spans."""
    bounds = sorted(
        found for element in seq_set.value if (found := element_bounds(element, maximum))
    )
    merged: list[tuple[int, int]] = []
    for low, high in bounds:
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


class Spans:
    """Membership in a sequence set, by bisection of its spans (``value in spans``)."""

    __slots__ = ("_highs", "_lows")

    def __init__(self, seq_set: SequenceSet, maximum: int) -> None:
        spans = spans_of(seq_set, maximum)
        self._lows = [low for low, _ in spans]
        self._highs = [high for _, high in spans]

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        at = bisect_right(self._lows, value) - 1
        return at >= 0 and value <= self._highs[at]
