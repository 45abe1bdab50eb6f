"""Facts only the store knows, as the rules see them.

The engine is pure, so a rule that needs history asks ``RuleContext.facts``; offline (the
``validate`` command) there are none and such a rule checks only what the declaration itself
shows. The pipeline answers these questions inside the transaction that numbers the
declaration (``gateway.pipeline.history``), so two imports in one batch see each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

__all__ = ["Facts", "ImportHistory"]


@dataclass(frozen=True, slots=True)
class ImportHistory:
    """The imports numbered to one importer in one calendar year, by FOB value (US$)."""

    year: int
    fobs: tuple[Decimal, ...] = ()

    @property
    def count(self) -> int:
        return len(self.fobs)

    def count_over(self, limit: Decimal) -> int:
        return sum(1 for fob in self.fobs if fob > limit)


class Facts(Protocol):
    """Store-backed facts a rule may ask for."""

    def imports_in_year(self, doc_type: str, doc_number: str, year: int) -> ImportHistory:
        """The imports already numbered in ``year`` to the importer with that document."""
        ...
