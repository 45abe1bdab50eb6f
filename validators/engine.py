"""Run every rule in force on a declaration and collect all findings.

The engine is pure: the transmission date, the addressed mailbox, the authenticated sender
and the office registry come in a ``RuleContext``; nothing here reads a clock, a socket or
the store. Store-backed facts (an importer's history, numbers already given) reach rules
through ``RuleContext.facts`` when the pipeline supplies them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from config.reference import ReferenceData, shipped_reference
from validators.facts import Facts
from validators.findings import Finding, Severity

if TYPE_CHECKING:
    from config import Clock, OfficeRegistry
    from edi_formats.models import DUA, OE
    from validators.registry import RuleRegistry

__all__ = [
    "MAX_FINDINGS_PER_RULE",
    "PERU_TIME",
    "Facts",
    "RuleContext",
    "transmission_date",
    "validate",
]

_log = logging.getLogger(__name__)

MAX_FINDINGS_PER_RULE = 100
"""Beyond this many findings of one rule (10 000 bad series), the rest are summed up in one."""

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


def _default_registry() -> RuleRegistry:
    from validators.rules import CATALOG

    return CATALOG


def validate(
    declaration: DUA | OE, ctx: RuleContext, registry: RuleRegistry | None = None
) -> list[Finding]:
    """All findings of every rule in force as of ``ctx.as_of`` for the declaration's office.

    Never stops at the first finding. A rule that fails with an exception is a bug; it is
    logged and reported as an error finding of that rule, so the declaration is not numbered
    on an incomplete check and the broker still gets an answer.
    """
    rules = (registry or _default_registry()).in_force(
        declaration.document_type, ctx.as_of, declaration.office
    )
    findings: list[Finding] = []
    for item in rules:
        try:
            count = 0
            worst = Severity.WARNING
            for problem in item.check(declaration, ctx):
                count += 1
                severity = problem.severity or item.severity
                if severity is Severity.ERROR:
                    worst = Severity.ERROR
                if count <= MAX_FINDINGS_PER_RULE:
                    findings.append(
                        Finding(item.id, severity, problem.field, problem.message, item.citation)
                    )
            if count > MAX_FINDINGS_PER_RULE:
                findings.append(
                    Finding(
                        item.id,
                        worst,
                        "",
                        f"... y {count - MAX_FINDINGS_PER_RULE} observaciones más de esta misma "
                        "regla, no listadas.",
                        item.citation,
                    )
                )
        except Exception:
            _log.exception("rule %s failed on declaration %s", item.id, declaration.agent_reference)
            findings.append(
                Finding(
                    rule_id=item.id,
                    severity=Severity.ERROR,
                    field="",
                    message=(
                        "Error interno de la aduana al aplicar esta regla; la declaración no "
                        "puede numerarse. Retransmítala o comuníquese con la aduana."
                    ),
                    citation=item.citation,
                )
            )
    return findings
