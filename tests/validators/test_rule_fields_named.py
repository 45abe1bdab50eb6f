"""Every field a rule reports is named in the words of the DUA and O/E forms."""

from __future__ import annotations

from datetime import date

from config import OfficeRegistry
from edi_formats.boxes import box_label
from validators.engine import RuleContext, validate
from validators.rules import CATALOG
from validators.samples import break_rule, sample_declaration


def test_every_field_a_rule_reports_has_the_forms_words(offices: OfficeRegistry) -> None:
    """Break each rule of the catalog in a sample: every field it names has a label."""
    as_of = date(2026, 11, 2)
    unlabelled = set()
    for kind in ("dua", "oe"):
        for rule_id in CATALOG.ids():
            try:
                broken = break_rule(sample_declaration(kind, as_of=as_of), rule_id)
            except (KeyError, ValueError):
                continue  # the rule has no sample breaking it for this document
            context = RuleContext(as_of=as_of, offices=offices, addressed_office=broken.office)
            for finding in validate(broken, context):
                if finding.field and box_label(finding.field, broken.document_type) is None:
                    unlabelled.add(finding.field)
    assert unlabelled == set()
