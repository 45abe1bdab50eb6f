"""What the reference tables say about a series: restricted, prohibited, or exempted by TPROD.

Seed 003 VI.8: goods classified in a subpartida of the annexes but not themselves prohibited
or restricted carry a TPROD code: 97 (not prohibited), 98 (not restricted), 99 (neither).
The rules, the modality exceptions and the channel all ask the same questions, so they are
answered here once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Final

from config.reference import Flow, ProhibitedGoods, ReferenceData, RestrictedGoods
from edi_formats.models import DUA, OE, ExportSeries, ImportSeries

__all__ = [
    "TPROD_CODES",
    "TPROD_NEITHER",
    "TPROD_NOT_PROHIBITED",
    "TPROD_NOT_RESTRICTED",
    "competent_entities",
    "flow_of",
    "has_restricted_goods",
    "prohibited_goods",
    "restricted_goods",
]

TPROD_NOT_PROHIBITED: Final = "97"
TPROD_NOT_RESTRICTED: Final = "98"
TPROD_NEITHER: Final = "99"
TPROD_CODES: Final[dict[str, str]] = {
    TPROD_NOT_PROHIBITED: "mercancía no prohibida en una subpartida que incluye prohibidas",
    TPROD_NOT_RESTRICTED: "mercancía no restringida en una subpartida que incluye restringidas",
    TPROD_NEITHER: "mercancía ni prohibida ni restringida, en subpartida de ambas listas",
}
"""Seed 003 VI.8 a-c."""

Series = ImportSeries | ExportSeries


def flow_of(declaration: DUA | OE) -> Flow:
    return Flow.IMPORT if isinstance(declaration, DUA) else Flow.EXPORT


def restricted_goods(
    series: Series, flow: Flow, reference: ReferenceData, as_of: date | None = None
) -> tuple[RestrictedGoods, ...]:
    """The restricted reference rows the series falls under whose norm is in force on
    ``as_of``; none when TPROD 98/99 says the goods are not restricted."""
    if series.tprod in (TPROD_NOT_RESTRICTED, TPROD_NEITHER):
        return ()
    return _restricted_for(reference, series.subpartida, flow, as_of)


def prohibited_goods(
    series: Series, flow: Flow, reference: ReferenceData, as_of: date | None = None
) -> tuple[ProhibitedGoods, ...]:
    """The prohibited reference rows the series falls under (used-goods rows only for used
    goods) whose norm is in force on ``as_of``; none when TPROD 97/99 says the goods are not
    prohibited."""
    if series.tprod in (TPROD_NOT_PROHIBITED, TPROD_NEITHER):
        return ()
    return _prohibited_for(reference, series.subpartida, flow, series.state, as_of)


# A series is looked up by a dozen rules and the channel; the tables are immutable (and a
# ``ReferenceData`` is hashed by identity), so each answer is found once per process.


@lru_cache(maxsize=4096)
def _restricted_for(
    reference: ReferenceData, subpartida: str, flow: Flow, as_of: date | None
) -> tuple[RestrictedGoods, ...]:
    return reference.restricted_for(subpartida, flow, as_of)


@lru_cache(maxsize=4096)
def _prohibited_for(
    reference: ReferenceData, subpartida: str, flow: Flow, state: str | None, as_of: date | None
) -> tuple[ProhibitedGoods, ...]:
    return reference.prohibited_for(subpartida, flow, state, as_of)


def competent_entities(goods: Iterable[RestrictedGoods]) -> frozenset[str]:
    """The entities any of whose control documents covers the goods (Annex A codes)."""
    return frozenset(code for row in goods for code in row.annex.entities)


def has_restricted_goods(declaration: DUA | OE, reference: ReferenceData) -> bool:
    """Whether any series is restricted goods by the restricted-goods tables (TPROD 98/99
    taking it out). A control document alone does not make goods restricted: anyone can
    write one, and art. 62A f) excepts "mercancía restringida", not declarations that cite
    a document."""
    flow = flow_of(declaration)
    series: Iterable[Series] = declaration.series
    return any(restricted_goods(item, flow, reference) for item in series)
