"""Rules about earlier dispatches: a control document serves one dispatch; an importer who did
not regularize is barred from the urgent dispatch and from the anticipado 04.

The facts come from the store (``validators.facts.DispatchFacts``, loaded by the pipeline in the
transaction that would number the declaration); offline there are none and these rules say
nothing. The checks themselves are pure functions of the declaration and those facts.

- CTRL-SINGLE-USE (seed 003 VI.10): "El documento de control se utiliza en un solo despacho".
- URG-REGULARIZE (seed 004 VII.B.13): "No se otorga el tratamiento de despacho urgente al
  importador que no regularice sus despachos anteriores dentro del plazo establecido, excepto
  en los casos previstos en los incisos a) y g) del artículo 231° y del artículo 232°".
- MOD-04-OVERDUE (seed 004 VI.15): no anticipado 04 for an owner "que tengan despachos
  similares pendientes de regularización cuyo plazo se encuentra vencido".

Regularization is recorded by the office (``teledispatch declaration regularize``), as the
SIGAD records "REGULARIZADA" once the officer verifies it (004 VII.B.12); the deadline is 15
calendar days after the end of discharge (VII.B.1, 9), or after the arrival, or the
numbering, when the DUA does not state the discharge.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Final

from edi_formats.codes import ARRIVAL_POINT_PRIMARY_ZONE, ModalityCode
from edi_formats.models import DUA, OE, ExportSeries, ImportSeries
from validators.context import RuleContext
from validators.facts import DispatchFacts, dispatch_facts
from validators.registry import Problem, rule
from validators.rules.box_7_38 import place_text
from validators.rules.modality import PLACE_7_38
from validators.rules.sources import INTA_PE0006, INTA_PG01A, cite_003, cite_004
from validators.rules.wording import control_box, joined, series_label

__all__ = [
    "ANTICIPADO_04",
    "REGULARIZATION_DAYS",
    "RULES",
    "URGENT",
    "URGENT_EXEMPT",
    "ctrl_single_use",
    "establishment_of",
    "mod_04_overdue",
    "mod_04_premises",
    "pending_kind",
    "premises_bar",
    "regularization_due",
    "reused_documents",
    "urg_regularize",
]

URGENT: Final = "urgente"
ANTICIPADO_04: Final = "anticipado-04"
REGULARIZATION_DAYS: Final = 15
URGENT_EXEMPT: Final = frozenset(
    {(ModalityCode.URGENCIA.value, "a"), (ModalityCode.URGENCIA.value, "g")}
)
"""Art. 231 a) organs and blood, g) medicines and vaccines; every relief shipment (art. 232)."""


def pending_kind(declaration: DUA | OE) -> str | None:
    """Which regularization a numbered declaration leaves pending, if any."""
    if not isinstance(declaration, DUA):
        return None
    modality = declaration.modality
    if modality.code in (ModalityCode.URGENCIA, ModalityCode.SOCORRO):
        return URGENT
    if (
        modality.code == ModalityCode.ANTICIPADO
        and modality.arrival_point == ARRIVAL_POINT_PRIMARY_ZONE
    ):
        return ANTICIPADO_04
    return None


def regularization_due(declaration: DUA, numbered_on: date) -> date:
    """15 calendar days after the end of discharge (or the arrival, or the numbering)."""
    transport = declaration.transport
    base = transport.discharge_end_date or transport.arrival_date or numbered_on
    return base + timedelta(days=REGULARIZATION_DAYS)


def reused_documents(declaration: DUA | OE, facts: DispatchFacts) -> Iterator[Problem]:
    """Each control document another numbered declaration already used."""
    box = control_box(declaration)
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, item in enumerate(series):
        for doc_index, document in enumerate(item.control_documents):
            used_by = facts.control_document_use(
                document.entity_code, document.document_code, document.number
            )
            if used_by is not None:
                yield Problem(
                    f"series[{index}].control_documents[{doc_index}].number",
                    f"{series_label(item.number)}, {box}: el documento de control "
                    f"{document.entity_code} {document.document_code} {document.number} ya "
                    f"se utilizó en la declaración {used_by}. El documento de control se "
                    "utiliza en un solo despacho; presente uno nuevo de la entidad de control.",
                )


@rule(
    "CTRL-SINGLE-USE",
    title="El documento de control se utiliza en un solo despacho",
    citation=cite_003("VI.10; VII.A 4.1.3 a.2, 5.1.4 d"),
    schedule=INTA_PE0006,
)
def ctrl_single_use(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A control document already used by an accepted declaration is refused (the store
    keeps them across restarts)."""
    facts = dispatch_facts(ctx.facts)
    if facts is not None:
        yield from reused_documents(declaration, facts)


