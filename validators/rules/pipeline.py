"""NUMBER, DUP and CH-ASSIGN: rules the pipeline enforces with the store, listed for the catalog.

Their checks are no-ops in the pure engine: numbering, duplicate detection and the monthly
red-channel quota need the numbers already given, the answers already sent and the month's
counts, which only the store knows. They are registered so that the catalog (``rules list``,
docs/rules.md) shows them with their citation and dates, and ``ENFORCED_BY`` names the
function of the pipeline that applies each one (a test checks that the answering step calls
exactly those, and that they behave as the catalog says).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import Final

from edi_formats.models import DUA, OE, model_json
from validators.context import RuleContext
from validators.findings import Finding, Severity
from validators.registry import Problem, rule
from validators.rules.eras import before_and_under_pg01a
from validators.rules.sources import (
    INTA_PE0006,
    INTA_PG01A,
    cite_000,
    cite_003,
    cite_004,
    cite_project,
)

__all__ = [
    "ENFORCED_BY",
    "RULES",
    "ch_assign",
    "document_fingerprint",
    "dup",
    "number",
    "reference_taken",
]

ENFORCED_BY: Final[dict[str, tuple[str, ...]]] = {
    "NUMBER": (
        "gateway.pipeline.core.decide",
        "gateway.pipeline.commit.commit",
        "gateway.pipeline.numbering.take_in_series",
        "validators.policy.numbering.Series.number",
    ),
    "DUP": (
        "gateway.pipeline.core.decide",
        "validators.policy.duplicates.duplicate",
        "gateway.pipeline.commit.commit",
        "mailboxes.jobs.Answering.recorded_answer",
    ),
    "CH-ASSIGN": (
        "gateway.pipeline.quota.channel_for",
        "validators.policy.channels.choose_channel",
        "gateway.pipeline.quota.assign_channel",
        "validators.policy.channels.select_channel",
    ),
}
"""What applies each store-backed rule: the answer core's decision, the policy it applies,
and the commit step that writes it."""


@before_and_under_pg01a(
    "NUMBER",
    title=(
        "Solo se numera la declaración sin errores; número único y correlativo por aduana, "
        "año y régimen (lo aplica gateway.pipeline.numbering.take_in_series)"
    ),
    before=cite_000("numeral 1: validación para la aceptación o el rechazo"),
    under=cite_004("VII.A.7"),
)
def number(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """No-op here. The pipeline numbers (``OOO-YYYY-RR-NNNNNN``, gap-free per office, year and
    regime) only a declaration without error findings; otherwise it answers every reason."""
    return iter(())


@rule(
    "DUP",
    title=(
        "Misma referencia del mismo despachador: la misma declaración recibe la misma "
        "respuesta aceptada, nunca un segundo número; otra declaración con esa referencia se "
        "rechaza; una rechazada se valida de nuevo (lo aplica gateway.pipeline.answer)"
    ),
    citation=cite_project("Teledespacho: respuesta única por referencia del despachador"),
)
def dup(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """No-op here. The pipeline answers a re-sent declaration (same agent code and agent
    reference, same document by ``document_fingerprint``) that was accepted with the answer
    already given, never a second number; a different document under that reference is
    rejected (``reference_taken``); a rejected reference is validated anew (a rejection
    consumes no number)."""
    return iter(())


def document_fingerprint(declaration: DUA | OE) -> str:
    """What DUP compares: the declaration as read, whatever its format or its mail (a
    re-sent mail with other headers, or the same DUA as JSON, is the same declaration)."""
    return hashlib.sha256(model_json(declaration).encode()).hexdigest()


def reference_taken(declaration: DUA | OE, *, number: str, accepted_on: date | None) -> Finding:
    """DUP's rejection of a *different* declaration sent under an accepted reference: the
    accepted one keeps its number, and this one needs a reference of its own."""
    kind = "DUA" if declaration.document_type == "DUA" else "O/E"
    when = f" el {accepted_on:%d/%m/%Y}" if accepted_on is not None else ""
    return Finding(
        rule_id=dup.id,
        severity=Severity.ERROR,
        field="agent_reference",
        message=(
            f"Casilla Referencia del despachador: la referencia {declaration.agent_reference} "
            f"ya corresponde a la {kind} {number}, aceptada{when}, y esta declaración tiene "
            "otro contenido. No se numera: transmítala con una referencia nueva (la "
            "aceptada no cambia; para modificarla corresponde una rectificación)."
        ),
        citation=dup.citation,
    )


def _ch_assign(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """No-op here. On acceptance the pipeline assigns verde, naranja or rojo: rojo for goods
    INTA-PE.00.06 submits to mandatory physical examination (from 2004-07-23). Where
    INTA-PG.01-A governs a DUA, also rojo for box 7.24 codes 20/21, naranja (documentary only)
    for relief shipments, and a seeded risk draw kept within the office's monthly red share
    (15 % Callao, 30 % Tacna, up to 50 % with 10 or more a day last month, more than 50 %
    below). Before it, at offices outside its scope and for every O/E (the shares are an
    import procedure's), the draw uses the project's default red share. The acceptance shows
    the channel as assigned, pending payment (VI.17)."""
    return iter(())


_CH_TITLE: Final = (
    "Canal de control verde, naranja o rojo (lo aplican gateway.pipeline.quota.channel_for "
    "y validators.policy.channels.choose_channel)"
)
_DRAW: Final = cite_project("Selección de canal reproducible, con el tope rojo del proyecto")
_EXAMINED: Final = cite_003("VII.A: reconocimiento físico obligatorio")

ch_assign: Final = (
    rule("CH-ASSIGN", title=_CH_TITLE, citation=_DRAW, until=INTA_PE0006)(_ch_assign),
    rule(
        "CH-ASSIGN",
        title=f"{_CH_TITLE}; rojo obligatorio",
        citation=f"{_DRAW}; {_EXAMINED}",
        applies_to={"DUA"},
        schedule=INTA_PE0006,
        until=INTA_PG01A,
    )(_ch_assign),
    rule(
        "CH-ASSIGN",
        title=f"{_CH_TITLE}; rojo obligatorio; porcentaje mensual de rojo por aduana",
        citation=f"{cite_004('VI.16, VI.17, VII.A.45')}; {_EXAMINED}",
        applies_to={"DUA"},
        schedule=INTA_PG01A,
    )(_ch_assign),
    rule(
        "CH-ASSIGN",
        title=f"{_CH_TITLE}; rojo obligatorio",
        citation=f"{_DRAW}; {_EXAMINED}",
        applies_to={"OE"},
        schedule=INTA_PE0006,
    )(_ch_assign),
)
"""Before INTA-PE.00.06 a draw only; then mandatory examination too; where INTA-PG.01-A
governs a DUA, its channels and monthly red shares."""


RULES = (*number, dup, *ch_assign)
