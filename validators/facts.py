"""Facts only the store knows, as the rules see them.

The engine is pure, so a rule that needs history asks ``RuleContext.facts``; offline (the
``validate`` command) there are none and such a rule checks only what the declaration itself
shows. The pipeline answers these questions inside the transaction that numbers the
declaration (``gateway.pipeline.dispatch_facts``), so two imports in one batch see each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

__all__ = ["DispatchFacts", "Facts", "ImportHistory", "dispatch_facts"]


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
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


@runtime_checkable
class DispatchFacts(Protocol):
    """What earlier numbered declarations left in the store, as a rule asks it.

    ``control_document_use`` is the number of the declaration that already used a control
    document; ``overdue_regularizations`` the importer's dispatches of a kind (``urgente``,
    ``anticipado-04``) whose regularization deadline passed, unregularized, before the
    transmission date; ``premises_incidents`` the code 44 records of the importer's premises.
    """

    def control_document_use(
        self, entity_code: str, document_code: str, number: str
    ) -> str | None: ...

    def overdue_regularizations(self, kind: str) -> tuple[str, ...]: ...

    def premises_incidents(self, establishment: str) -> tuple[tuple[date, date | None], ...]:
        """The importer's premises' code 44 records: (recorded on, cleared on)."""
        ...


def dispatch_facts(facts: Facts | None) -> DispatchFacts | None:
    """The dispatch history among the context's facts, when the pipeline supplied it."""
    if facts is None:  # offline and in analysis: no store (and a protocol check is slow)
        return None
    return facts if isinstance(facts, DispatchFacts) else None
