"""A finding's field in the words of the DUA and O/E forms."""

from __future__ import annotations

from datetime import date

import pytest

from config import OfficeRegistry
from validators.boxes import box_label
from validators.engine import RuleContext, validate
from validators.rules import CATALOG
from validators.samples import break_rule, sample_declaration


@pytest.mark.parametrize(
    ("path", "document_type", "label"),
    [
        ("importer.doc_number", "DUA", "Importador: número de documento (RUC)"),
        ("series[0].cif", "DUA", "Serie 1, valor CIF"),
        (
            "series[2].preceding_declaration",
            "DUA",
            "Serie 3, casilla 7.3: declaración precedente y serie",
        ),
        (
            "series[0].control_documents[1].expires_on",
            "DUA",
            "Serie 1, casilla 7.37: documento de control, documento 2",
        ),
        ("series[0].control_documents", "OE", "Serie 1, casilla 4.13: documento de control"),
        ("invoices[0].supplier_fax", "DUA", "Formato B, casilla 3.7: facsímil del proveedor"),
        ("transport.documents[1].doc_type", "DUA", "Documento de transporte 2: tipo"),
        ("observations_7_38", "DUA", "Casilla 7.38: observaciones"),
    ],
)
def test_paths_read_as_the_form(path: str, document_type: str, label: str) -> None:
    assert box_label(path, document_type) == label  # type: ignore[arg-type]


def test_an_unknown_path_gets_no_label_rather_than_a_wrong_one() -> None:
    assert box_label("nothing.here") is None
    assert box_label(None) is None
    assert box_label("series[0].unheard_of") is None


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
