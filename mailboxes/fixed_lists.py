"""Lists of values bound as parameters, padded to a few fixed lengths.

A statement with an expanding ``IN`` list is rendered into SQL again at every execution; one
naming ``size`` parameters is compiled once for that size. A list is padded to the next power
of two with its last value repeated (a repeat in an ``IN`` list, or in a ``CASE`` whose first
matching branch wins, changes nothing), so the sizes, and the compilations, stay few.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import BindParameter, bindparam

__all__ = ["padded", "parameters", "placeholders"]

T = TypeVar("T")


def padded(values: Sequence[T]) -> list[T]:
    """``values`` (at least one) with the last repeated up to the next power of two."""
    size = 1 << (len(values) - 1).bit_length()
    return [*values, *[values[-1]] * (size - len(values))]


def parameters(values: Sequence[T], prefix: str) -> dict[str, T]:
    """``values``, padded, as the parameters ``{prefix}0``, ``{prefix}1``, ..."""
    return {f"{prefix}{n}": value for n, value in enumerate(padded(values))}


def placeholders(size: int, prefix: str) -> list[BindParameter[Any]]:
    """The parameters ``{prefix}0`` .. ``{prefix}{size - 1}`` of a statement."""
    return [bindparam(f"{prefix}{n}") for n in range(size)]
