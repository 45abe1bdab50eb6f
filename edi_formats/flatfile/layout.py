"""The flat file's record layouts, as data.

One table per document type (DUA, O/E), in the spirit of SUNAT's transmission structures
(``ADUAHDR1``, ``ADUADET1``...): a record per part of the declaration, fields in a fixed
order, separated by ``|``. The reader, the writer and the field-by-field tables of
docs/formats.md all come from these definitions, so they cannot drift apart.

Where each record's values go in the model is a *target* path: ``""`` is the declaration
itself, ``transport`` a sub-object, ``series[]`` a list of objects, ``containers[]`` with a
``None`` field attribute a list of plain values. A child record's target is relative to its
parent's object. A field's ``attr`` is a dotted path inside the target (``modality.code``);
a dotted group whose fields are all empty is absent (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Final

__all__ = [
    "LAYOUTS",
    "MAX_LINES",
    "MAX_LINE_CHARS",
    "MAX_RECORDS",
    "RESPONSE_LAYOUT",
    "TRAILER_RECORD",
    "DocumentLayout",
    "FieldKind",
    "FieldSpec",
    "RecordSpec",
]

TRAILER_RECORD: Final = "TRL"
MAX_LINE_CHARS: Final = 8192
"""Longest record line accepted (the longest field is 1000 characters before escaping)."""
MAX_RECORDS: Final = 500_000
"""Most records accepted in one file (10 000 series with 50 records each, or all 99 999 series
with four); bounds the reading time of a hostile file to seconds."""
MAX_LINES: Final = 2 * MAX_RECORDS
"""Most lines, blank ones included (a blank line after every record still fits), counted
before the file is split into lines: split first, 14 MB of two-character lines held 3.5
million strings (229 MB at the peak) before the first of them was found wrong."""


class FieldKind(StrEnum):
    """How a field's text is read and written (docs/formats.md, "Field types")."""

    TEXT = "texto"
    DATE = "fecha"
    DECIMAL = "decimal"
    INTEGER = "entero"
    FLAG = "S/N"
    TIMESTAMP = "fecha y hora"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record: wire name, model attribute, type, Spanish label, casilla."""

    name: str
    attr: str | None
    kind: FieldKind
    label: str
    casilla: str | None = None


@dataclass(frozen=True)
class RecordSpec:
    """A record type: code, where its values go, how many may appear, its fields and children."""

    code: str
    title: str
    target: str
    min_count: int
    max_count: int | None
    fields: tuple[FieldSpec, ...]
    children: tuple[RecordSpec, ...] = ()

    @property
    def is_list(self) -> bool:
        return self.target.endswith("[]")

    @property
    def is_scalar_list(self) -> bool:
        return self.is_list and len(self.fields) == 1 and self.fields[0].attr is None

    @cached_property
    def child_positions(self) -> Mapping[str, int]:
        """The index of each code's first child: the reader places a line by its code."""
        return _first_positions(self.children)


@dataclass(frozen=True)
class DocumentLayout:
    """The records of one document type, in the order they must appear.

    ``fixed`` are model values implied by the envelope's document type (the discriminator).
    """

    document_type: str
    records: tuple[RecordSpec, ...]
    fixed: tuple[tuple[str, str], ...] = ()

    @cached_property
    def positions(self) -> Mapping[str, int]:
        """The index of each code's first record: the reader places a line by its code."""
        return _first_positions(self.records)

    def all_records(self) -> tuple[RecordSpec, ...]:
        """Every record type, children right after their parent (the trailer's count order)."""
        out: list[RecordSpec] = []
        for record in self.records:
            out.append(record)
            out.extend(record.children)
        return tuple(out)


def _first_positions(records: tuple[RecordSpec, ...]) -> Mapping[str, int]:
    positions: dict[str, int] = {}
    for index, record in enumerate(records):
        positions.setdefault(record.code, index)
    return positions


_T = FieldKind.TEXT
_D = FieldKind.DATE
_N = FieldKind.DECIMAL
_I = FieldKind.INTEGER
_F = FieldKind.FLAG


def _f(name: str, kind: FieldKind, label: str, casilla: str | None = None) -> FieldSpec:
    """A field whose model attribute is its wire name."""
    return FieldSpec(name, name, kind, label, casilla)


def _g(name: str, attr: str, kind: FieldKind, label: str, casilla: str | None = None) -> FieldSpec:
    """A field stored under another attribute path (a dotted group, or a renamed attribute)."""
    return FieldSpec(name, attr, kind, label, casilla)


def _party(code: str, title: str, target: str) -> RecordSpec:
    return RecordSpec(
        code,
        title,
        target,
        1,
        1,
        (
            _f("doc_type", _T, "tipo de documento (RUC, DNI, CE, PAS, SAL)"),
            _f("doc_number", _T, "número de documento"),
            _f("name", _T, "nombre o razón social"),
            _f("address", _T, "domicilio"),
        ),
    )


_MANIFEST = (
    _g("manifest_office", "manifest.office", _T, "aduana del manifiesto"),
    _g("manifest_year", "manifest.year", _I, "año del manifiesto"),
    _g("manifest_number", "manifest.number", _T, "número del manifiesto"),
)

