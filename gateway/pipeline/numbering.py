"""Declaration numbers: ``OOO-YYYY-RR-NNNNNN`` (office, year, regime, correlative).

The correlative is taken from the store's counter inside the transaction that writes the
acceptance (``mailboxes.jobs.Answering.next_correlative``), so numbers are unique and have no
gaps per office, year and regime: a crash before the commit takes the number back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from mailboxes.jobs import Answering
from validators.engine import transmission_date

__all__ = [
    "MAX_CORRELATIVE",
    "NUMBER_PATTERN",
    "DeclarationNumber",
    "NumberingExhausted",
    "numbering_year",
    "take_number",
]

MAX_CORRELATIVE: Final = 999_999
NUMBER_PATTERN: Final = re.compile(r"^(\d{3})-(\d{4})-(\d{2})-(\d{6})$")


class NumberingExhausted(Exception):
    """The office gave every correlative of the year for that regime (six digits)."""


@dataclass(frozen=True, slots=True, order=True)
class DeclarationNumber:
    office: str
    year: int
    regime: str
    correlative: int

    def __str__(self) -> str:
        return f"{self.office}-{self.year:04d}-{self.regime}-{self.correlative:06d}"

    @classmethod
    def parse(cls, text: str) -> DeclarationNumber:
        match = NUMBER_PATTERN.match(text)
        if match is None:
            raise ValueError(f"not a declaration number: {text!r}")
        office, year, regime, correlative = match.groups()
        return cls(office, int(year), regime, int(correlative))


def numbering_year(received_at: datetime) -> int:
    """The year of the number: the receipt's calendar year in Lima (the node's clock)."""
    return transmission_date(received_at).year


async def take_number(
    answering: Answering, *, office: str, received_at: datetime, regime: str
) -> DeclarationNumber:
    """The next number of ``office``'s series for the receipt year and ``regime``."""
    year = numbering_year(received_at)
    correlative = await answering.next_correlative(office, year, regime)
    if correlative > MAX_CORRELATIVE:
        raise NumberingExhausted(f"office {office} has no number left in {year} for {regime}")
    return DeclarationNumber(office, year, regime, correlative)
