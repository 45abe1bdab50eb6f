"""Take a declaration's number in the answering transaction (the format and the series are
``validators.policy.numbering``).

The correlative is taken from the store's counter inside the transaction that writes the
acceptance (``mailboxes.jobs.Answering.next_correlative``), so numbers are unique and have no
gaps per office, year and regime: a crash before the commit takes the number back.
"""

from __future__ import annotations

from datetime import datetime

from mailboxes.jobs import Answering
from validators.policy.numbering import DeclarationNumber, Series, series_of

__all__ = ["take_in_series", "take_number"]


def take_in_series(answering: Answering, series: Series) -> DeclarationNumber:
    """The next number of ``series``."""
    correlative = answering.next_correlative(series.office, series.year, series.regime)
    return series.number(correlative)


def take_number(
    answering: Answering, *, office: str, received_at: datetime, regime: str
) -> DeclarationNumber:
    """The next number of ``office``'s series for the receipt year and ``regime``."""
    return take_in_series(answering, series_of(office, received_at, regime))
