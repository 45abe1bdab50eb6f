"""DL-*: when each import modality may be numbered, counted in calendar days.

Seed 004 VI.7: anticipado within the 15 calendar days before the arrival of the means of
transport; urgente from 15 days before arrival up to 7 calendar days counted from the day
after the end of discharge; excepcional within 30 calendar days counted from the day after the
end of discharge. From 2019-12-31 DS 367-2019-EF (seed 001, art. 230) lets urgent shipments be
declared any time before arrival, so DL-URGENTE has two versions. Days are Lima calendar days
of the transmission (``ctx.as_of``); "within N days after the end of discharge" ends on
discharge + N.

From 2019-12-31 (seed 001, arts. 187 and 230) the modality 0-0 is the *despacho diferido*:
DL-EXCEPCIONAL's 30 days stop, and DL-DIFERIDO gives 15 calendar days after the end of
discharge, which the customs authority may extend once by 15 more on a request made within
the first 15 (art. 187). The gateway does not see that request: a declaration numbered in the
extension states it in box 7.38 (``PRORROGA: <número>``), otherwise it is refused. Messages
name the modality 0-0 as the date's norm does (``deferred_name``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final

from edi_formats.codes import ModalityCode
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.dates import shifted
from validators.registry import Problem, rule
from validators.rules.box_7_38 import EXTENSION, stated
from validators.rules.sources import DS_367, INTA_PG01A, cite_001, cite_004
from validators.rules.wording import day

__all__ = [
    "ANTICIPADO_DAYS_BEFORE_ARRIVAL",
    "DIFERIDO_DAYS_AFTER_DISCHARGE",
    "DIFERIDO_EXTENSION_DAYS",
    "EXCEPCIONAL_DAYS_AFTER_DISCHARGE",
    "RULES",
    "URGENTE_DAYS_AFTER_DISCHARGE",
    "URGENTE_DAYS_BEFORE_ARRIVAL",
    "deferred_name",
    "dl_anticipado",
    "dl_diferido",
    "dl_excepcional",
    "dl_urgente_2010",
    "dl_urgente_2019",
]

ANTICIPADO_DAYS_BEFORE_ARRIVAL: Final = 15
URGENTE_DAYS_BEFORE_ARRIVAL: Final = 15
URGENTE_DAYS_AFTER_DISCHARGE: Final = 7
EXCEPCIONAL_DAYS_AFTER_DISCHARGE: Final = 30
DIFERIDO_DAYS_AFTER_DISCHARGE: Final = 15
"""Seed 001 art. 187 (Ley art. 130): the deferred dispatch's term after the end of discharge."""
DIFERIDO_EXTENSION_DAYS: Final = 15
"""Seed 001 art. 187: "por una sola vez y por un plazo adicional de quince (15) días"."""


_URGENT = (ModalityCode.URGENCIA, ModalityCode.SOCORRO)
_ARRIVAL = "transport.arrival_date"
_DISCHARGE = "transport.discharge_end_date"


def deferred_name(ctx: RuleContext, office: str) -> str:
    """What the modality 0-0 is called on the date: ``excepcional`` until DS 367-2019-EF,
    ``diferido`` from it (seed 001 art. 230: "se tramita bajo la modalidad de despacho
    diferido")."""
    started = ctx.reference.schedule(DS_367).start_for(office) <= ctx.as_of
    return "diferido" if started else "excepcional"


def _modality(declaration: DUA | OE) -> str | None:
    return declaration.modality.code if isinstance(declaration, DUA) else None


