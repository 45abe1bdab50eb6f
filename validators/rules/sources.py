"""The sources rules cite and the dates they came into force.

A citation names the norm as a broker looks it up ("Procedimiento INTA-PG.01-A, VI.3",
"D.S. 367-2019-EF, art. 60"); which of the project's source texts holds that norm is kept
apart (``source_of``), for the catalog and docs/rules.md, never in what a broker reads.
The dates come from the office-schedule table (``config/data/office_schedules.csv``): a rule
declares ``schedule=<procedure>`` and takes that procedure's start date, per office where the
seed phases it in; the constants below are the shipped table's values, for reading and tests.

Before a procedure exists a rule cannot cite it. What the gateway checks in 1997 rests on the
Teledespacho operations method of that year ("validate the DUA and O/E for their subsequent
acceptance or rejection"), cited as such; the project states where it fills a gap itself
("regla del proyecto").
"""

from __future__ import annotations

from datetime import date
from typing import Final

from config.reference import shipped_reference

__all__ = [
    "DS_367",
    "DS_367_210A",
    "DS_367_2019_FROM",
    "INTA_PE0006",
    "INTA_PE0006_FROM",
    "INTA_PG01A",
    "INTA_PG01A_FROM",
    "INTA_PG01A_OFFICE_FROM",
    "SOURCES",
    "TELEDESPACHO_FROM",
    "cite_000",
    "cite_001",
    "cite_003",
    "cite_004",
    "cite_goods_norm",
    "cite_project",
    "source_of",
]

INTA_PE0006: Final = "INTA-PE.00.06"
"""Procedure key: control of restricted and prohibited goods (seed 003), from 2004-07-23."""
INTA_PG01A: Final = "INTA-PG.01-A"
"""Procedure key: import for consumption (seed 004), from 2010-08-31, Callao offices later."""
DS_367: Final = "DS 367-2019-EF"
"""Procedure key: arts. 60, 62A, 230 as DS 367-2019-EF words them (seed 001), from 2019-12-31."""
DS_367_210A: Final = "DS 367-2019-EF art. 210A"
"""Procedure key: art. 210A, automatic extinction below US$10 (seed 001), from 2020-12-31."""

TELEDESPACHO_FROM: Final = date(1997, 2, 17)
"""Teledespacho mandatory in Maritime and Airport Callao (seed 000); elsewhere from 1998."""

_SCHEDULES: Final = shipped_reference().schedules

INTA_PE0006_FROM: Final = _SCHEDULES[INTA_PE0006].start

INTA_PG01A_FROM: Final = _SCHEDULES[INTA_PG01A].start
"""INTA-PG.01-A in force (seed 004, IV Vigencia) in Arequipa, Chiclayo, Cusco, Iquitos,
Pucallpa, Puerto Maldonado, Puno, Tacna, Tarapoto, Tumbes and La Tina; the project applies
the same date to the offices the seed does not name."""

INTA_PG01A_OFFICE_FROM: Final[dict[str, date]] = dict(_SCHEDULES[INTA_PG01A].offices)
"""Seed 004, IV Vigencia: the Callao offices started later than the rest (118 on 2010-09-20,
235 on 2010-09-27, 244 on 2010-09-30)."""

DS_367_2019_FROM: Final = _SCHEDULES[DS_367].start
"""DS 367-2019-EF (seed 001): articles 60, 62A, 230 and Title II in force."""


TELEDESPACHO_METHOD: Final = "Método de operación del Teledespacho (Aduanas, 1997)"
PG01A_NAME: Final = "Procedimiento INTA-PG.01-A"
PE0006_NAME: Final = "Procedimiento INTA-PE.00.06"
DS_367_NAME: Final = "D.S. 367-2019-EF"

SOURCES: Final[dict[str, str]] = {
    TELEDESPACHO_METHOD: "seeds/000: Teledispatch operations method, 1997",
    DS_367_NAME: "seeds/001: D.S. 367-2019-EF, amending the Customs Law Regulation",
    PE0006_NAME: "seeds/003: INTA-PE.00.06 v2, control of restricted goods, 2004",
    PG01A_NAME: "seeds/004: INTA-PG.01-A v1, import for consumption, 2010",
    "regla del proyecto": "the project (documented in docs/rules.md)",
    "Norma que ": "seeds/003 V: the norms of each restricted or prohibited good, with dates",
    "D.S. 045-2000-MTC": "seeds/003 V.B and VII.C: used vehicles",
}
"""Where the project keeps the text of each norm it cites (for the catalog, not for brokers)."""


def source_of(citation: str) -> str:
    """The project's source texts of the norms a citation names, ``; ``-joined."""
    found = [where for name, where in SOURCES.items() if name in citation]
    return "; ".join(found)


def cite_000(where: str = "") -> str:
    """The 1997 Teledespacho operations method (seed 000)."""
    suffix = f", {where}" if where else ""
    return f"{TELEDESPACHO_METHOD}{suffix}"


def cite_001(where: str) -> str:
    """DS 367-2019-EF, amending the Customs Law Regulation (seed 001)."""
    return f"{DS_367_NAME}, {where}"


def cite_003(where: str) -> str:
    """INTA-PE.00.06 v2, control of restricted and prohibited goods, 2004 (seed 003)."""
    return f"{PE0006_NAME}, {where}"


def cite_004(where: str) -> str:
    """INTA-PG.01-A, import for consumption, 2010 (seed 004)."""
    return f"{PG01A_NAME}, {where}"


def cite_goods_norm(verb: str) -> str:
    """The norm of each good (its row of the goods tables names it and its date)."""
    return f"Norma que {verb} la mercancía, indicada con su fecha en la observación"


def cite_project(what: str) -> str:
    """A rule the project sets where the sources are silent, saying what it is."""
    return f"{what} (regla del proyecto)"
