"""The sources rules cite and the dates they came into force.

Citations name the document a broker can look up and the project's seed file that holds it.
"""

from __future__ import annotations

from datetime import date
from typing import Final

__all__ = [
    "DS_367_2019_FROM",
    "INTA_PG01A_FROM",
    "INTA_PG01A_OFFICE_FROM",
    "TELEDESPACHO_FROM",
    "cite_000",
    "cite_001",
    "cite_004",
]

TELEDESPACHO_FROM: Final = date(1997, 2, 17)
"""Teledespacho mandatory in Maritime and Airport Callao (seed 000); elsewhere from 1998."""

INTA_PG01A_FROM: Final = date(2010, 8, 31)
"""INTA-PG.01-A in force (seed 004, IV Vigencia) in Arequipa, Chiclayo, Cusco, Iquitos,
Pucallpa, Puerto Maldonado, Puno, Tacna, Tarapoto, Tumbes and La Tina; the project applies
the same date to the offices the seed does not name."""

INTA_PG01A_OFFICE_FROM: Final[dict[str, date]] = {
    "118": date(2010, 9, 20),  # Intendencia de Aduana Marítima del Callao
    "235": date(2010, 9, 27),  # Intendencia de Aduana Aérea del Callao
    "244": date(2010, 9, 30),  # Intendencia de Aduana Postal del Callao
}
"""Seed 004, IV Vigencia: the Callao offices started later than the rest."""

DS_367_2019_FROM: Final = date(2019, 12, 31)
"""DS 367-2019-EF (seed 001): articles 60, 62A, 230 and Title II in force."""


def cite_000(where: str = "") -> str:
    """Seed 000: the 1997 Teledespacho operations method."""
    suffix = f" {where}" if where else ""
    return f"Método de operación Teledespacho 1997{suffix} (seed 000)"


def cite_001(where: str) -> str:
    """Seed 001: DS 367-2019-EF, amending the Customs Law Regulation."""
    return f"DS 367-2019-EF, Reglamento LGA {where} (seed 001)"


def cite_004(where: str) -> str:
    """Seed 004: INTA-PG.01-A, import for consumption (2010)."""
    return f"INTA-PG.01-A {where} (seed 004)"
