"""What a rule reports: a finding, with the rule, its severity, the box and a Spanish message.

A rejection lists every finding, so findings are plain values that the pipeline can render in
any response format and compare in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Finding", "Severity", "has_errors"]


class Severity(StrEnum):
    """``error`` blocks numbering; ``warning`` is reported with an acceptance; ``info`` is
    information for the acceptance that is no fault at all (the dispatch fee applies, the
    tax obligation is extinguished)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class Finding:
    """One problem in one declaration.

    ``field`` is the path of the model field (``series[2].subpartida``) or ``""`` when the
    finding is about the declaration as a whole; the Spanish ``message`` names the casilla.
    """

    rule_id: str
    severity: Severity
    field: str
    message: str
    citation: str


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding blocks numbering (the declaration is rejected)."""
    return any(finding.severity is Severity.ERROR for finding in findings)
