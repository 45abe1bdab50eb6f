"""Rules as data plus a small function, and the catalog that says which are in force.

A rule is an id, a citation, the documents it applies to, the dates it is in force (with
per-office dates where a seed phases a procedure in office by office) and a check. The same
id may be registered more than once with windows that do not overlap: that is how a rule
changes when a later regulation amends it (DL-URGENTE before and after DS 367-2019-EF). Adding
a rule or a document type is a registration, never a change to the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, NamedTuple

from config.reference import ReferenceData, shipped_reference
from validators.findings import Severity

if TYPE_CHECKING:
    from edi_formats.models import DUA, OE
    from validators.context import RuleContext

__all__ = [
    "ALL_DOCUMENTS",
    "Check",
    "Problem",
    "Rule",
    "RuleRegistry",
    "Validity",
    "rule",
]

ALL_DOCUMENTS: frozenset[str] = frozenset({"DUA", "OE"})


class Problem(NamedTuple):
    """What a check yields; the engine adds the rule id and citation to make a Finding.

    ``severity`` None means the rule's own severity.
    """

    field: str
    message: str
    severity: Severity | None = None


Check = Callable[["DUA | OE", "RuleContext"], Iterable[Problem]]


@dataclass(frozen=True, slots=True)
class Validity:
    """A window of dates, both ends inclusive; None is open."""

    start: date | None = None
    end: date | None = None

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: Validity) -> bool:
        starts_before_other_ends = (
            self.start is None or other.end is None or self.start <= other.end
        )
        ends_after_other_starts = self.end is None or other.start is None or other.start <= self.end
        return starts_before_other_ends and ends_after_other_starts


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the catalog.

    ``citation`` is the source a broker can look up ("INTA-PG.01-A VII.A.2 (seed 004)").
    ``office_validity`` overrides ``validity`` for the offices it names. ``schedule`` names
    the procedure of the office-schedule table whose dates start the rule, ``until`` one the
    rule gives way to (it ends the day before that one starts): ``rescheduled`` recomputes
    both windows from a replacement table.
    """

    id: str
    title: str
    citation: str
    applies_to: frozenset[str]
    check: Check
    severity: Severity = Severity.ERROR
    validity: Validity = Validity()
    office_validity: Mapping[str, Validity] = field(default_factory=dict)
    schedule: str | None = None
    until: str | None = None

    @property
    def effective_from(self) -> date | None:
        return self.validity.start

    @property
    def effective_to(self) -> date | None:
        return self.validity.end

    def validity_for(self, office: str) -> Validity:
        return self.office_validity.get(office, self.validity)

    def in_force(self, document_type: str, as_of: date, office: str) -> bool:
        return document_type in self.applies_to and self.validity_for(office).contains(as_of)

    def rescheduled(self, reference: ReferenceData) -> Rule:
        """This rule with its windows taken from ``reference``'s office schedules."""
        if self.schedule is None and self.until is None:
            return self
        validity, per_office = _windows(
            reference,
            schedule=self.schedule,
            until=self.until,
            start=self.validity.start,
            end=self.validity.end,
            office_from={},
        )
        return replace(self, validity=validity, office_validity=per_office)


def _windows(
    reference: ReferenceData,
    *,
    schedule: str | None,
    until: str | None,
    start: date | None,
    end: date | None,
    office_from: Mapping[str, date],
) -> tuple[Validity, dict[str, Validity]]:
    """The default window and the per-office ones, from fixed dates or schedules."""
    starts = reference.schedule(schedule) if schedule is not None else None
    ends = reference.schedule(until) if until is not None else None
    offices = set(office_from)
    if starts is not None:
        offices |= set(starts.offices)
    if ends is not None:
        offices |= set(ends.offices)

    def window(office: str | None) -> Validity:
        first = start
        if starts is not None:
            first = starts.start if office is None else starts.start_for(office)
        elif office is not None:
            first = office_from.get(office, start)
        last = end
        if ends is not None:
            last = (ends.start if office is None else ends.start_for(office)) - timedelta(days=1)
        return Validity(first, last)

    return window(None), {office: window(office) for office in sorted(offices)}


def rule(
    rule_id: str,
    *,
    title: str,
    citation: str,
    applies_to: Iterable[str] = ALL_DOCUMENTS,
    severity: Severity = Severity.ERROR,
    effective_from: date | None = None,
    effective_to: date | None = None,
    office_from: Mapping[str, date] | None = None,
    schedule: str | None = None,
    until: str | None = None,
) -> Callable[[Check], Rule]:
    """Decorator turning a check function into a Rule.

    ``office_from`` gives per-office start dates (the end stays ``effective_to``).
    ``schedule`` takes the start dates, per office, from the office-schedule table instead
    (``config/data/office_schedules.csv``); ``until`` ends the rule the day before the named
    procedure starts at each office.
    """
    validity, per_office = _windows(
        shipped_reference(),
        schedule=schedule,
        until=until,
        start=effective_from,
        end=effective_to,
        office_from=office_from or {},
    )

    def make(check: Check) -> Rule:
        return Rule(
            id=rule_id,
            title=title,
            citation=citation,
            applies_to=frozenset(applies_to),
            check=check,
            severity=severity,
            validity=validity,
            office_validity=per_office,
            schedule=schedule,
            until=until,
        )

    return make


class RuleRegistry:
    """The catalog of rules, in the order findings are reported.

    ``in_force`` is asked once per declaration, with few distinct keys (document type,
    date, office), so its answers are memoized.
    """

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._rules: list[Rule] = []
        self._in_force_cache: dict[tuple[str, date, str], tuple[Rule, ...]] = {}
        for item in rules:
            self.register(item)

    def register(self, new: Rule) -> None:
        for existing in self._rules:
            if existing.id != new.id:
                continue
            offices = set(existing.office_validity) | set(new.office_validity) | {""}
            for office in offices:
                if existing.validity_for(office).overlaps(new.validity_for(office)) and (
                    existing.applies_to & new.applies_to
                ):
                    raise ValueError(f"rule {new.id} is registered twice for overlapping dates")
        self._rules.append(new)
        self._in_force_cache.clear()

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def ids(self) -> list[str]:
        """Rule ids in catalog order, each once."""
        return list(dict.fromkeys(item.id for item in self._rules))

    def versions(self, rule_id: str) -> list[Rule]:
        """Every registered version of ``rule_id`` (KeyError if there is none)."""
        found = [item for item in self._rules if item.id == rule_id]
        if not found:
            raise KeyError(rule_id)
        return found

    def in_force(self, document_type: str, as_of: date, office: str) -> tuple[Rule, ...]:
        key = (document_type, as_of, office)
        cached = self._in_force_cache.get(key)
        if cached is None:
            cached = tuple(r for r in self._rules if r.in_force(document_type, as_of, office))
            if len(self._in_force_cache) > 4096:
                self._in_force_cache.clear()
            self._in_force_cache[key] = cached
        return cached
