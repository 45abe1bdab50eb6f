"""The control channel of an accepted declaration (rule CH-ASSIGN): the decision, sans store.

Seed 004 VI.16 names the channels: *verde* (no review), *naranja* (documentary review) and
*rojo* (physical examination). This module decides, in this order:

1. **Mandatory rojo**, outside any percentage (004 VII.A.45, last paragraph). From
   INTA-PE.00.06 (2004-07-23): goods whose annex of seed 003 submits them to "reconocimiento
   físico obligatorio" (arms, ammunition, explosives, ammonium nitrate; ozone-depleting
   substances and refrigeration equipment; narcotics; slot machines: the ``mandatory_red``
   column of ``config/data/annexes.csv``), by the reference tables or by a control document
   of an entity all of whose annexes are examined (02 DICSCAMEC, 18 OTO, 25 DNT). From
   INTA-PG.01-A: box 7.24 code 21 (later dispatch of goods "vigentes", 004 VI.28) and code 20
   (the broker asks for the examination, VI.26).
2. **Relief shipments** (modality ``0-2``, from INTA-PG.01-A) are subject to documentary
   review only (004 VI.16 b): naranja, a non-random selection outside the percentage.
3. **Risk draw**, reproducible: a number in [0, 1) from HMAC-SHA256 of the node's seed and
   the declaration number, so the same declaration always draws the same (a redo after a
   crash included). The risk weight (0.5 to 1: used goods, control documents, urgent or
   excepcional dispatch, high value) scales the red probability.

From INTA-PG.01-A the draw works inside the office's **monthly red share** (004 VII.A.45):
up to 15 % in Maritime and Airport Callao, up to 30 % in Tacna, up to 50 % where the office
numbered 10 or more a day on average the previous month, and *more than* 50 % below that.
``RedLimit`` says which; ``MonthCounts`` are the month's declarations in the percentage and
their reds so far (``gateway.pipeline.quota`` reads them from the store). A red draw that would
exceed a ceiling becomes naranja; a non-red draw that would leave a floor unmet becomes rojo.
So the share holds after every declaration, not only at the end of the month.

The shares are INTA-PG.01-A's, an import procedure's: they apply to the DUA where and when
that procedure governs (``shares_apply``). For every O/E, before 2010 and at offices outside
its scope no source gives a percentage, so the draw is bounded by the project's
``PROJECT_RED_SHARE`` instead, without monthly counts, and the office copy says so.

The channel is *assigned* on acceptance; seed 004 VI.17 shows it to the broker once the debt
is paid or guaranteed (and, in the anticipado, the manifest is in). The gateway sees no
payment, so the acceptance gives the channel as assigned, pending that step
(``gateway.pipeline.replies``).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from config.reference import Flow, ReferenceData, shipped_reference
from edi_formats.codes import GoodsState, ModalityCode
from edi_formats.models import DUA, OE, ExportSeries, ImportSeries
from edi_formats.responses import Channel
from validators.context import PERU_TIME, transmission_date
from validators.goods import flow_of, restricted_goods
from validators.rules.sources import INTA_PE0006, INTA_PG01A
from validators.rules.vigente import CODE_EXAMINATION, CODE_VIGENTE

__all__ = [
    "BUSY_DAILY_AVERAGE",
    "DEFAULT_RED_CEILING",
    "ORANGE_SHARE",
    "PROJECT_RED_SHARE",
    "RED_CEILINGS",
    "ChannelDecision",
    "ChannelInputs",
    "LimitKind",
    "MonthCount",
    "MonthCounts",
    "MonthOf",
    "RedLimit",
    "channel_inputs",
    "choose_channel",
    "counted",
    "limit_for",
    "mandatory_red",
    "month_of",
    "previous_month",
    "quota_in_force",
    "red_limit",
    "risk_weight",
    "select_channel",
    "shares_apply",
]

RED_CEILINGS: Final[Mapping[str, Decimal]] = {
    "118": Decimal("0.15"),  # Marítima del Callao
    "235": Decimal("0.15"),  # Aérea del Callao
    "172": Decimal("0.30"),  # Tacna
}
"""Seed 004 VII.A.45 a) and b): the red share ceilings named per office."""

DEFAULT_RED_CEILING: Final = Decimal("0.50")
"""Seed 004 VII.A.45 c): the 50 % line for every other office."""

BUSY_DAILY_AVERAGE: Final = 10
"""Seed 004 VII.A.45 c): numbering 10 or more a day on average last month caps red at 50 %."""

PROJECT_RED_SHARE: Final = Decimal("0.15")
"""Red ceiling of the draw where no source gives one (O/E; before INTA-PG.01-A; offices outside
its scope): the project's default, the lowest share seed 004 names."""

