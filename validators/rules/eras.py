"""Rules older than the procedure that now words them: one version per era, each citing what
was in force.

The gateway validated DUA and O/E from 1997 (seed 000: the server extracts the declarations
and "validate[s] the DUA and O/E for their subsequent acceptance or rejection"), long before
INTA-PG.01-A (2010) wrote down the checks a broker now finds there. A rejection must cite
what was in force on its date, so such a rule is registered in versions:

- for the DUA, the 1997 citation until INTA-PG.01-A reaches the office (per office, from the
  schedule table), then the procedure's citation; at the offices outside the procedure's
  scope the 1997 version never ends;
- for the O/E, which INTA-PG.01-A (an import procedure) does not govern, the 1997 version
  always.

The check is the same function in every version unless a later norm changed it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from validators.findings import Severity
from validators.registry import ALL_DOCUMENTS, Check, Rule, rule
from validators.rules.sources import INTA_PG01A

__all__ = ["before_and_under_pg01a"]


def before_and_under_pg01a(
    rule_id: str,
    *,
    title: str,
    before: str,
    under: str,
    applies_to: Iterable[str] = ALL_DOCUMENTS,
    severity: Severity = Severity.ERROR,
    check_under: Check | None = None,
) -> Callable[[Check], tuple[Rule, ...]]:
    """Decorator: the versions of a rule cited ``before`` INTA-PG.01-A and ``under`` it.

    ``check_under`` replaces the check where INTA-PG.01-A applies (ID-RUC's check digit).
    """
    documents = frozenset(applies_to)

    def make(check: Check) -> tuple[Rule, ...]:
        versions: list[Rule] = []
        if "DUA" in documents:
            versions.append(
                rule(
                    rule_id,
                    title=title,
                    citation=before,
                    applies_to={"DUA"},
                    severity=severity,
                    until=INTA_PG01A,
                )(check)
            )
            versions.append(
                rule(
                    rule_id,
                    title=title,
                    citation=under,
                    applies_to={"DUA"},
                    severity=severity,
                    schedule=INTA_PG01A,
                )(check_under or check)
            )
        if "OE" in documents:
            versions.append(
                rule(rule_id, title=title, citation=before, applies_to={"OE"}, severity=severity)(
                    check
                )
            )
        return tuple(versions)

    return make
