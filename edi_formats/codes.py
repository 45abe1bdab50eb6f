"""Closed code tables used by the declaration models.

Only code sets whose every value is known and fixed live here as enums; open code sets
(modality, regime, TPROD, box 7.24 codes, control-document entities) stay constrained strings
in the models so that an unknown value reaches the rule engine and gets a finding naming its
casilla, instead of being refused as unreadable.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ARRIVAL_POINT_PRIMARY_ZONE",
    "ARRIVAL_POINT_TERMINAL_OR_WAREHOUSE",
    "RELIEF_CATEGORIES",
    "URGENCY_CATEGORIES",
    "GoodsState",
    "ModalityCode",
    "PartyDocType",
    "TransportDocType",
    "TransportMode",
]


class PartyDocType(StrEnum):
    """Identity document of an importer or exporter (seed 004 VI.3)."""

    RUC = "RUC"  # Registro Único de Contribuyentes
    DNI = "DNI"  # Documento Nacional de Identidad (Peruvians)
    CE = "CE"  # Carné de Extranjería
    PAS = "PAS"  # Pasaporte
    SAL = "SAL"  # Salvoconducto


class TransportMode(StrEnum):
    """Vía de transporte, after SUNAT's one-digit codes."""

    MARITIME = "1"
    RIVER = "2"
    POSTAL = "3"
    AIR = "4"
    RAIL = "5"
    ROAD = "7"
    PIPELINE = "8"
    OTHER = "9"


class TransportDocType(StrEnum):
    """Tipo de documento de transporte for the anticipado modality (seed 004 VII.A.2)."""

    DIRECT = "1"  # directo
    CONSOLIDATED = "2"  # consolidado
    CONSOLIDATED_ONE_TO_ONE = "3"  # consolidado 1 a 1


class GoodsState(StrEnum):
    """Estado de la mercancía: new or used (seed 004 VII.A.22 b)."""

    NEW = "N"
    USED = "U"


class ModalityCode(StrEnum):
    """Modalidad de despacho in the recuadro "Destinación" (seed 004 VII.A.2).

    The models keep the modality as a constrained string, so an unknown code reaches MOD-CODE;
    this enum names the valid ones.
    """

    ANTICIPADO = "1-0"
    URGENCIA = "0-1"  # despacho urgente, envíos de urgencia
    SOCORRO = "0-2"  # despacho urgente, envíos de socorro
    EXCEPCIONAL = "0-0"


ARRIVAL_POINT_TERMINAL_OR_WAREHOUSE = "03"
"""Anticipado, punto de llegada: option A terminal, B depósito temporal."""

ARRIVAL_POINT_PRIMARY_ZONE = "04"
"""Anticipado, zona primaria con autorización especial."""

URGENCY_CATEGORIES = frozenset("abcdefghijklmn")
"""Envíos de urgencia (0-1), incisos a) to n)."""

RELIEF_CATEGORIES = frozenset("abcdefghi")
"""Envíos de socorro (0-2), incisos a) to i)."""
