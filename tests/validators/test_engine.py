from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from config import FixedClock, OfficeRegistry
from edi_formats.models import DUA, OE
from validators.engine import RuleContext, transmission_date, validate
from validators.findings import Severity, has_errors
from validators.registry import Problem, RuleRegistry, rule
from validators.samples import break_rule, sample_declaration

AS_OF = date(2025, 3, 3)


def test_all_findings_are_collected_not_the_first(offices: OfficeRegistry) -> None:
    declaration = sample_declaration("dua", as_of=AS_OF)
    for rule_id in ("REG-CODE", "STR-SUBPARTIDA", "ID-RUC", "MOD-TDOC"):
        declaration = break_rule(declaration, rule_id)
    ids = [f.rule_id for f in validate(declaration, RuleContext(as_of=AS_OF, offices=offices))]
    assert ids == ["REG-CODE", "STR-SUBPARTIDA", "ID-RUC", "MOD-TDOC"]


def test_a_failing_rule_becomes_an_error_finding(offices: OfficeRegistry) -> None:
    @rule("BROKEN", title="t", citation="c")
    def broken(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
        yield Problem("", "never")
        raise ZeroDivisionError

    @rule("AFTER", title="t", citation="c", severity=Severity.WARNING)
    def after(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
        yield Problem("office", "still runs")

    registry = RuleRegistry([broken, after])
    ctx = RuleContext(as_of=AS_OF, offices=offices)
    findings = validate(sample_declaration("oe", as_of=AS_OF), ctx, registry)
    assert [(f.rule_id, f.severity) for f in findings] == [
        ("BROKEN", Severity.ERROR),
        ("BROKEN", Severity.ERROR),
        ("AFTER", Severity.WARNING),
    ]
    assert "Error interno" in findings[1].message
    assert has_errors(findings)


def test_problem_severity_overrides_the_rule(offices: OfficeRegistry) -> None:
    @rule("MIXED", title="t", citation="c")
    def mixed(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
        yield Problem("a", "soft", Severity.WARNING)

    ctx = RuleContext(as_of=AS_OF, offices=offices)
    findings = validate(sample_declaration("oe", as_of=AS_OF), ctx, RuleRegistry([mixed]))
    assert not has_errors(findings)
    assert findings[0].citation == "c" and findings[0].field == "a"


def test_rules_out_of_force_do_not_run(offices: OfficeRegistry) -> None:
    broken = break_rule(sample_declaration("dua", as_of=date(2010, 9, 10)), "MOD-CODE")
    # Maritime Callao applied INTA-PG.01-A from 2010-09-20, Arequipa from 2010-08-31.
    callao = RuleContext(as_of=date(2010, 9, 10), offices=offices)
    assert validate(broken, callao) == []
    arequipa = broken.model_copy(update={"office": "154"})
    assert {f.rule_id for f in validate(arequipa, callao)} == {"MOD-CODE"}


def test_context_date_is_the_peruvian_calendar_day(offices: OfficeRegistry) -> None:
    late_evening_in_lima = datetime(2025, 3, 4, 3, 30, tzinfo=UTC)
    assert transmission_date(late_evening_in_lima) == date(2025, 3, 3)
    ctx = RuleContext.from_clock(
        FixedClock(late_evening_in_lima), offices, addressed_office="118", sender_agent_code="1"
    )
    assert ctx.as_of == date(2025, 3, 3)
    assert ctx.addressed_office == "118" and ctx.sender_agent_code == "1"


def test_findings_of_one_rule_are_capped(offices: OfficeRegistry) -> None:
    from validators.engine import MAX_FINDINGS_PER_RULE

    declaration = sample_declaration("oe", as_of=AS_OF, series_count=MAX_FINDINGS_PER_RULE + 50)
    short = tuple(s.model_copy(update={"subpartida": "123"}) for s in declaration.series)
    findings = validate(
        declaration.model_copy(update={"series": short}), RuleContext(as_of=AS_OF, offices=offices)
    )
    assert len(findings) == MAX_FINDINGS_PER_RULE + 1
    assert "50 observaciones más" in findings[-1].message
    assert findings[-1].severity is Severity.ERROR