_TRANSPORT_DOCUMENT = RecordSpec(
    "TDC",
    "Documento de transporte",
    "transport.documents[]",
    0,
    None,
    (
        _f("number", _T, "número del documento de transporte"),
        _f("doc_type", _T, "tipo de documento de transporte (1, 2, 3)"),
        _f("master_number", _T, "documento de transporte máster"),
        *_MANIFEST,
        _f("consignee_doc_number", _T, "documento del consignatario"),
    ),
)

_CONTAINER = RecordSpec(
    "CNT",
    "Contenedor",
    "transport.containers[]",
    0,
    None,
    (FieldSpec("container", None, _T, "número de contenedor"),),
)

_SUPPLIER = RecordSpec(
    "SUP",
    "Proveedor de la factura",
    "supplier",
    0,
    1,
    (
        _f("name", _T, "nombre del proveedor"),
        _f("country", _T, "país del proveedor"),
        _f("address", _T, "dirección del proveedor"),
    ),
)

_INVOICE = RecordSpec(
    "INV",
    "Factura o documento equivalente",
    "invoices[]",
    0,
    None,
    (
        _f("number", _T, "número de factura"),
        _f("issued_on", _D, "fecha de la factura"),
        _f("currency", _T, "moneda de transacción"),
        _f("amount", _N, "importe de la factura"),
        _f("electronic", _F, "factura electrónica"),
        _f("supplier_fax", _T, "facsímil del proveedor", "3.7"),
        _f("supplier_email", _T, "correo electrónico del proveedor", "3.9"),
    ),
    children=(_SUPPLIER,),
)


def _control_document(casilla: str) -> RecordSpec:
    return RecordSpec(
        "CTL",
        "Documento de control de la serie",
        "control_documents[]",
        0,
        None,
        (
            _f("entity_code", _T, "entidad de control", casilla),
            _f("document_code", _T, "tipo de documento de control", casilla),
            _f("number", _T, "número del documento de control", casilla),
            _f("issued_on", _D, "fecha de emisión", casilla),
            _f("expires_on", _D, "fecha de vencimiento", casilla),
        ),
    )


_SERIES_GOODS = (
    _f("number", _I, "número de serie"),
    _f("subpartida", _T, "subpartida nacional"),
    _f("description", _T, "descripción comercial"),
    _f("origin_country", _T, "país de origen"),
    _f("quantity", _N, "cantidad"),
    _f("unit", _T, "unidad de medida"),
)

DUA_LAYOUT: Final = DocumentLayout(
    "DUA",
    (
        RecordSpec(
            "DEC",
            "Datos generales de la declaración",
            "",
            1,
            1,
            (
                _f("office", _T, "aduana de despacho"),
                _f("regime", _T, "régimen (destinación)"),
                _g("modality", "modality.code", _T, "modalidad de despacho"),
                _g("arrival_point", "modality.arrival_point", _T, "punto de llegada"),
                _g("arrival_option", "modality.arrival_option", _T, "opción del punto de llegada"),
                _g("category", "modality.category", _T, "inciso de urgencia o socorro"),
                _f("agent_code", _T, "código del despachador"),
                _f("agent_reference", _T, "referencia del despachador"),
                _f("sworn_statement", _F, "declaración jurada en lugar de factura"),
                _f("guarantee_account", _T, "cuenta corriente de garantía"),
                _f("anticipado_exception", _T, "excepción al despacho anticipado (art. 62A)"),
            ),
        ),
        _party("IMP", "Importador", "importer"),
        RecordSpec(
            "TRN",
            "Transporte y carga",
            "transport",
            1,
            1,
            (
                _f("mode", _T, "vía de transporte"),
                *_MANIFEST,
                _f("arrival_date", _D, "fecha de llegada"),
                _f("discharge_end_date", _D, "fecha de término de la descarga"),
                _f("warehouse_code", _T, "código del depósito temporal (CODI_ALMA)"),
            ),
        ),
        _TRANSPORT_DOCUMENT,
        _CONTAINER,
        RecordSpec(
            "TOT",
            "Totales",
            "totals",
            1,
            1,
            (
                _f("fob", _N, "valor FOB total"),
                _f("freight", _N, "flete total"),
                _f("insurance", _N, "seguro total"),
                _f("cif", _N, "valor CIF total"),
                _f("gross_weight", _N, "peso bruto total"),
                _f("net_weight", _N, "peso neto total"),
                _f("packages", _I, "bultos totales"),
            ),
        ),
        _INVOICE,
        RecordSpec(
            "INS",
            "Documento de seguro",
            "insurance",
            0,
            1,
            (
                _f("number", _T, "número de póliza o certificado de seguro"),
                _f("issued_on", _D, "fecha del seguro"),
                _f("insurer", _T, "aseguradora"),
            ),
        ),
        RecordSpec(
            "OBS",
            "Observaciones de la declaración",
            "",
            0,
            1,
            (_g("text", "observations_7_38", _T, "observaciones", "7.38"),),
        ),
        RecordSpec(
            "SER",
            "Serie",
            "series[]",
            0,
            None,
            (
                *_SERIES_GOODS,
                _f("fob", _N, "valor FOB de la serie"),
                _f("freight", _N, "flete de la serie"),
                _f("insurance", _N, "seguro de la serie"),
                _f("cif", _N, "valor CIF de la serie"),
                _f("gross_weight", _N, "peso bruto de la serie"),
                _f("net_weight", _N, "peso neto de la serie"),
                _f("packages", _I, "bultos de la serie"),
                _f("state", _T, "estado de la mercancía (N, U)"),
                _f("tprod", _T, "código TPROD"),
                _g(
                    "preceding_number",
                    "preceding_declaration.number",
                    _T,
                    "declaración precedente",
                    "7.3",
                ),
                _g(
                    "preceding_series",
                    "preceding_declaration.series",
                    _I,
                    "serie de la declaración precedente",
                    "7.3",
                ),
                _f("observations", _T, "observaciones de la serie", "7.37"),
            ),
            children=(
                RecordSpec(
                    "C24",
                    "Código de la casilla 7.24",
                    "codes_7_24[]",
                    0,
                    None,
                    (FieldSpec("code", None, _T, "código de la casilla 7.24", "7.24"),),
                ),
                _control_document("7.37"),
            ),
        ),
    ),
    fixed=(("document_type", "DUA"),),
)

