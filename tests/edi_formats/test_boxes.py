"""A finding's field in the words of the DUA and O/E forms."""

from __future__ import annotations

import pytest

from edi_formats.boxes import box_label


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


def test_a_field_the_table_does_not_word_is_named_with_the_layouts_words() -> None:
    label = box_label("invoices[0].supplier.country", "DUA")
    assert label == "Factura o documento equivalente 1, proveedor de la factura: país del proveedor"
    assert box_label("totals", "DUA") == "Totales"
    assert box_label("consignee", "OE") == "Consignatario en el exterior"


def test_an_unknown_path_gets_no_label_rather_than_a_wrong_one() -> None:
    assert box_label("nothing.here") is None
    assert box_label(None) is None
    assert box_label("series[0].unheard_of") is None
