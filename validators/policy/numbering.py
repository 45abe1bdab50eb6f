"""Declaration numbers: ``OOO-YYYY-RR-NNNNNN`` (office, year, regime, correlative).

The correlative comes from the store's counter of the office, year and regime; this module
says which series a declaration is numbered in and how its number reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from validators.context import transmission_date

__all__ = [
    "MAX_CORRELATIVE",
    "NUMBER_LENGTH",
    "NUMBER_PATTERN",
    "DeclarationNumber",
    "NumberingExhausted",
    "Series",
    "numbering_year",
    "series_of",
]

MAX_CORRELATIVE: Final = 999_999
NUMBER_PATTERN: Final = re.compile(r"^(\d{3})-(\d{4})-(\d{2})-(\d{6})$")
NUMBER_LENGTH: Final = 18
"""Every number has the same width, so an answer can be written before its number is known."""


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


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class Series:
    """The numbering series of an office, year and regime."""

    office: str
    year: int
    regime: str

    def number(self, correlative: int) -> DeclarationNumber:
        """The series' number ``correlative``; beyond six digits the series is exhausted."""
        if not 1 <= correlative <= MAX_CORRELATIVE:
            if correlative > MAX_CORRELATIVE:
                raise NumberingExhausted(
                    f"office {self.office} has no number left in {self.year} for {self.regime}"
                )
            raise ValueError(f"not a correlative: {correlative}")
        return DeclarationNumber(self.office, self.year, self.regime, correlative)


def series_of(office: str, received_at: datetime, regime: str) -> Series:
    """The series a declaration received at ``received_at`` is numbered in."""
    return Series(office, numbering_year(received_at), regime)
