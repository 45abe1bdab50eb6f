"""The control channel of an accepted declaration (rule CH-ASSIGN).

Seed 004 VI.16 names the channels: *verde* (no review), *naranja* (documentary review) and
*rojo* (physical examination). This module decides, in this order:

1. **Mandatory rojo.** Goods that seed 003 submits to "reconocimiento físico obligatorio":
   arms, ammunition, explosives and related goods (DICSCAMEC, 003 VII.A 3.1 b); ozone-depleting
   substances and refrigeration or air-conditioning equipment (OTO, 003 VII.A 4.1.3);
   narcotic and psychotropic substances (DIGEMID, 003 VII.A 5.1.5 c); and, as the seed also
   says, slot machines and casino games (DNT). A series is one of them when it carries a
   control document of that entity (02 DICSCAMEC, 18 OTO, 25 DNT) or its subpartida starts
   with one of the reference prefixes below (a reference list, not the official annexes).
2. **Relief shipments** (modality ``0-2``) are subject to documentary review only
   (004 VI.16 b): naranja.
3. **Risk-based draw**, reproducible: a number in [0, 1) from HMAC-SHA256 of the node's seed
   and the declaration number, so the same declaration always gets the same channel (a redo
   after a crash included). Rojo when the draw is below the office's red ceiling of 004
   VII.A.45 (15 % Maritime and Airport Callao, 30 % Tacna, 50 % elsewhere) times a risk
   weight between 0.5 and 1 (used goods, restricted goods with control documents, urgent or
   excepcional dispatch and high value raise it); naranja for a further ``ORANGE_SHARE``;
   verde otherwise.

What the next issue adds: the monthly quota. Seed 004 VII.A.45 fixes the red share of the
declarations an office numbers *in the month* (and, for offices other than Callao and Tacna,
makes it depend on the previous month's daily average: 10 or more a day, up to 50 %; fewer,
more than 50 %), with the mandatory cases outside the percentage. That needs the office's
counts from the store (``declarations`` by office and ``received_at``) and replaces the fixed
ceilings used here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from edi_formats.codes import GoodsState, ModalityCode
from edi_formats.models import DUA, OE
from edi_formats.responses import Channel

__all__ = [
    "DEFAULT_RED_CEILING",
    "MANDATORY_RED_ENTITIES",
    "MANDATORY_RED_PREFIXES",
    "ORANGE_SHARE",
    "RED_CEILINGS",
    "ChannelDecision",
    "risk_weight",
    "select_channel",
]

RED_CEILINGS: Final[Mapping[str, Decimal]] = {
    "118": Decimal("0.15"),  # Marítima del Callao
    "235": Decimal("0.15"),  # Aérea del Callao
    "172": Decimal("0.30"),  # Tacna
}
"""Seed 004 VII.A.45 a) and b): the red share ceilings named per office."""

DEFAULT_RED_CEILING: Final = Decimal("0.50")
"""Seed 004 VII.A.45 c) i), for every other office until the monthly counts decide it."""

ORANGE_SHARE: Final = Decimal("0.25")
"""Documentary review share (the seeds give none; the project's default)."""

MANDATORY_RED_ENTITIES: Final[Mapping[str, str]] = {
    "02": "armas, municiones o explosivos (DICSCAMEC)",
    "18": "sustancias agotadoras de la capa de ozono o equipos de refrigeración (OTO)",
    "25": "máquinas tragamonedas o juegos de casino (DNT)",
}
"""Control-document entities (seed 003 Annex A) whose goods are always examined."""

MANDATORY_RED_PREFIXES: Final[Mapping[str, str]] = {
    "93": "armas y municiones",
    "3601": "pólvora",
    "3602": "explosivos",
    "3603": "mechas y detonadores",
    "3604": "artículos pirotécnicos",
    "29034": "sustancias agotadoras de la capa de ozono",
    "29037": "sustancias agotadoras de la capa de ozono",
    "38247": "mezclas con sustancias agotadoras de la capa de ozono",
    "8415": "equipos de aire acondicionado",
    "8418": "equipos de refrigeración y congelación",
    "121130": "hojas de coca",
    "121140": "paja de adormidera",
    "130211": "opio",
    "293911": "alcaloides del opio",
    "293971": "cocaína",
    "950430": "máquinas tragamonedas",
}
"""Reference subpartida prefixes of goods under mandatory physical examination."""

_HIGH_VALUE: Final = Decimal(50_000)
_RISK_STEP: Final = Decimal("0.125")
_BASE_WEIGHT: Final = Decimal("0.5")
_SCALE: Final = 2**64


@dataclass(frozen=True, slots=True)
class ChannelDecision:
    """The channel and, for the office, why (in Spanish; the agent is not told the reason)."""

    channel: Channel
    reason: str


def _mandatory_red(declaration: DUA | OE) -> str | None:
    for series in declaration.series:
        for document in series.control_documents:
            goods = MANDATORY_RED_ENTITIES.get(document.entity_code)
            if goods is not None:
                return f"serie {series.number}: {goods}"
        for prefix, goods in MANDATORY_RED_PREFIXES.items():
            if series.subpartida.startswith(prefix):
                return f"serie {series.number}: {goods} (subpartida {series.subpartida})"
    return None


def risk_weight(declaration: DUA | OE) -> Decimal:
    """How much of the office's red ceiling applies: 0.5 for a plain declaration, up to 1."""
    weight = _BASE_WEIGHT
    if any(series.state is GoodsState.USED for series in declaration.series):
        weight += _RISK_STEP
    if any(series.control_documents for series in declaration.series):
        weight += _RISK_STEP
    if isinstance(declaration, DUA) and declaration.modality.code in (
        ModalityCode.URGENCIA,
        ModalityCode.EXCEPCIONAL,
    ):
        weight += _RISK_STEP
    if declaration.totals.fob > _HIGH_VALUE:
        weight += _RISK_STEP
    return min(weight, Decimal(1))


def _draw(seed: bytes, number: str) -> Decimal:
    digest = hmac.new(seed, number.encode("ascii"), hashlib.sha256).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / _SCALE


def select_channel(
    declaration: DUA | OE, *, office: str, number: str, seed: bytes
) -> ChannelDecision:
    """The channel for ``declaration``, numbered ``number`` at ``office``."""
    mandatory = _mandatory_red(declaration)
    if mandatory is not None:
        return ChannelDecision(Channel.ROJO, f"reconocimiento físico obligatorio: {mandatory}")
    if isinstance(declaration, DUA) and declaration.modality.code == ModalityCode.SOCORRO:
        return ChannelDecision(
            Channel.NARANJA, "envío de socorro: solo revisión documentaria (004 VI.16 b)"
        )
    ceiling = RED_CEILINGS.get(office, DEFAULT_RED_CEILING)
    weight = risk_weight(declaration)
    red = ceiling * weight
    draw = _draw(seed, number)
    detail = f"selección por riesgo (peso {weight:.3f}, tope rojo {ceiling:.0%})"
    if draw < red:
        return ChannelDecision(Channel.ROJO, detail)
    if draw < red + ORANGE_SHARE:
        return ChannelDecision(Channel.NARANJA, detail)
    return ChannelDecision(Channel.VERDE, detail)
