"""VEH-USED and VEH-DESC (seed 003 VII.C; seed 004 VII.A.6) and DU 140-2001's used parts."""

from __future__ import annotations

from datetime import date

import pytest

from config import OfficeRegistry
from edi_formats.codes import GoodsState
from edi_formats.models import DUA
from tests.validators.helpers import change, findings_of, rule_ids, sample_dua
from validators.engine import RuleContext
from validators.samples import break_rule

AS_OF = date(2025, 3, 3)


def _car(
    year: int = 2022,
    steering: str = "IZQUIERDA",
    weight: str = "1650",
    co: str = "0.5",
    subpartida: str = "8703231000",
    box_7_38: str | None = None,
) -> DUA:
    dua = break_rule(sample_dua(), "VEH-USED")
    assert isinstance(dua, DUA)
    series = list(dua.series)
    description = (
        f"AUTOMOVIL USADO; AÑO FABRICACION: {year}; TIMON: {steering}; "
        f"PESO BRUTO VEHICULAR: {weight}; CO: {co}%"
    )
    series[0] = change(series[0], subpartida=subpartida, description=description)
    return change(dua, series=tuple(series), observations_7_38=box_7_38)


def test_a_used_car_that_meets_the_requirements_is_accepted(ctx: RuleContext) -> None:
    """Seed 003 VII.C.1: "Sólo se permite la importación de aquellos vehículos automóviles de
    transporte terrestre usados ... que cumplan con los requisitos mínimos de calidad"."""
    assert rule_ids(_car(), ctx) == set()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"year": 2018}, "antigüedad"),  # a) "no mayor de cinco (05) años"
        ({"weight": "3200"}, "3,000 kg"),  # b) "no sobrepase un peso bruto de 3,000 kilogramos"
        ({"steering": "DERECHA"}, "timón a la izquierda"),  # e) "timón a la izquierda"
        ({"steering": "IZQUIERDA CONVERTIDO"}, "transformados"),  # e) converted from the right
        ({"co": "4.5"}, "monóxido de carbono"),  # f) "no supere el límite de 4% en volumen"
    ],
)
def test_each_requirement_of_vii_c_1(ctx: RuleContext, changes: dict[str, str], words: str):
    """Seed 003 VII.C.1 a) "Que tengan una antigüedad no mayor de cinco (05) años contados a
    partir del año siguiente a de su fabricación"; b) "Que no sobrepase un peso bruto de 3,000
    kilogramos"; e) "Que tengan originalmente proyectado e instalado de fábrica el timón a la
    izquierda"; f) "Que la emisión de monóxido de carbono ... no supere el límite de 4%"."""
    (finding,) = findings_of(_car(**changes), ctx, "VEH-USED")  # type: ignore[arg-type]
    assert words in finding.message


def test_five_years_count_from_the_year_after_manufacture(offices: OfficeRegistry) -> None:
    """2019 + 1 = 2020: five years until 2025, refused in 2026."""
    car = _car(year=2019)
    assert findings_of(car, RuleContext(as_of=AS_OF, offices=offices), "VEH-USED") == []
    later = RuleContext(as_of=date(2026, 1, 5), offices=offices)
    assert findings_of(car, later, "VEH-USED")


@pytest.mark.parametrize("who", ["DIPLOMATICO", "MISION", "DONACION SECTOR PUBLICO"])
def test_the_exceptions_of_vii_c_3(ctx: RuleContext, who: str) -> None:
    """Seed 003 VII.C.3: "Estos requisitos no son aplicables a la importación de vehículos
    automóviles usados que realicen: a) Los miembros del Servicio Diplomático del Perú.
    b) Las Misiones Diplomáticas ... c) Las donaciones que reciba el sector público."""
    old = _car(year=2010, steering="DERECHA", box_7_38=f"VEHICULO USADO: {who}")
    assert findings_of(old, ctx, "VEH-USED") == []


def test_collector_cars_of_35_years_or_more(ctx: RuleContext) -> None:
    """Seed 003 VII.C.4: "se autoriza la importación de vehículos automóviles usados para el
    transporte de personas (subpartidas nacionales 8703.21.00.10 a 8703.90.00.90) con una
    antigüedad igual o mayor a 35 años, con fines de colección"."""
    classic = _car(year=1965, subpartida="8703239010", box_7_38="VEHICULO USADO: COLECCION")
    assert findings_of(classic, ctx, "VEH-USED") == []
    (finding,) = findings_of(change(classic, observations_7_38=None), ctx, "VEH-USED")
    assert "antigüedad" in finding.message
    young = _car(year=2000, subpartida="8703239010", box_7_38="VEHICULO USADO: COLECCION")
    (finding,) = findings_of(young, ctx, "VEH-USED")
    assert "35 años" in finding.message


def test_vehicle_rules_have_their_dates(offices: OfficeRegistry) -> None:
    """D.S. 045-2000-MTC (20.09.2000) sets the requirements; D.U. 140-2001 (31.12.2001)
    suspends the heavier vehicles. In 1997 neither applies, nor cites INTA-PE.00.06 before
    2004."""
    heavy = _car(year=1990, weight="3200")
    assert (
        findings_of(heavy, RuleContext(as_of=date(1997, 3, 3), offices=offices), "VEH-USED") == []
    )
    on_2001 = RuleContext(as_of=date(2001, 6, 1), offices=offices)
    (finding,) = findings_of(heavy, on_2001, "VEH-USED")  # only the age: no weight limit yet
    assert "antigüedad" in finding.message and "INTA-" not in finding.citation
    assert (
        len(findings_of(heavy, RuleContext(as_of=date(2002, 1, 2), offices=offices), "VEH-USED"))
        == 2
    )


def test_the_minimum_description_is_transmitted_at_numbering(ctx: RuleContext) -> None:
    """Seed 004 VII.A.6: "En el caso de Importación para el Consumo de vehículos automotores
    usados la información de las descripciones mínimas se transmite al momento de la
    numeración de la declaración.\""""
    bare = break_rule(sample_dua(), "VEH-DESC")
    (finding,) = findings_of(bare, ctx, "VEH-DESC")
    assert "AÑO FABRICACION" in finding.message and "CO" in finding.message
    assert findings_of(_car(), ctx, "VEH-DESC") == []


def test_used_motors_and_parts_are_suspended_from_du_140_2001(offices: OfficeRegistry) -> None:
    """Seed 003 V.B: "Suspenden importación de vehículos automotores usados de peso bruto
    mayor a 3,000 kilogramos y de motores, partes, piezas y repuestos usados para uso
    automotor, Decreto de Urgencia Nº 140-2001 publicado el 31.12.2001"."""
    dua = sample_dua()
    series = list(dua.series)
    series[0] = change(series[0], subpartida="8708999900", state=GoodsState.USED)
    parts = change(dua, series=tuple(series))
    (finding,) = findings_of(
        parts, RuleContext(as_of=date(2002, 1, 2), offices=offices), "PROHIBITED"
    )
    assert "DU 140-2001" in finding.message
    assert (
        findings_of(parts, RuleContext(as_of=date(2001, 12, 30), offices=offices), "PROHIBITED")
        == []
    )
    new = list(series)
    new[0] = change(new[0], state=GoodsState.NEW)
    assert (
        findings_of(
            change(dua, series=tuple(new)), RuleContext(as_of=AS_OF, offices=offices), "PROHIBITED"
        )
        == []
    )
