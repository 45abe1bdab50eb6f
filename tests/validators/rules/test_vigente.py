"""VIGENTE: code 21 in box 7.24 names the preceding declaration in box 7.3."""

from __future__ import annotations

from edi_formats.models import PrecedingDeclaration
from tests.validators.helpers import change, findings_of, sample_dua
from validators.engine import RuleContext


def _with(**changes: object) -> object:
    dua = sample_dua()
    series = list(dua.series)
    series[0] = change(series[0], **changes)
    return change(dua, series=tuple(series))


def test_code_21_needs_box_7_3(ctx: RuleContext) -> None:
    (finding,) = findings_of(_with(codes_7_24=("21",)), ctx, "VIGENTE")  # type: ignore[arg-type]
    assert finding.field == "series[0].preceding_declaration" and "casilla 7.3" in finding.message
    preceding = PrecedingDeclaration(number="118-2024-10-004512", series=3)
    good = _with(codes_7_24=("21",), preceding_declaration=preceding)
    assert findings_of(good, ctx, "VIGENTE") == []  # type: ignore[arg-type]


def test_code_20_alone_needs_nothing_more(ctx: RuleContext) -> None:
    assert findings_of(_with(codes_7_24=("20",)), ctx, "VIGENTE") == []  # type: ignore[arg-type]


def test_the_preceding_declaration_is_not_from_a_later_year(ctx: RuleContext) -> None:
    later = PrecedingDeclaration(number="118-2026-10-000001", series=1)
    (finding,) = findings_of(
        _with(codes_7_24=("21",), preceding_declaration=later),
        ctx,
        "VIGENTE",  # type: ignore[arg-type]
    )
    assert finding.field == "series[0].preceding_declaration.number"
