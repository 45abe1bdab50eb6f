"""The boxes of the DUA and O/E forms, as a broker names them: the one way a field is named.

Findings, and what the readers refuse, point at a field of the model (``series[0].cif``) so
that programs can find it; a broker reads the form. This table turns the path into the words
of the form: the casilla's number where the procedures name it (7.3, 7.13, 7.24, 7.37 and
7.38 of the DUA, 3.7 and 3.9 of its format B, 4.13 of the O/E) and its label everywhere. A
field the table does not word is named with the flat-file layout's words for it
(``field_names``), which cover every field. The path itself stays in the machine-readable
response.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from edi_formats.field_names import field_name

__all__ = ["DocumentType", "box_label"]

DocumentType = Literal["DUA", "OE"]

_INDEX: Final = re.compile(r"\[(\d+)\]")
_STEPS: Final = re.compile(r"\[\d+\]|[^.\[\]]+")
"""The steps of a path: ``invoices``, ``[0]``, ``supplier``."""

# Path with every index written [i] -> label (with its casilla number where a norm gives it).
_LABELS: Final[dict[str, str]] = {
    "office": "Aduana de despacho",
    "regime": "Recuadro Destinación: régimen",
    "modality": "Recuadro Destinación: modalidad de despacho",
    "modality.code": "Recuadro Destinación: modalidad de despacho",
    "modality.arrival_point": "Recuadro Destinación: lugar de llegada del anticipado",
    "modality.category": "Recuadro Destinación: inciso del despacho urgente",
    "agent_code": "Despachador de aduana: código",
    "agent_reference": "Despachador de aduana: referencia",
    "importer": "Importador",
    "importer.doc_type": "Importador: tipo de documento",
    "importer.doc_number": "Importador: número de documento (RUC)",
    "importer.name": "Importador: nombre o razón social",
    "exporter": "Exportador",
    "exporter.doc_type": "Exportador: tipo de documento",
    "exporter.doc_number": "Exportador: número de documento (RUC)",
    "exporter.name": "Exportador: nombre o razón social",
    "consignee.name": "Consignatario: nombre",
    "destination_country": "País de destino",
    "invoices": "Factura",
    "invoices[i]": "Factura {1}",
    "invoices[i].issued_on": "Factura {1}: fecha",
    "invoices[i].supplier_fax": "Formato B, casilla 3.7: facsímil del proveedor",
    "invoices[i].supplier_email": "Formato B, casilla 3.9: correo electrónico del proveedor",
    "insurance": "Seguro",
    "sworn_statement": "Declaración jurada del valor",
    "observations_7_38": "Casilla 7.38: observaciones",
    "anticipado_exception": "Excepción al despacho anticipado (art. 62A)",
    "transport": "Transporte",
    "transport.manifest": "Manifiesto de carga",
    "transport.documents": "Documento de transporte",
    "transport.documents[i]": "Documento de transporte {1}",
    "transport.documents[i].doc_type": "Documento de transporte {1}: tipo",
    "transport.documents[i].consignee_doc_number": "Documento de transporte {1}: consignatario",
    "transport.containers": "Contenedores",
    "transport.arrival_date": "Fecha de llegada",
    "transport.discharge_end_date": "Fecha de término de la descarga",
    "transport.warehouse_code": "Depósito temporal",
    "transport.shipment_date": "Fecha de embarque",
    "totals.fob": "Total FOB",
    "totals.freight": "Total flete",
    "totals.insurance": "Total seguro",
    "totals.cif": "Total CIF",
    "totals.gross_weight": "Total peso bruto",
    "totals.net_weight": "Total peso neto",
    "totals.packages": "Total bultos",
    "series": "Series",
}

_SERIES_LABELS: Final[dict[str, str]] = {
    "": "",
    "number": "número de serie",
    "subpartida": "subpartida nacional",
    "description": "descripción comercial",
    "origin_country": "país de origen",
    "quantity": "cantidad de unidades físicas",
    "unit": "unidad de medida",
    "fob": "valor FOB",
    "freight": "flete",
    "insurance": "seguro",
    "cif": "valor CIF",
    "gross_weight": "peso bruto",
    "net_weight": "peso neto",
    "packages": "bultos",
    "package_kind": "casilla 7.13: clase de bultos",
    "state": "estado de la mercancía",
    "tprod": "TPROD",
    "codes_7_24": "casilla 7.24",
    "preceding_declaration": "casilla 7.3: declaración precedente y serie",
    "observations": "casilla 7.37: observaciones",
}

_CONTROL_DOCUMENT_BOX: Final[dict[DocumentType, str]] = {"DUA": "7.37", "OE": "4.13"}


def box_label(path: str | None, document_type: DocumentType | None = None) -> str | None:
    """The form's words for ``path`` (``series[0].cif`` -> ``Serie 1, valor CIF``).

    None when neither this table nor the layouts know the path: better no label than a
    wrong one.
    """
    if not path:
        return None
    indexes = [int(found) + 1 for found in _INDEX.findall(path)]
    shape = _INDEX.sub("[i]", path)
    if shape.startswith("series[i]"):
        label = _series_label(shape.removeprefix("series[i]").lstrip("."), indexes, document_type)
    else:
        label = _LABELS[shape].format(None, *indexes) if shape in _LABELS else None
    return label if label is not None else _layout_label(path, document_type)


def _layout_label(path: str, document_type: DocumentType | None) -> str | None:
    """``Factura 1, proveedor de la factura: país del proveedor``, from the layout's words."""
    loc = tuple(int(step[1:-1]) if step.startswith("[") else step for step in _STEPS.findall(path))
    for kind in (document_type,) if document_type else ("DUA", "OE"):
        named = field_name(kind, loc)
        if named is not None:
            text = f"{named.within}: {named.label}" if named.within else named.label
            return text[:1].upper() + text[1:]
    return None


def _series_label(rest: str, indexes: list[int], document_type: DocumentType | None) -> str | None:
    series = f"Serie {indexes[0]}"
    if rest.startswith("control_documents"):
        box = _CONTROL_DOCUMENT_BOX.get(document_type or "DUA", "7.37")
        which = f", documento {indexes[1]}" if len(indexes) > 1 else ""
        return f"{series}, casilla {box}: documento de control{which}"
    label = _SERIES_LABELS.get(rest)
    if label is None:
        return None
    return f"{series}, {label}" if label else series
