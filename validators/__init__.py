"""The rule engine and the rules: what a declaration must satisfy, as of a date."""

from __future__ import annotations

from validators.engine import RuleContext, transmission_date, validate
from validators.findings import Finding, Severity, has_errors
from validators.registry import Problem, Rule, RuleRegistry, Validity, rule

__all__ = [
    "Finding",
    "Problem",
    "Rule",
    "RuleContext",
    "RuleRegistry",
    "Severity",
    "Validity",
    "has_errors",
    "rule",
    "transmission_date",
    "validate",
]
