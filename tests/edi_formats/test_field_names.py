"""The broker's name of a place in the model (``edi_formats.field_names``)."""

from __future__ import annotations

import pytest

from edi_formats.field_names import field_name


@pytest.mark.parametrize(
    ("document_type", "loc", "named"),
    [
        ("DUA", ("office",), ("", "aduana de despacho")),
        ("DUA", ("modality", "code"), ("", "modalidad de despacho")),
        ("DUA", ("importer",), ("", "importador")),
        ("DUA", ("importer", "doc_number"), ("importador", "número de documento")),
        ("DUA", ("totals", "fob"), ("totales", "valor FOB total")),
        ("DUA", ("series", 1, "origin_country"), ("serie 2", "país de origen")),
        (
            "DUA",
            ("invoices", 0, "supplier", "country"),
            ("factura o documento equivalente 1, proveedor de la factura", "país del proveedor"),
        ),
        (
            "DUA",
            ("series", 0, "control_documents", 1, "issued_on"),
            ("serie 1, documento de control de la serie 2", "fecha de emisión (casilla 7.37)"),
        ),
        (
            "DUA",
            ("series", 2, "codes_7_24", 0),
            ("serie 3", "código de la casilla 7.24 (casilla 7.24)"),
        ),
        ("DUA", ("transport", "containers", 3), ("", "número de contenedor")),
        (
            "OE",
            ("consignee", "name"),
            ("consignatario en el exterior", "nombre del consignatario"),
        ),
    ],
)
def test_a_place_is_named_in_the_forms_words(
    document_type: str, loc: tuple[int | str, ...], named: tuple[str, str]
) -> None:
    name = field_name(document_type, loc)
    assert name is not None and (name.within, name.label) == named


def test_nothing_for_what_the_form_does_not_name() -> None:
    assert field_name("DUA", ("no_such_field",)) is None
    assert field_name("XYZ", ("office",)) is None
