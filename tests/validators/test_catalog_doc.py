"""docs/rules.md is the catalog's own account: regenerated here and compared."""

from __future__ import annotations

from pathlib import Path

from config import OfficeRegistry
from validators.catalog_doc import render_rules_doc
from validators.rules import CATALOG

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_the_generated_catalog(offices: OfficeRegistry) -> None:
    """If this fails, run ``teledispatch rules doc > docs/rules.md`` and review the diff."""
    assert DOC.read_text("utf-8") == render_rules_doc(CATALOG, offices)


def test_it_tells_each_rule_its_dates_offices_and_source(offices: OfficeRegistry) -> None:
    text = render_rules_doc(CATALOG, offices)
    for rule_id in CATALOG.ids():
        assert f"\n## {rule_id}\n" in text
    assert text.count("  - Vigencia: ") == len(CATALOG)
    assert text.count("  - Aduanas: ") == len(CATALOG)
    assert text.count("  - Base legal: ") == len(CATALOG)
    assert text.count("  - Fuente: ") == len(CATALOG)
    assert "046 Paita: no rige" in text and "118 Marítima del Callao: desde 20/09/2010" in text
    assert "seed" not in "".join(line for line in text.splitlines() if "Base legal" in line)
