"""VEH-USED and VEH-DESC: used motor vehicles (seed 003 VII.C; seed 004 VII.A.6).

Seed 003 VII.C.1 admits only used land motor vehicles, for goods or passengers, that meet
minimum quality requirements: a) no more than five years old, counted from the year after
their manufacture; b) a gross weight of no more than 3,000 kg (DU 140-2001 suspended the heavier
ones); c) no rollover and d) no wreck (seen at the physical examination, not in the DUA);
e) the steering wheel on the left from the factory (one converted from the right is refused);
f) carbon monoxide emission of no more than 4 % in volume. VII.C.3 exempts vehicles of the
diplomatic service, of diplomatic missions and international organizations, and donations to
the public sector; VII.C.4 admits cars for passengers (8703.21.00.10 to 8703.90.00.90) 35 or
more years old, for collection.

The DUA states a vehicle through its minimum description (seed 004 VII.A.6: for used motor
vehicles "la información de las descripciones mínimas se transmite al momento de la
numeración"). The gateway reads it from the series' description and box 7.37 text, in
``KEY: value`` form:

- ``AÑO FABRICACION: 2021``
- ``TIMON: IZQUIERDA`` (``DERECHA``; ``CONVERTIDO`` when moved from the right)
- ``PESO BRUTO VEHICULAR: 1850`` (kg)
- ``CO: 0.5%``

and the exceptions from box 7.38: ``VEHICULO USADO: DIPLOMATICO``, ``MISION``,
``DONACION SECTOR PUBLICO`` or ``COLECCION``. VEH-USED judges what is stated (from
INTA-PE.00.06); VEH-DESC (from INTA-PG.01-A) asks that all of it be stated at numbering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from edi_formats.codes import GoodsState
from edi_formats.models import DUA, OE, ImportSeries
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.rules.sources import INTA_PE0006, INTA_PG01A, cite_003, cite_004
from validators.rules.wording import series_label

__all__ = [
    "COLLECTOR_MIN_AGE",
    "MAX_AGE",
    "MAX_CO",
    "MAX_GROSS_WEIGHT",
    "RULES",
    "VEHICLE_PREFIXES",
    "VehicleFacts",
    "is_used_vehicle",
    "veh_desc",
    "veh_used",
    "vehicle_facts",
]

VEHICLE_PREFIXES: Final = ("8702", "8703", "8704")
"""Land motor vehicles for passengers (8702, 8703) or goods (8704)."""
MAX_AGE: Final = 5
MAX_GROSS_WEIGHT: Final = Decimal(3000)
MAX_CO: Final = Decimal(4)
COLLECTOR_MIN_AGE: Final = 35
DS_045_2000_MTC_FROM: Final = date(2000, 9, 20)
"""Seed 003 V.B: "Requisitos mínimos de calidad para la importación de vehículos automotores
de transporte usados, Decreto Supremo Nº 045-2000-MTC, publicado el 20.09.2000"."""
DU_140_2001_FROM: Final = date(2001, 12, 31)
"""Seed 003 V.B: "Suspenden importación de vehículos automotores usados de peso bruto mayor a
3,000 kilogramos ..., Decreto de Urgencia Nº 140-2001 publicado el 31.12.2001"."""
COLLECTOR_RANGE: Final = ("8703210010", "8703900090")
"""Seed 003 VII.C.4: "subpartidas nacionales 8703.21.00.10 a 8703.90.00.90"."""

