"""One declaration judged on four dates: each date's catalog decides what is found."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from config import OfficeRegistry
from edi_formats.models import DUA, Modality
from tests.validators.helpers import change
from validators.engine import RuleContext, validate
from validators.findings import Severity
from validators.samples import break_rule, sample_declaration


def _declaration() -> DUA:
    """An excepcional DUA of Maritime Callao, discharged in February 1997: used clothing worth
    US$ 8,200 FOB, without invoice, whose second series is a later dispatch of goods
    "vigentes" (box 7.24 code 21) without the preceding declaration in box 7.3."""
    made = sample_declaration("dua", office="118", as_of=date(1997, 2, 15), reference="VIAJE-1")
    big = break_rule(made, "TASA")
    assert isinstance(big, DUA)
    series = list(big.series)
    series[0] = change(series[0], subpartida="6309000000", description="ROPA USADA EN FARDOS")
    series[1] = change(series[1], codes_7_24=("21",))
    transport = change(
        big.transport, arrival_date=date(1997, 2, 20), discharge_end_date=date(1997, 2, 21)
    )
    return change(
        big,
        modality=Modality(code="0-0"),
        transport=transport,
        invoices=(),
        series=tuple(series),
    )


EXPECTED = {
    # Teledespacho in its first weeks: used clothing is of prohibited import since DL 25789
    # (21.10.1992), whatever the procedures of later years.
    date(1997, 3, 3): {"PROHIBITED"},
    # INTA-PE.00.06 (2004-07-23): the same prohibition, now under the procedure's annex 27.
    date(2005, 1, 10): {"PROHIBITED"},
    # INTA-PG.01-A (Callao 2010-09-20): the excepcional deadline, box 7.3, the fee.
    date(2011, 1, 10): {"PROHIBITED", "DL-EXCEPCIONAL", "VIGENTE", "TASA"},
    # DS 367-2019-EF (2019-12-31): documents of the regime, the anticipado is mandatory.
    date(2020, 6, 1): {
        "PROHIBITED",
        "DL-DIFERIDO",
        "VIGENTE",
        "TASA",
        "DOCS-REGIME",
        "ANT-MANDATORY",
    },
}


@pytest.mark.parametrize("as_of", sorted(EXPECTED))
def test_each_date_applies_its_own_rules(offices: OfficeRegistry, as_of: date) -> None:
    findings = validate(_declaration(), RuleContext(as_of=as_of, offices=offices))
    assert {f.rule_id for f in findings} == EXPECTED[as_of]
    assert all(f.citation and f.message for f in findings)
    notes = {f.rule_id for f in findings if f.severity is Severity.INFO}
    assert notes == ({"TASA"} & EXPECTED[as_of])


def test_the_later_the_date_the_more_it_finds(offices: OfficeRegistry) -> None:
    dates = sorted(EXPECTED)
    for earlier, later in itertools.pairwise(dates):
        assert len(EXPECTED[earlier]) <= len(EXPECTED[later])
    # DS 367-2019-EF renamed the 0-0 and its term: the excepcional's rule gave way.
    assert "DL-EXCEPCIONAL" in EXPECTED[date(2011, 1, 10)] - EXPECTED[date(2020, 6, 1)]
