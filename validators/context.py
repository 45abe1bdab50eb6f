"""What a rule may know besides the declaration, and Peru's calendar day of a transmission.

Its own module because both sides of validation need it: the engine builds and passes a
``RuleContext``, and every rule module (through ``validators.registry``'s ``Check``) reads
one. Were it in ``validators.engine``, the rules would import the engine that loads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from config.reference import ReferenceData, shipped_reference
from validators.facts import Facts

if TYPE_CHECKING:
    from config import Clock, OfficeRegistry

__all__ = ["PERU_TIME", "RuleContext", "transmission_date"]

PERU_TIME = timezone(timedelta(hours=-5), "PET")
"""Peru's civil time (UTC-5): deadlines are counted in Lima calendar days."""


def transmission_date(instant: datetime) -> date:
    """The calendar day in Peru of a transmission instant (timezone-aware)."""
    return instant.astimezone(PERU_TIME).date()


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a rule may know besides the declaration.

    ``addressed_office`` is the office whose mailbox received the mail (None offline, unless
    given); ``sender_agent_code`` the agent code of the authenticated sender (None offline:
    TD-SENDER is then skipped); ``facts`` the store's answers (None offline: ID-NORUC then
    checks the single operation only); ``reference`` the reference tables (control codes,
    restricted and prohibited goods, UIT), the shipped ones unless a deployment replaced them.
    """

    as_of: date
    offices: OfficeRegistry
    addressed_office: str | None = None
    sender_agent_code: str | None = None
    facts: Facts | None = None
    reference: ReferenceData = field(default_factory=shipped_reference)

    @classmethod
    def from_clock(
        cls,
        clock: Clock,
        offices: OfficeRegistry,
        *,
        addressed_office: str | None = None,
        sender_agent_code: str | None = None,
        facts: Facts | None = None,
        reference: ReferenceData | None = None,
    ) -> RuleContext:
        """A context dated by ``clock`` (real, emulated or fixed), in Peru's calendar."""
        return cls(
            as_of=transmission_date(clock.now()),
            offices=offices,
            addressed_office=addressed_office,
            sender_agent_code=sender_agent_code,
            facts=facts,
            reference=reference or shipped_reference(),
        )
