"""Run every rule in force on a declaration and collect all findings.

The engine is pure: the transmission date, the addressed mailbox, the authenticated sender
and the office registry come in a ``RuleContext``; nothing here reads a clock, a socket or
the store. Store-backed facts (an importer's history, numbers already given) reach rules
through ``RuleContext.facts`` when the pipeline supplies them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from validators.context import PERU_TIME, RuleContext, transmission_date
from validators.facts import Facts
from validators.findings import Finding, Severity

if TYPE_CHECKING:
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
        except MemoryError:
            raise  # not the rule's defect: the declaration is beyond the memory it may take
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
