"""NUMBER, DUP and CH-ASSIGN: rules the pipeline enforces with the store, listed for the catalog.

Their checks are no-ops in the pure engine: numbering, duplicate detection and the monthly
red-channel quota need the numbers already given, the answers already sent and the month's
counts, which only the store knows (``gateway.pipeline``). They are registered so that the
catalog (``rules list``) shows them with their citation and dates.
"""

from __future__ import annotations

from collections.abc import Iterator

from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.rules.sources import INTA_PG01A, cite_003, cite_004

__all__ = ["RULES", "ch_assign", "ch_assign_draw", "dup", "number"]


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


@rule(
    "CH-ASSIGN",
    title="Canal de control por selección reproducible; reconocimiento obligatorio",
    citation=f"Teledespacho (regla del proyecto); {cite_003('VII.A')}",
    until=INTA_PG01A,
)
def ch_assign_draw(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """No-op here. Before INTA-PG.01-A the pipeline draws the channel of an accepted
    declaration reproducibly (seeded) under the office's red ceiling, and sends to rojo the
    goods INTA-PE.00.06 submits to mandatory physical examination (from 2004-07-23)."""
    return iter(())


@rule(
    "CH-ASSIGN",
    title="Canal verde, naranja o rojo; rojo obligatorio; cuota mensual de rojo por aduana",
    citation=f"{cite_004('VI.16, VII.A.45')}; {cite_003('VII.A')}",
    schedule=INTA_PG01A,
)
def ch_assign(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """No-op here. On acceptance the pipeline assigns verde, naranja or rojo: rojo for goods of
    mandatory examination (and box 7.24 codes 20/21), naranja (documentary only) for relief
    shipments, otherwise a seeded risk draw kept within the office's monthly red share (15 %
    Callao, 30 % Tacna, up to 50 % with 10 or more a day last month, more than 50 % below)."""
    return iter(())


RULES = (number, dup, ch_assign_draw, ch_assign)