ORANGE_SHARE: Final = Decimal("0.25")
"""Documentary review share of the draw (the seeds give none; the project's default)."""

_HIGH_VALUE: Final = Decimal(50_000)
_RISK_STEP: Final = Decimal("0.125")
_BASE_WEIGHT: Final = Decimal("0.5")
_SCALE: Final = 2**64

Series = ImportSeries | ExportSeries


class LimitKind(StrEnum):
    AT_MOST = "at_most"
    MORE_THAN = "more_than"


@dataclass(frozen=True, slots=True)
class RedLimit:
    """The month's red share at an office: at most ``share``, or more than ``share``."""

    kind: LimitKind
    share: Decimal

    def encode(self) -> str:
        """``at_most:0.15``: how the store keeps it."""
        return f"{self.kind.value}:{self.share}"

    @classmethod
    def decode(cls, text: str) -> RedLimit:
        kind, share = text.split(":", 1)
        return cls(LimitKind(kind), Decimal(share))

    def describe(self) -> str:
        """The limit in Spanish, for the office copy."""
        word = "hasta" if self.kind is LimitKind.AT_MOST else "más del"
        return f"{word} {self.share:.0%} de rojo en el mes"

    def allows_red(self, counts: MonthCounts) -> bool:
        """Whether one more red keeps the month within a ceiling."""
        if self.kind is LimitKind.MORE_THAN:
            return True
        return (counts.red + 1) <= self.share * (counts.base + 1)

    def requires_red(self, counts: MonthCounts) -> bool:
        """Whether a floor would be unmet unless this declaration goes red."""
        if self.kind is LimitKind.AT_MOST:
            return False
        return counts.red <= self.share * (counts.base + 1)


def red_limit(office: str, previous_month_numbered: int, previous_month_days: int) -> RedLimit:
    """The red share of 004 VII.A.45 for ``office``, given last month's numbered count."""
    ceiling = RED_CEILINGS.get(office)
    if ceiling is not None:
        return RedLimit(LimitKind.AT_MOST, ceiling)
    if previous_month_numbered >= BUSY_DAILY_AVERAGE * previous_month_days:
        return RedLimit(LimitKind.AT_MOST, DEFAULT_RED_CEILING)
    return RedLimit(LimitKind.MORE_THAN, DEFAULT_RED_CEILING)


@dataclass(frozen=True, slots=True)
class MonthCounts:
    """The office's month so far: declarations in the percentage, and how many went red."""

    base: int = 0
    red: int = 0


@dataclass(frozen=True, slots=True)
class ChannelDecision:
    """The channel and, for the office, why (in Spanish; the agent is not told the reason).

    ``in_percentage`` says whether the declaration counts in the month's red share (a risk
    selection) or stays outside it (mandatory examination, relief shipment).
    """

    channel: Channel
    reason: str
    in_percentage: bool = False


def _started(reference: ReferenceData, procedure: str, office: str, as_of: date) -> bool:
    return reference.schedule(procedure).start_for(office) <= as_of


def quota_in_force(reference: ReferenceData, office: str, as_of: date) -> bool:
    """Whether INTA-PG.01-A (relief shipments, 7.24 codes, monthly red share) applies."""
    return _started(reference, INTA_PG01A, office, as_of)


def shares_apply(declaration: DUA | OE, reference: ReferenceData, office: str, as_of: date) -> bool:
    """Whether INTA-PG.01-A's monthly red shares bound this declaration's draw: a DUA where
    and when that import procedure governs; never an O/E."""
    return isinstance(declaration, DUA) and quota_in_force(reference, office, as_of)


