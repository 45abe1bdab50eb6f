"""NUMBER and DUP: rules the pipeline enforces with the store, listed here for the catalog.

Their checks are no-ops in the pure engine: numbering and duplicate detection need the
numbers already given and the answers already sent, which only the store knows. They are
registered so that the catalog (``rules list``) shows them with their citation.
"""

from __future__ import annotations

from collections.abc import Iterator

from edi_formats.models import DUA, OE
from validators.engine import RuleContext
from validators.registry import Problem, rule
from validators.rules.sources import cite_004

__all__ = ["RULES", "dup", "number"]


@rule(
    "NUMBER",
    title="Solo se numera la declaración sin errores; numeración única y correlativa",
    citation=cite_004("VII.A.7"),
)
def number(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """No-op here. The pipeline numbers (``OOO-YYYY-RR-NNNNNN``, gap-free per office, year and
    regime) only a declaration without error findings; otherwise it answers every reason."""
    return iter(())


@rule(
    "DUP",
    title="Misma referencia del mismo despachador: misma respuesta",
    citation="Teledespacho (regla del proyecto)",
)
def dup(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """No-op here. The pipeline answers a re-sent declaration (same agent code and agent
    reference) with the answer already given, never a second number."""
    return iter(())


RULES = (number, dup)
