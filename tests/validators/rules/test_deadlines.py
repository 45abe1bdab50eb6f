"""Deadlines at their edges, counted in calendar days from the transmission date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from config import OfficeRegistry
from edi_formats.models import DUA, Modality
from tests.validators.helpers import change, findings_of, sample_dua
from validators.engine import RuleContext

ARRIVAL = date(2025, 3, 10)
ANTICIPADO = Modality(code="1-0", arrival_point="03", arrival_option="A")
URGENCIA = Modality(code="0-1", category="g")
EXCEPCIONAL = Modality(code="0-0")


def _dua(modality: Modality, arrival: date | None, discharged: date | None = None) -> DUA:
    dua = sample_dua()
    transport = change(dua.transport, arrival_date=arrival, discharge_end_date=discharged)
    return change(dua, modality=modality, transport=transport)


def _on(offices: OfficeRegistry, day: date) -> RuleContext:
    return RuleContext(as_of=day, offices=offices)


@pytest.mark.parametrize(
    ("offset", "ok"), [(-16, False), (-15, True), (-1, True), (0, True), (1, False)]
)
def test_anticipado_window(offices: OfficeRegistry, offset: int, ok: bool) -> None:
    ctx = _on(offices, ARRIVAL + timedelta(days=offset))
    assert (findings_of(_dua(ANTICIPADO, ARRIVAL), ctx, "DL-ANTICIPADO") == []) is ok


def test_anticipado_after_arrival_says_excepcional(offices: OfficeRegistry) -> None:
    (finding,) = findings_of(
        _dua(ANTICIPADO, ARRIVAL), _on(offices, date(2025, 3, 11)), "DL-ANTICIPADO"
    )
    assert "excepcional" in finding.message and "0-0" in finding.message


def test_anticipado_needs_the_arrival_date(offices: OfficeRegistry) -> None:
    (finding,) = findings_of(_dua(ANTICIPADO, None), _on(offices, ARRIVAL), "DL-ANTICIPADO")
    assert finding.field == "transport.arrival_date"


@pytest.mark.parametrize(("offset", "ok"), [(7, True), (8, False)])
def test_urgente_closes_seven_days_after_discharge(
    offices: OfficeRegistry, offset: int, ok: bool
) -> None:
    discharged = ARRIVAL + timedelta(days=2)
    ctx = _on(offices, discharged + timedelta(days=offset))
    assert (findings_of(_dua(URGENCIA, ARRIVAL, discharged), ctx, "DL-URGENTE") == []) is ok


def test_urgente_opening_changed_in_2019(offices: OfficeRegistry) -> None:
    arrival = date(2019, 12, 30) + timedelta(days=16)
    before = _on(offices, date(2019, 12, 30))
    after = _on(offices, date(2019, 12, 31))
    (finding,) = findings_of(_dua(URGENCIA, arrival), before, "DL-URGENTE")
    assert "15 días calendario antes" in finding.message
    assert findings_of(_dua(URGENCIA, arrival + timedelta(days=1)), after, "DL-URGENTE") == []
    # Before 2019-12-31 the arrival date was needed to count the 15 days; afterwards it is not.
    assert findings_of(_dua(URGENCIA, None), before, "DL-URGENTE")
    assert findings_of(_dua(URGENCIA, None), after, "DL-URGENTE") == []


@pytest.mark.parametrize(("offset", "ok"), [(0, True), (30, True), (31, False)])
def test_excepcional_thirty_days_after_discharge(
    offices: OfficeRegistry, offset: int, ok: bool
) -> None:
    discharged = ARRIVAL + timedelta(days=1)
    ctx = _on(offices, discharged + timedelta(days=offset))
    assert (findings_of(_dua(EXCEPCIONAL, ARRIVAL, discharged), ctx, "DL-EXCEPCIONAL") == []) is ok


def test_excepcional_needs_the_end_of_discharge(offices: OfficeRegistry) -> None:
    (finding,) = findings_of(_dua(EXCEPCIONAL, ARRIVAL), _on(offices, ARRIVAL), "DL-EXCEPCIONAL")
    assert finding.field == "transport.discharge_end_date"


def test_deadlines_not_in_force_in_1997(offices: OfficeRegistry) -> None:
    late = _dua(EXCEPCIONAL, date(1997, 1, 2), date(1997, 1, 3))
    assert (
        findings_of(change(late, office="118"), _on(offices, date(1997, 3, 3)), "DL-EXCEPCIONAL")
        == []
    )