@lru_cache(maxsize=16)  # the same for every declaration (the tables are immutable)
def _always_examined_entities(reference: ReferenceData, flow: Flow) -> Mapping[str, str]:
    """Entities every annex of which sends the flow's goods to mandatory examination."""
    annexes: dict[str, list[bool]] = {}
    for annex in reference.annexes.values():
        if flow in annex.flows:
            for entity in annex.entities:
                annexes.setdefault(entity, []).append(flow in annex.mandatory_red)
    return MappingProxyType(
        {
            entity: reference.entity_label(entity)
            for entity, examined in annexes.items()
            if examined and all(examined)
        }
    )


def _mandatory_goods(item: Series, flow: Flow, reference: ReferenceData) -> str | None:
    for row in restricted_goods(item, flow, reference):
        if row.mandatory_red(flow):
            return f"{row.description.lower()} ({row.annex.label} de INTA-PE.00.06)"
    return None


def mandatory_red(
    declaration: DUA | OE, office: str, as_of: date, reference: ReferenceData
) -> str | None:
    """Why the declaration must be examined physically, or None."""
    flow = flow_of(declaration)
    series: Iterable[Series] = declaration.series
    if _started(reference, INTA_PE0006, office, as_of):
        examined = _always_examined_entities(reference, flow)
        for item in series:
            goods = _mandatory_goods(item, flow, reference)
            if goods is not None:
                return f"serie {item.number}: {goods}"
            for document in item.control_documents:
                if document.entity_code in examined:
                    label = examined[document.entity_code]
                    return f"serie {item.number}: documento de control de la entidad {label}"
    if isinstance(declaration, DUA) and quota_in_force(reference, office, as_of):
        for item in declaration.series:
            if CODE_VIGENTE in item.codes_7_24:
                return f"serie {item.number}: despacho posterior de mercancía vigente (7.24: 21)"
            if CODE_EXAMINATION in item.codes_7_24:
                return f"serie {item.number}: reconocimiento físico solicitado (7.24: 20)"
    return None


def risk_weight(declaration: DUA | OE) -> Decimal:
    """How much of the red share the draw aims at: 0.5 for a plain declaration, up to 1."""
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


def _drawn(draw: Decimal, red: Decimal) -> Channel:
    if draw < red:
        return Channel.ROJO
    if draw < red + ORANGE_SHARE:
        return Channel.NARANJA
    return Channel.VERDE


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class ChannelInputs:
    """What the channel of a declaration depends on besides its number and the month's counts.

    Read from the declaration when it is decided (``channel_inputs``), so the choice at
    numbering (``choose_channel``) needs neither the declaration nor the reference tables.
    """

    office: str
    mandatory: str | None
    """Why it must be examined physically (mandatory rojo), or None."""
    relief: bool
    """A relief shipment under INTA-PG.01-A: naranja, outside the percentage."""
    weight: Decimal
    shares: bool
    """Whether the office's monthly red shares bound the draw (``shares_apply``)."""


def channel_inputs(
    declaration: DUA | OE, *, office: str, as_of: date, reference: ReferenceData | None = None
) -> ChannelInputs:
    """The channel's inputs that the declaration itself gives."""
    reference = reference or shipped_reference()
    relief = (
        quota_in_force(reference, office, as_of)
        and isinstance(declaration, DUA)
        and declaration.modality.code == ModalityCode.SOCORRO
    )
    return ChannelInputs(
        office=office,
        mandatory=mandatory_red(declaration, office, as_of, reference),
        relief=relief,
        weight=risk_weight(declaration),
        shares=shares_apply(declaration, reference, office, as_of),
    )


