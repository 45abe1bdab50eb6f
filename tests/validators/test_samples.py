"""Every rule has a passing declaration (the sample) and a failing one (``break_rule``)."""

from __future__ import annotations

from datetime import date

import pytest

from config import OfficeRegistry
from edi_formats.models import DUA, OE
from validators.engine import RuleContext, validate
from validators.findings import Severity, has_errors
from validators.rules import CATALOG
from validators.samples import BREAKABLE, NOTES, break_rule, sample_declaration

AS_OF = date(2025, 3, 3)
SAMPLE_DATE = {"DL-EXCEPCIONAL": date(2015, 3, 3)}
"""Rules no longer in force on AS_OF are broken on a date they were (DL-EXCEPCIONAL gave way
to DL-DIFERIDO on 2019-12-31)."""
DUA_ONLY = {r.id for r in CATALOG} - {r.id for r in CATALOG if "OE" in r.applies_to}
CASES = [
    (kind, rule_id)
    for kind in ("dua", "oe")
    for rule_id in [*BREAKABLE, *NOTES]
    if kind == "dua" or rule_id not in DUA_ONLY
]


@pytest.mark.parametrize("kind", ["dua", "oe"])
@pytest.mark.parametrize(
    ("as_of", "office"),
    [(AS_OF, "118"), (date(2012, 7, 1), "154"), (date(1997, 3, 3), "235"), (AS_OF, "280")],
)
def test_sample_passes_every_rule(
    offices: OfficeRegistry, kind: str, as_of: date, office: str
) -> None:
    declaration = sample_declaration(kind, office=office, as_of=as_of)  # type: ignore[arg-type]
    assert validate(declaration, RuleContext(as_of=as_of, offices=offices)) == []


def test_sample_kinds_and_identity() -> None:
    dua = sample_declaration("dua", office="235", agent_code="7001", as_of=AS_OF)
    oe = sample_declaration("oe", as_of=AS_OF, reference="MY-REF-1")
    assert isinstance(dua, DUA) and dua.office == "235" and dua.agent_code == "7001"
    assert isinstance(oe, OE) and oe.agent_reference == "MY-REF-1" and oe.regime == "40"


def test_sample_series_count(offices: OfficeRegistry) -> None:
    declaration = sample_declaration("dua", as_of=AS_OF, series_count=10)
    assert [s.number for s in declaration.series] == list(range(1, 11))
    assert validate(declaration, RuleContext(as_of=AS_OF, offices=offices)) == []


@pytest.mark.parametrize(("kind", "rule_id"), CASES)
def test_broken_sample_fails_naming_only_that_rule(
    offices: OfficeRegistry, kind: str, rule_id: str
) -> None:
    as_of = SAMPLE_DATE.get(rule_id, AS_OF)
    ctx = RuleContext(as_of=as_of, offices=offices)
    broken = break_rule(sample_declaration(kind, as_of=as_of), rule_id)  # type: ignore[arg-type]
    findings = validate(broken, ctx)
    assert {f.rule_id for f in findings} == {rule_id}
    assert all(f.message and f.citation for f in findings)
    rule_severity = CATALOG.versions(rule_id)[0].severity
    assert has_errors(findings) is (rule_severity is Severity.ERROR)
    assert (rule_id in NOTES) is all(f.severity is Severity.INFO for f in findings)


STORE_BACKED = {"CTRL-SINGLE-USE", "URG-REGULARIZE", "MOD-04-OVERDUE", "MOD-04-PREMISES"}
"""Rules that judge a declaration against earlier ones (the store's facts): see
tests/gateway/pipeline/test_prior_dispatches.py."""


@pytest.mark.parametrize(
    "rule_id", ["TD-SENDER", "NUMBER", "DUP", "CH-ASSIGN", "NO-SUCH-RULE", *sorted(STORE_BACKED)]
)
def test_rules_a_document_cannot_break(rule_id: str) -> None:
    with pytest.raises(KeyError):
        break_rule(sample_declaration("dua", as_of=AS_OF), rule_id)


@pytest.mark.parametrize("rule_id", sorted(DUA_ONLY & set(BREAKABLE)))
def test_dua_only_rules_cannot_be_broken_on_an_oe(rule_id: str) -> None:
    with pytest.raises(KeyError):
        break_rule(sample_declaration("oe", as_of=AS_OF), rule_id)


def test_every_catalog_rule_is_breakable_or_explained() -> None:
    assert set(CATALOG.ids()) - set(BREAKABLE) - set(NOTES) == {
        "TD-SENDER",
        "NUMBER",
        "DUP",
        "CH-ASSIGN",
        *STORE_BACKED,
    }
    assert not set(BREAKABLE) & set(NOTES)


def test_breaks_are_valid_models() -> None:
    for rule_id in [*BREAKABLE, *NOTES]:
        broken = break_rule(sample_declaration("dua", as_of=AS_OF), rule_id)
        assert DUA.model_validate_json(broken.model_dump_json()) == broken


@pytest.mark.parametrize("fmt", ["flat", "json"])
@pytest.mark.parametrize(("kind", "rule_id"), CASES)
def test_broken_samples_survive_the_wire_formats(kind: str, rule_id: str, fmt: str) -> None:
    from edi_formats.codec import WireFormat, parse_declaration, render_declaration

    broken = break_rule(sample_declaration(kind, as_of=AS_OF), rule_id)  # type: ignore[arg-type]
    assert parse_declaration(render_declaration(broken, WireFormat(fmt))) == broken