_YEAR: Final = re.compile(r"A[ÑN]O\s+(?:DE\s+)?FABRICACI[OÓ]N\s*:?\s*(\d{4})", re.IGNORECASE)
_STEERING: Final = re.compile(
    r"TIM[OÓ]N\s*:?\s*(IZQUIERDA|DERECHA|CONVERTIDO)(?:\s+(CONVERTIDO))?", re.IGNORECASE
)
_WEIGHT: Final = re.compile(r"PESO\s+BRUTO\s+VEHICULAR\s*:?\s*([\d.,]+)", re.IGNORECASE)
_CO: Final = re.compile(r"\bCO\s*:?\s*([\d.,]+)\s*%", re.IGNORECASE)
_EXCEPTION: Final = re.compile(
    r"VEH[IÍ]CULO\s+USADO\s*:?\s*(DIPLOMATICO|DIPLOMÁTICO|MISION|MISIÓN|DONACION SECTOR "
    r"PUBLICO|DONACIÓN SECTOR PÚBLICO|COLECCION|COLECCIÓN)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class VehicleFacts:
    """What a used vehicle's minimum description states (None: not stated)."""

    year: int | None
    steering: str | None
    converted: bool
    gross_weight: Decimal | None
    co_percent: Decimal | None


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def vehicle_facts(item: ImportSeries) -> VehicleFacts:
    """The minimum description of a vehicle series, read from its description and box 7.37."""
    text = f"{item.description or ''} {item.observations or ''}"
    year = _YEAR.search(text)
    steering = _STEERING.search(text)
    weight = _WEIGHT.search(text)
    co = _CO.search(text)
    side = steering.group(1).upper() if steering else None
    converted = bool(steering) and (side == "CONVERTIDO" or steering.group(2) is not None)  # type: ignore[union-attr]
    return VehicleFacts(
        year=int(year.group(1)) if year else None,
        steering=None if side in (None, "CONVERTIDO") else side,
        converted=converted,
        gross_weight=_number(weight.group(1).replace(",", "")) if weight else None,
        co_percent=_number(co.group(1)) if co else None,
    )


def is_used_vehicle(item: ImportSeries) -> bool:
    return item.state is GoodsState.USED and item.subpartida.startswith(VEHICLE_PREFIXES)


def _exception(declaration: DUA) -> str | None:
    found = _EXCEPTION.search(declaration.observations_7_38 or "")
    return found.group(1).upper() if found else None


def _is_collector_subpartida(subpartida: str) -> bool:
    return COLLECTOR_RANGE[0] <= subpartida <= COLLECTOR_RANGE[1]


def _veh_used(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A used land motor vehicle is no more than five years old counted from the year after
    its manufacture, weighs no more than 3,000 kg gross, had its steering wheel on the left
    from the factory and emits no more than 4 % CO, unless the importer is of the diplomatic
    service, a mission or the public sector receiving a donation (VII.C.3), or the car is for
    collection and 35 or more years old (VII.C.4). What the description does not state is
    VEH-DESC's."""
    if not isinstance(declaration, DUA):
        return
    exempt = _exception(declaration)
    if exempt is not None and not exempt.startswith("COLECCI"):
        return
    for index, item in enumerate(declaration.series):
        if not is_used_vehicle(item):
            continue
        facts = vehicle_facts(item)
        label = f"{series_label(item.number)}, vehículo usado"
        where = f"series[{index}].description"
        if facts.year is not None:
            age = ctx.as_of.year - (facts.year + 1)
            collector = (
                exempt is not None
                and _is_collector_subpartida(item.subpartida)
                and ctx.as_of.year - facts.year >= COLLECTOR_MIN_AGE
            )
            if exempt is not None and not collector:
                yield Problem(
                    where,
                    f"{label}: solo se importan con fines de colección los automóviles de las "
                    "subpartidas 8703.21.00.10 a 8703.90.00.90 con una antigüedad de "
                    f"{COLLECTOR_MIN_AGE} años o más; este es de {facts.year}.",
                )
            elif not collector and age > MAX_AGE:
                yield Problem(
                    where,
                    f"{label}: fabricado en {facts.year}, tiene {age} años de antigüedad contados "
                    f"a partir del año siguiente al de su fabricación; solo se permite la "
                    f"importación de vehículos usados de hasta {MAX_AGE} años.",
                )
            if collector:
                continue
        heavy = facts.gross_weight is not None and facts.gross_weight > MAX_GROSS_WEIGHT
        if heavy and ctx.as_of >= DU_140_2001_FROM:
            yield Problem(
                where,
                f"{label}: su peso bruto vehicular ({facts.gross_weight} kg) sobrepasa los "
                f"{MAX_GROSS_WEIGHT:,} kg; la importación de vehículos usados de más peso está "
                "suspendida (D.U. 140-2001).",
            )
        if facts.steering == "DERECHA" or facts.converted:
            yield Problem(
                where,
                f"{label}: debe tener originalmente proyectado e instalado de fábrica el timón a "
                "la izquierda; no se permite el ingreso de vehículos con timón original a la "
                "derecha, aunque hayan sido transformados a la izquierda.",
            )
        if facts.co_percent is not None and facts.co_percent > MAX_CO:
            yield Problem(
                where,
                f"{label}: su emisión de monóxido de carbono ({facts.co_percent} %) supera el "
                f"límite de {MAX_CO} % en volumen tomado a la salida del tubo de escape.",
            )


@rule(
    "VEH-DESC",
    title="Vehículos usados: descripciones mínimas al numerar",
    citation=cite_004("VII.A.6"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def veh_desc(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A used motor vehicle's minimum description is transmitted at numbering: year of
    manufacture, steering wheel, gross vehicle weight and CO emission, so VEH-USED can judge
    the requirements of seed 003 VII.C.1."""
    if not isinstance(declaration, DUA):
        return
    for index, item in enumerate(declaration.series):
        if not is_used_vehicle(item):
            continue
        facts = vehicle_facts(item)
        missing = [
            name
            for name, value in (
                ("AÑO FABRICACION", facts.year),
                ("TIMON", facts.steering if not facts.converted else "CONVERTIDO"),
                ("PESO BRUTO VEHICULAR", facts.gross_weight),
                ("CO", facts.co_percent),
            )
            if value is None
        ]
        if missing:
            yield Problem(
                f"series[{index}].description",
                f"{series_label(item.number)}, casilla Descripción: en la importación de "
                "vehículos automotores usados las descripciones mínimas se transmiten al "
                f"numerar la declaración; falta {', '.join(missing)} (por ejemplo 'AÑO "
                "FABRICACION: 2021; TIMON: IZQUIERDA; PESO BRUTO VEHICULAR: 1850; CO: 0.5%').",
            )


_TITLE: Final = "Vehículos usados: antigüedad, peso bruto, timón a la izquierda y emisiones"
_NORMS: Final = "D.S. 045-2000-MTC (requisitos mínimos de calidad); D.U. 140-2001"

veh_used: Final = (
    rule(
        "VEH-USED",
        title=_TITLE,
        citation=_NORMS,
        applies_to={"DUA"},
        effective_from=DS_045_2000_MTC_FROM,
        until=INTA_PE0006,
    )(_veh_used),
    rule(
        "VEH-USED",
        title=_TITLE,
        citation=f"{cite_003('VII.C.1, 3 y 4')}; {_NORMS}",
        applies_to={"DUA"},
        schedule=INTA_PE0006,
    )(_veh_used),
)
"""From the minimum quality requirements of D.S. 045-2000-MTC (20.09.2000), the weight limit
from D.U. 140-2001 (31.12.2001); from 2004 as INTA-PE.00.06 VII.C gathers them."""

RULES = (*veh_used, veh_desc)