def choose_channel(
    inputs: ChannelInputs,
    *,
    number: str,
    seed: bytes,
    quota: tuple[RedLimit, MonthCounts] | None = None,
) -> ChannelDecision:
    """The channel for a declaration numbered ``number``, from its ``inputs``.

    ``quota`` is the office's red limit and month counts; without it (before INTA-PG.01-A, or
    offline) the draw is bounded by the office's ceiling alone.
    """
    if inputs.mandatory is not None:
        return ChannelDecision(
            Channel.ROJO, f"reconocimiento físico obligatorio: {inputs.mandatory}"
        )
    if inputs.relief:
        return ChannelDecision(
            Channel.NARANJA, "envío de socorro: solo revisión documentaria (INTA-PG.01-A VI.16 b)"
        )
    weight = inputs.weight
    draw = _draw(seed, number)
    shares = inputs.shares
    if quota is None or not shares:
        if shares:
            ceiling = RED_CEILINGS.get(inputs.office, DEFAULT_RED_CEILING)
            basis = "tope rojo de la aduana, INTA-PG.01-A VII.A.45"
        else:
            ceiling = PROJECT_RED_SHARE
            basis = "tope rojo del proyecto: sin porcentaje en las normas para este caso"
        channel = _drawn(draw, ceiling * weight)
        detail = f"selección por riesgo (peso {weight:.3f}, {basis} {ceiling:.0%})"
        return ChannelDecision(channel, detail, in_percentage=shares)
    limit, counts = quota
    if limit.kind is LimitKind.AT_MOST:
        aim = limit.share * weight
    else:
        aim = limit.share + (1 - limit.share) * weight
    channel = _drawn(draw, aim)
    detail = (
        f"selección por riesgo (peso {weight:.3f}; {limit.describe()}: {counts.red} de "
        f"{counts.base} antes de esta)"
    )
    if channel is Channel.ROJO and not limit.allows_red(counts):
        return ChannelDecision(Channel.NARANJA, f"{detail}; tope mensual alcanzado", True)
    if channel is not Channel.ROJO and limit.requires_red(counts):
        return ChannelDecision(Channel.ROJO, f"{detail}; mínimo mensual de rojo", True)
    return ChannelDecision(channel, detail, True)


def select_channel(
    declaration: DUA | OE,
    *,
    office: str,
    number: str,
    seed: bytes,
    as_of: date,
    reference: ReferenceData | None = None,
    quota: tuple[RedLimit, MonthCounts] | None = None,
) -> ChannelDecision:
    """The channel for ``declaration``, numbered ``number`` at ``office`` on ``as_of``.

    ``quota`` is the office's red limit and month counts; without it (before INTA-PG.01-A, or
    offline) the draw is bounded by the office's ceiling alone.
    """
    inputs = channel_inputs(declaration, office=office, as_of=as_of, reference=reference)
    return choose_channel(inputs, number=number, seed=seed, quota=quota)


# -- the month ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthOf:
    """The office's month a declaration is counted in (Lima calendar month of the receipt)."""

    office: str
    year: int
    month: int
    regime: str


def _month_start(year: int, month: int) -> datetime:
    """The first instant of a Lima calendar month, in UTC."""
    return datetime(year, month, 1, tzinfo=PERU_TIME).astimezone(UTC)


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def previous_month(year: int, month: int) -> tuple[datetime, datetime]:
    """The month before, as [start, end) instants."""
    before_year, before_month = _previous(year, month)
    return _month_start(before_year, before_month), _month_start(year, month)


def limit_for(office: str, year: int, month: int) -> Callable[[int], str]:
    """The red limit of ``office`` for a month, from the month before's numbered count
    (004 VII.A.45 c: last month's daily average), encoded as the store keeps it."""
    before_year, before_month = _previous(year, month)
    days = calendar.monthrange(before_year, before_month)[1]
    return lambda numbered: red_limit(office, numbered, days).encode()


def month_of(inputs: ChannelInputs, received_at: datetime, regime: str) -> MonthOf | None:
    """The month whose red share counts the declaration; None when no share applies."""
    if not inputs.shares:
        return None
    as_of = transmission_date(received_at)
    return MonthOf(inputs.office, as_of.year, as_of.month, regime)


@dataclass(frozen=True, slots=True)
class MonthCount:
    """What one numbered declaration adds to its month's counts."""

    base: int = 0
    red: int = 0
    mandatory_red: int = 0


def counted(decision: ChannelDecision) -> MonthCount:
    """How a decision counts in the month: in the percentage, or as a mandatory rojo."""
    red = 1 if decision.channel is Channel.ROJO else 0
    if decision.in_percentage:
        return MonthCount(base=1, red=red)
    return MonthCount(mandatory_red=red)