@rule(
    "URG-REGULARIZE",
    title="Sin despacho urgente para quien no regularizó sus despachos urgentes a tiempo",
    citation=cite_004("VII.B.13"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def urg_regularize(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """An urgent dispatch is refused to an importer with earlier urgent dispatches whose
    regularization deadline passed unregularized, except urgency incisos a) and g) and relief
    shipments."""
    facts = dispatch_facts(ctx.facts)
    if facts is None or not isinstance(declaration, DUA):
        return
    modality = declaration.modality
    if modality.code not in (ModalityCode.URGENCIA, ModalityCode.SOCORRO):
        return
    if modality.code == ModalityCode.SOCORRO or (modality.code, modality.category) in URGENT_EXEMPT:
        return
    overdue = facts.overdue_regularizations(URGENT)
    if overdue:
        yield Problem(
            "modality.code",
            f"Recuadro Destinación: el importador {declaration.importer.doc_number} no "
            f"regularizó dentro del plazo sus despachos urgentes {joined(list(overdue))}; no se "
            "le otorga el tratamiento de despacho urgente hasta regularizarlos (salvo órganos, "
            "sangre y plasma, medicamentos y vacunas, y envíos de socorro).",
        )


@rule(
    "MOD-04-OVERDUE",
    title="Sin anticipado 04 con despachos similares de regularización vencida",
    citation=cite_004("VI.15"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def mod_04_overdue(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """An anticipado 04 is refused to an owner with earlier anticipado-04 dispatches pending
    regularization past their deadline."""
    facts = dispatch_facts(ctx.facts)
    if facts is None or pending_kind(declaration) != ANTICIPADO_04:
        return
    overdue = facts.overdue_regularizations(ANTICIPADO_04)
    if overdue:
        yield Problem(
            "modality.arrival_point",
            "Recuadro Destinación: no procede el despacho anticipado con traslado a zona "
            "primaria con autorización especial (04): el dueño o consignatario tiene despachos "
            f"similares pendientes de regularización con plazo vencido ({joined(list(overdue))}).",
        )


def _plus_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def premises_bar(incidents: Sequence[tuple[date, date | None]], as_of: date) -> str | None:
    """Why code 44 bars the premises on ``as_of`` (Spanish), or None.

    An open code 44 bars them until the importer's expedient clears it; a second code 44
    within a year of the one before restricts them for a year from the second (VII.A.51)."""
    recorded = sorted(day for day, _ in incidents if day <= as_of)
    for day, cleared in incidents:
        if day <= as_of and (cleared is None or cleared > as_of):
            return f"tiene el código 44 registrado el {_day(day)}, sin subsanar"
    for first, second in itertools.pairwise(recorded):
        if second <= _plus_year(first) and as_of < _plus_year(second):
            return (
                f"reincidió en el código 44 ({_day(first)} y {_day(second)}) y queda restringido "
                f"para el despacho anticipado hasta el {_day(_plus_year(second))}"
            )
    return None


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def establishment_of(declaration: DUA) -> str | None:
    """The establishment code box 7.38 gives for the anticipado 04 (``E.A.:XXXX``)."""
    text = place_text(declaration.observations_7_38)
    found = PLACE_7_38.match(text) if text is not None else None
    return found.group("code") if found is not None else None


@rule(
    "MOD-04-PREMISES",
    title="Anticipado 04: el local no tiene código 44 vigente (local no apto)",
    citation=cite_004("VII.A.51"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def mod_04_premises(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """An anticipado 04 to premises with an open code 44, or restricted for a year after a
    second one within a year, is refused."""
    facts = dispatch_facts(ctx.facts)
    if facts is None or not isinstance(declaration, DUA):
        return
    if pending_kind(declaration) != ANTICIPADO_04:
        return
    establishment = establishment_of(declaration)
    if establishment is None:
        return  # MOD-04-PLACE says what box 7.38 lacks
    reason = premises_bar(facts.premises_incidents(establishment), ctx.as_of)
    if reason is not None:
        yield Problem(
            "observations_7_38",
            f"Casilla 7.38: el local E.A.:{establishment} del importador {reason}; no puede "
            "numerarse una declaración de despacho anticipado con traslado a ese local "
            "(código 44: local no apto para la realización del reconocimiento físico).",
        )


RULES = (ctrl_single_use, urg_regularize, mod_04_overdue, mod_04_premises)
