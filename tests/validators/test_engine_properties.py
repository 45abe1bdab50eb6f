"""The engine answers every readable declaration with findings, never with an internal error."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from config import load_offices
from edi_formats.models import DUA, OE
from validators.engine import RuleContext, validate
from validators.findings import has_errors
from validators.samples import BREAKABLE, break_rule, sample_declaration

OFFICES = load_offices()
BASE = date(2025, 3, 3)

_amounts = st.decimals(min_value=-1000, max_value=10**6, places=3, allow_nan=False)
_days = st.integers(min_value=-400, max_value=400)
_modality = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["1-0", "0-1", "0-2", "0-0", "2-0", "9-9"]),
        "arrival_point": st.sampled_from([None, "03", "04", "05"]),
        "arrival_option": st.sampled_from([None, "A", "B", "Z"]),
        "category": st.sampled_from([None, "a", "i", "n", "z"]),
    }
)


@st.composite
def _mangled(draw: st.DrawFn) -> tuple[DUA | OE, date]:
    kind = draw(st.sampled_from(["dua", "oe"]))
    count = draw(st.integers(min_value=1, max_value=6))
    declaration = sample_declaration(kind, as_of=BASE, series_count=count)  # type: ignore[arg-type]
    data: dict[str, Any] = declaration.model_dump()
    data["office"] = draw(st.sampled_from([*OFFICES, "999"]))
    data["regime"] = draw(st.sampled_from(["10", "40", "20"]))
    for series in data["series"]:
        series["number"] = draw(st.integers(min_value=1, max_value=8))
        series["fob"] = draw(_amounts)
        series["net_weight"] = Decimal(draw(st.integers(min_value=-5, max_value=900)))
        series["subpartida"] = draw(st.from_regex(r"\d{1,12}", fullmatch=True))
    if kind == "dua":
        data["modality"] = draw(_modality)
        transport = data["transport"]
        for key in ("arrival_date", "discharge_end_date"):
            offset = draw(st.none() | _days)
            transport[key] = None if offset is None else BASE + timedelta(days=offset)
        transport["warehouse_code"] = draw(st.sampled_from([None, "3014"]))
        data["observations_7_38"] = draw(st.sampled_from([None, "E.A.:0000 AV. LIMA 1 150101"]))
        if draw(st.booleans()):
            transport["manifest"] = None
    if draw(st.booleans()):
        data["series"] = []
    model = type(declaration).model_validate(data)
    as_of = BASE + timedelta(days=draw(st.integers(min_value=-12000, max_value=3000)))
    return model, as_of


@settings(max_examples=300, deadline=None)
@given(_mangled())
def test_any_readable_declaration_gets_findings_not_crashes(case: tuple[DUA | OE, date]) -> None:
    declaration, as_of = case
    findings = validate(declaration, RuleContext(as_of=as_of, offices=OFFICES))
    assert not any("Error interno" in f.message for f in findings)
    assert all(f.rule_id and f.message and f.citation for f in findings)


# Each of these breaks rewrites the modality and its dates, so a later one can undo an
# earlier one (an urgent DUA made late, then turned anticipado and early, is valid again).
MODALITY_BREAKS = frozenset(
    {"MOD-CODE", "MOD-TDOC", "MOD-04-PLACE", "MOD-ANT-MANIFEST"}
    | {"DL-ANTICIPADO", "DL-URGENTE", "DL-EXCEPCIONAL"}
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(BREAKABLE)), min_size=1, max_size=4, unique=True),
    st.integers(min_value=1, max_value=4),
)
# Once drawn at random: RESTR-DOC kept the narcotics break's DIGEMID certificate, the very
# permit its medicines need, and the declaration came out valid.
@example(["RESTR-ENTITY", "RESTR-NARCOTICS", "RESTR-DOC"], 1)
def test_breaking_several_rules_rejects(rule_ids: list[str], series: int) -> None:
    assume(len(MODALITY_BREAKS.intersection(rule_ids)) <= 1)
    declaration: DUA | OE = sample_declaration("dua", as_of=BASE, series_count=series)
    for rule_id in rule_ids:
        declaration = break_rule(declaration, rule_id)
    findings = validate(declaration, RuleContext(as_of=BASE, offices=OFFICES))
    assert findings
    assert has_errors(findings) or rule_ids == ["MOD-ANT-MANIFEST"]
