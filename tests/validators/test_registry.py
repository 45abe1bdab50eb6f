from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from edi_formats.models import DUA, OE
from validators.engine import RuleContext
from validators.registry import Problem, RuleRegistry, Validity, rule
from validators.rules import CATALOG


def _nothing(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    return iter(())


def test_validity_is_inclusive_and_open_ended() -> None:
    window = Validity(date(2010, 8, 31), date(2019, 12, 30))
    assert window.contains(date(2010, 8, 31))
    assert window.contains(date(2019, 12, 30))
    assert not window.contains(date(2010, 8, 30))
    assert not window.contains(date(2019, 12, 31))
    assert Validity().contains(date(1900, 1, 1))
    assert Validity(end=date(2000, 1, 1)).overlaps(Validity(start=date(2000, 1, 1)))
    assert not Validity(end=date(1999, 12, 31)).overlaps(Validity(start=date(2000, 1, 1)))


def test_same_id_with_overlapping_dates_is_refused() -> None:
    first = rule("X-1", title="t", citation="c", effective_to=date(2000, 1, 1))(_nothing)
    later = rule("X-1", title="t", citation="c", effective_from=date(2000, 1, 2))(_nothing)
    clash = rule("X-1", title="t", citation="c", effective_from=date(1999, 6, 1))(_nothing)
    registry = RuleRegistry([first, later])
    assert registry.ids() == ["X-1"]
    assert len(registry.versions("X-1")) == 2
    with pytest.raises(ValueError, match="overlapping"):
        registry.register(clash)


def test_same_id_for_disjoint_documents_is_allowed() -> None:
    registry = RuleRegistry(
        [
            rule("X-2", title="t", citation="c", applies_to={"DUA"})(_nothing),
            rule("X-2", title="t", citation="c", applies_to={"OE"})(_nothing),
        ]
    )
    assert len(registry.in_force("OE", date(2020, 1, 1), "118")) == 1


def test_per_office_start_dates_of_inta_pg01a() -> None:
    def in_force(day: date, office: str) -> bool:
        return "MOD-CODE" in {r.id for r in CATALOG.in_force("DUA", day, office)}

    assert in_force(date(2010, 8, 31), "154")
    assert not in_force(date(2010, 8, 30), "154")
    assert not in_force(date(2010, 9, 19), "118")
    assert in_force(date(2010, 9, 20), "118")
    assert not in_force(date(2010, 9, 26), "235")
    assert in_force(date(2010, 9, 27), "235")
    assert not in_force(date(2010, 9, 29), "244")
    assert in_force(date(2010, 9, 30), "244")


def test_dl_urgente_changes_version_with_ds_367_2019() -> None:
    def citation(day: date) -> str:
        (found,) = [r for r in CATALOG.in_force("DUA", day, "118") if r.id == "DL-URGENTE"]
        return found.citation

    assert "Procedimiento INTA-PG.01-A, VI.7 b" in citation(date(2019, 12, 30))
    assert "art. 230" in citation(date(2019, 12, 31))


def test_rules_apply_only_to_their_documents() -> None:
    oe_rules = {r.id for r in CATALOG.in_force("OE", date(2025, 1, 1), "118")}
    assert "MOD-CODE" not in oe_rules
    assert {"TD-OFFICE", "REG-CODE", "STR-TOTALS", "ID-RUC"} <= oe_rules


def test_catalog_holds_the_issue_rules_with_citations() -> None:
    expected = {
        "TD-OFFICE", "TD-SENDER", "REG-CODE", "ID-RUC", "MOD-CODE", "MOD-TDOC", "MOD-04-PLACE",
        "MOD-ANT-MANIFEST", "DL-ANTICIPADO", "DL-URGENTE", "DL-EXCEPCIONAL", "ONE-CONSIGNEE",
        "NUMBER", "DUP",
    }  # fmt: skip
    ids = set(CATALOG.ids())
    assert expected <= ids
    assert {i for i in ids if i.startswith("STR-")} >= {"STR-REQUIRED", "STR-TOTALS", "STR-CIF"}
    for item in CATALOG:
        assert item.citation and item.title and item.applies_to
        assert item.check.__doc__, f"{item.id} has no docstring"
