"""The whole catalog: every rule of RULES.md, its dates from the schedule table, replaceable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from config.reference import ReferenceFiles, load_reference, shipped_reference
from validators.rules import CATALOG, catalog_for
from validators.rules.sources import source_of

RULES_MD = {
    "TD-OFFICE", "TD-SENDER", "REG-CODE", "ID-RUC", "ID-NORUC", "MOD-CODE", "MOD-TDOC",
    "MOD-04-PLACE", "MOD-ANT-MANIFEST", "DL-ANTICIPADO", "DL-URGENTE", "DL-EXCEPCIONAL",
    "ONE-CONSIGNEE", "DOCS-REGIME", "ANT-MANDATORY", "PROHIBITED", "RESTR-DOC",
    "RESTR-ENTITY", "RESTR-TPROD", "RESTR-OFFICE", "RESTR-VALIDITY", "CH-ASSIGN", "NUMBER",
    "TASA", "FOB-10", "VIGENTE", "DUP",
}  # fmt: skip

FROM = {
    "ID-NORUC": date(2010, 8, 31),
    "DOCS-REGIME": date(2019, 12, 31),
    "ANT-MANDATORY": date(2019, 12, 31),
    "PROHIBITED": date(2004, 7, 23),
    "RESTR-DOC": date(2004, 7, 23),
    "RESTR-VALIDITY": date(2004, 7, 23),
    "TASA": date(2010, 8, 31),
    "FOB-10": date(2020, 12, 31),
    "VIGENTE": date(2010, 8, 31),
}


def test_every_rule_of_rules_md_is_in_the_catalog_with_a_citation() -> None:
    """Citations name norms as brokers look them up; the source texts are kept apart."""
    assert set(CATALOG.ids()) >= RULES_MD
    for version in CATALOG:
        assert "seed" not in version.citation, version.id
        assert source_of(version.citation), version.id


def test_the_dates_of_rules_md() -> None:
    for rule_id, start in FROM.items():
        assert CATALOG.versions(rule_id)[-1].effective_from == start, rule_id


def test_ch_assign_has_a_version_before_and_after_inta_pg01a() -> None:
    draw, before, after, exports = CATALOG.versions("CH-ASSIGN")
    assert draw.validity_for("118").end == date(2004, 7, 22) and "INTA" not in draw.citation
    assert exports.applies_to == {"OE"} and exports.validity_for("118").end is None
    assert before.validity_for("118").end == date(2010, 9, 19)
    assert after.validity_for("118").start == date(2010, 9, 20)
    assert "VII.A.45" in after.citation and "proyecto" in before.citation


def test_a_replaced_schedule_moves_the_rules(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "config/data/office_schedules.csv").read_text(
        "utf-8"
    )
    moved = text.replace("INTA-PG.01-A,118,2010-09-20", "INTA-PG.01-A,118,2011-01-03")
    path = tmp_path / "office_schedules.csv"
    path.write_text(moved, "utf-8")
    catalog = catalog_for(load_reference(ReferenceFiles(office_schedules=path)))
    (mod_code,) = catalog.versions("MOD-CODE")
    assert mod_code.validity_for("118").start == date(2011, 1, 3)
    assert mod_code.validity_for("235").start == date(2010, 9, 27)
    _, before, _, _ = catalog.versions("CH-ASSIGN")
    assert before.validity_for("118").end == date(2011, 1, 2)
    assert catalog_for(shipped_reference()) is CATALOG