@rule(
    "DL-ANTICIPADO",
    title="Anticipado: dentro de los 15 días antes de la llegada",
    citation=cite_004("VI.7 a"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def dl_anticipado(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Anticipado is numbered within the 15 calendar days before arrival; once the means of
    transport has arrived the goods go to the excepcional modality, and the rejection says so."""
    if not isinstance(declaration, DUA) or _modality(declaration) != ModalityCode.ANTICIPADO:
        return
    arrival = declaration.transport.arrival_date
    if arrival is None:
        yield Problem(
            _ARRIVAL,
            "Casilla Fecha de llegada: el despacho anticipado requiere la fecha estimada de "
            "llegada del medio de transporte para computar su plazo.",
        )
        return
    opens = shifted(arrival, -ANTICIPADO_DAYS_BEFORE_ARRIVAL)
    if ctx.as_of < opens:
        yield Problem(
            _ARRIVAL,
            f"Plazo del despacho anticipado: la llegada es el {day(arrival)}; la declaración "
            f"puede transmitirse dentro de los {ANTICIPADO_DAYS_BEFORE_ARRIVAL} días calendario "
            f"anteriores, desde el {day(opens)}.",
        )
    elif ctx.as_of > arrival:
        yield Problem(
            "modality.code",
            f"Plazo del despacho anticipado vencido: el medio de transporte llegó el "
            f"{day(arrival)}. Después de la llegada la mercancía se somete al despacho "
            f"{deferred_name(ctx, declaration.office)}: transmita la declaración con la "
            f"modalidad {ModalityCode.EXCEPCIONAL}.",
        )


def _urgent_late(declaration: DUA, ctx: RuleContext) -> Iterator[Problem]:
    discharged = declaration.transport.discharge_end_date
    if discharged is None:
        return
    closes = shifted(discharged, URGENTE_DAYS_AFTER_DISCHARGE)
    if ctx.as_of > closes:
        yield Problem(
            _DISCHARGE,
            f"Plazo del despacho urgente vencido: la descarga terminó el {day(discharged)} y "
            f"el plazo de {URGENTE_DAYS_AFTER_DISCHARGE} días calendario venció el "
            f"{day(closes)}. Transmita la declaración con la modalidad "
            f"{ModalityCode.EXCEPCIONAL} ({deferred_name(ctx, declaration.office)}).",
        )


@rule(
    "DL-URGENTE",
    title="Urgente: desde 15 días antes de la llegada hasta 7 después de la descarga",
    citation=cite_004("VI.7 b"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
    until=DS_367,
)
def dl_urgente_2010(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Urgente (0-1, 0-2) from 15 calendar days before arrival up to 7 calendar days after
    the end of discharge (seed 004 VI.7 b, until DS 367-2019-EF)."""
    if not isinstance(declaration, DUA) or _modality(declaration) not in _URGENT:
        return
    arrival = declaration.transport.arrival_date
    if arrival is None:
        yield Problem(
            _ARRIVAL,
            "Casilla Fecha de llegada: el despacho urgente requiere la fecha de llegada del "
            "medio de transporte para computar su plazo.",
        )
        return
    opens = shifted(arrival, -URGENTE_DAYS_BEFORE_ARRIVAL)
    if ctx.as_of < opens:
        yield Problem(
            _ARRIVAL,
            f"Plazo del despacho urgente: la llegada es el {day(arrival)}; la declaración puede "
            f"transmitirse desde {URGENTE_DAYS_BEFORE_ARRIVAL} días calendario antes, el "
            f"{day(opens)}.",
        )
    yield from _urgent_late(declaration, ctx)


@rule(
    "DL-URGENTE",
    title="Urgente: antes de la llegada y hasta 7 días después de la descarga",
    citation=cite_001("art. 230"),
    applies_to={"DUA"},
    schedule=DS_367,
)
def dl_urgente_2019(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Urgente (0-1, 0-2) before arrival and up to 7 calendar days after the end of discharge
    (DS 367-2019-EF art. 230: the 15-day lower bound is gone)."""
    if not isinstance(declaration, DUA) or _modality(declaration) not in _URGENT:
        return
    yield from _urgent_late(declaration, ctx)


@rule(
    "DL-EXCEPCIONAL",
    title="Excepcional: dentro de los 30 días después de la descarga",
    citation=cite_004("VI.7 c"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
    until=DS_367,
)
def dl_excepcional(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Excepcional (0-0) within 30 calendar days counted from the day after the end of
    discharge; the end of discharge must be stated to count them."""
    if not isinstance(declaration, DUA) or _modality(declaration) != ModalityCode.EXCEPCIONAL:
        return
    discharged = declaration.transport.discharge_end_date
    if discharged is None:
        yield Problem(
            _DISCHARGE,
            "Casilla Fecha de término de la descarga: el despacho excepcional requiere esa "
            f"fecha para computar su plazo de {EXCEPCIONAL_DAYS_AFTER_DISCHARGE} días.",
        )
        return
    closes: date = shifted(discharged, EXCEPCIONAL_DAYS_AFTER_DISCHARGE)
    if ctx.as_of > closes:
        yield Problem(
            _DISCHARGE,
            f"Plazo del despacho excepcional vencido: la descarga terminó el {day(discharged)} "
            f"y el plazo de {EXCEPCIONAL_DAYS_AFTER_DISCHARGE} días calendario venció el "
            f"{day(closes)}.",
        )


@rule(
    "DL-DIFERIDO",
    title="Diferido: dentro de los 15 días después de la descarga, prorrogables una vez por 15",
    citation=cite_001("arts. 187 y 230"),
    applies_to={"DUA"},
    schedule=DS_367,
)
def dl_diferido(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Deferred dispatch (0-0) within 15 calendar days after the end of discharge; from day 16
    to day 30 only with the extension of art. 187, stated in box 7.38; never after day 30."""
    if not isinstance(declaration, DUA) or _modality(declaration) != ModalityCode.EXCEPCIONAL:
        return
    discharged = declaration.transport.discharge_end_date
    if discharged is None:
        yield Problem(
            _DISCHARGE,
            "Casilla Fecha de término de la descarga: el despacho diferido requiere esa fecha "
            f"para computar su plazo de {DIFERIDO_DAYS_AFTER_DISCHARGE} días.",
        )
        return
    closes = shifted(discharged, DIFERIDO_DAYS_AFTER_DISCHARGE)
    extended = shifted(closes, DIFERIDO_EXTENSION_DAYS)
    if ctx.as_of <= closes:
        return
    term = (
        f"la descarga terminó el {day(discharged)}; el plazo del despacho diferido, de "
        f"{DIFERIDO_DAYS_AFTER_DISCHARGE} días calendario, venció el {day(closes)}"
    )
    if ctx.as_of > extended:
        yield Problem(
            _DISCHARGE,
            f"Plazo del despacho diferido vencido: {term}, y la prórroga de "
            f"{DIFERIDO_EXTENSION_DAYS} días que puede otorgarse por una sola vez, el "
            f"{day(extended)}.",
        )
    elif stated(EXTENSION, declaration.observations_7_38) is None:
        yield Problem(
            _DISCHARGE,
            f"Plazo del despacho diferido: {term}. Hasta el {day(extended)} solo puede "
            "numerarse con la prórroga que la autoridad aduanera otorga por una sola vez, "
            "solicitada dentro de esos 15 días: indique su número en la casilla 7.38 "
            "('PRORROGA: número').",
        )


RULES = (dl_anticipado, dl_urgente_2010, dl_urgente_2019, dl_excepcional, dl_diferido)