OE_LAYOUT: Final = DocumentLayout(
    "OE",
    (
        RecordSpec(
            "DEC",
            "Datos generales de la orden de embarque",
            "",
            1,
            1,
            (
                _f("office", _T, "aduana de despacho"),
                _f("regime", _T, "régimen"),
                _f("agent_code", _T, "código del despachador"),
                _f("agent_reference", _T, "referencia del despachador"),
                _f("destination_country", _T, "país de destino"),
                _f("sworn_statement", _F, "declaración jurada en lugar de factura"),
            ),
        ),
        _party("EXP", "Exportador", "exporter"),
        RecordSpec(
            "CON",
            "Consignatario en el exterior",
            "consignee",
            1,
            1,
            (
                _f("name", _T, "nombre del consignatario"),
                _f("country", _T, "país del consignatario"),
                _f("address", _T, "dirección del consignatario"),
            ),
        ),
        RecordSpec(
            "TRN",
            "Transporte",
            "transport",
            1,
            1,
            (
                _f("mode", _T, "vía de transporte"),
                _f("shipment_date", _D, "fecha de embarque prevista"),
            ),
        ),
        _TRANSPORT_DOCUMENT,
        _CONTAINER,
        RecordSpec(
            "TOT",
            "Totales",
            "totals",
            1,
            1,
            (
                _f("fob", _N, "valor FOB total"),
                _f("gross_weight", _N, "peso bruto total"),
                _f("net_weight", _N, "peso neto total"),
                _f("packages", _I, "bultos totales"),
            ),
        ),
        _INVOICE,
        RecordSpec(
            "OBS",
            "Observaciones de la orden de embarque",
            "",
            0,
            1,
            (_g("text", "observations", _T, "observaciones"),),
        ),
        RecordSpec(
            "SER",
            "Serie",
            "series[]",
            0,
            None,
            (
                *_SERIES_GOODS,
                _f("fob", _N, "valor FOB de la serie"),
                _f("gross_weight", _N, "peso bruto de la serie"),
                _f("net_weight", _N, "peso neto de la serie"),
                _f("packages", _I, "bultos de la serie"),
                _f("state", _T, "estado de la mercancía (N, U)"),
                _f("tprod", _T, "código TPROD"),
                _f("observations", _T, "observaciones de la serie"),
            ),
            children=(_control_document("4.13"),),
        ),
    ),
    fixed=(("document_type", "OE"),),
)

LAYOUTS: Final[dict[str, DocumentLayout]] = {"DUA": DUA_LAYOUT, "OE": OE_LAYOUT}
"""Declaration layouts by the document type named in the envelope."""

RESPONSE_LAYOUT: Final = DocumentLayout(
    "RES",
    (
        RecordSpec(
            "RES",
            "Respuesta de la aduana",
            "",
            1,
            1,
            (
                _f("status", _T, "resultado (accepted, rejected)"),
                _f("document_type", _T, "tipo de documento respondido (DUA, OE)"),
                _f("office", _T, "aduana"),
                _f("agent_reference", _T, "referencia del despachador"),
                _f("number", _T, "número de la declaración (OOO-AAAA-RR-NNNNNN)"),
                _f("channel", _T, "canal de control (verde, naranja, rojo)"),
                _f("received_at", FieldKind.TIMESTAMP, "fecha y hora de recepción"),
            ),
        ),
        RecordSpec(
            "FND",
            "Observación o motivo de rechazo",
            "findings[]",
            0,
            None,
            (
                _f("rule_id", _T, "regla"),
                _f("severity", _T, "gravedad (error, warning)"),
                _f("field", _T, "campo o casilla"),
                _f("message", _T, "mensaje"),
                _f("citation", _T, "norma citada"),
            ),
        ),
    ),
)
"""The office's answer to one declaration (``TDH|TELEDESPACHO|01|RES|...``)."""
