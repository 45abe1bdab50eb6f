"""The sources rules cite and the dates they came into force.

Citations name the document a broker can look up and the project's seed file that holds it.
The dates come from the office-schedule table (``config/data/office_schedules.csv``): a rule
declares ``schedule=<procedure>`` and takes that procedure's start date, per office where the
seed phases it in; the constants below are the shipped table's values, for reading and tests.
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
    "TELEDESPACHO_FROM",
    "cite_000",
    "cite_001",
    "cite_003",
    "cite_004",
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


def cite_000(where: str = "") -> str:
    """Seed 000: the 1997 Teledespacho operations method."""
    suffix = f" {where}" if where else ""
    return f"Método de operación Teledespacho 1997{suffix} (seed 000)"


def cite_001(where: str) -> str:
    """Seed 001: DS 367-2019-EF, amending the Customs Law Regulation."""
    return f"DS 367-2019-EF, Reglamento LGA {where} (seed 001)"


def cite_003(where: str) -> str:
    """Seed 003: INTA-PE.00.06 v2, control of restricted and prohibited goods (2004)."""
    return f"INTA-PE.00.06 {where} (seed 003)"


def cite_004(where: str) -> str:
    """Seed 004: INTA-PG.01-A, import for consumption (2010)."""
    return f"INTA-PG.01-A {where} (seed 004)"
