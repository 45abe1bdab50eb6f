"""The JSON Schema in the words of the people who read it: Spanish, with units and code names.

The models' docstrings are written for the developers who keep them (in English, citing the
procedures by source); the schema that ``teledispatch schema`` prints is for the developers of
agencies' software, who read the form in Spanish. This module puts the schema's words in
Spanish, gives amounts and weights their units, names what each code means, and marks
``document_type`` required, since the reader needs it to tell a DUA from an O/E.
"""

from __future__ import annotations

from typing import Any, Final

from edi_formats.codes import GoodsState, PartyDocType, TransportDocType, TransportMode

__all__ = ["in_spanish"]

_DEFINITIONS: Final[dict[str, str]] = {
    "DUA": "Declaración Única de Aduanas: importación para el consumo (régimen 10).",
    "OE": "Orden de Embarque: exportación definitiva (régimen 40).",
    "Party": "Importador (DUA) o exportador (O/E): persona o empresa identificada en el Perú.",
    "ForeignParty": "Persona o empresa en el exterior: consignatario de la O/E, proveedor.",
    "ManifestRef": "Manifiesto de carga: aduana, año y número.",
    "TransportDocument": "Conocimiento de embarque, guía aérea o carta porte.",
    "Invoice": "Factura comercial, documento equivalente o contrato.",
    "ControlDocument": (
        "Documento de control de una mercancía restringida: casilla 7.37 (DUA) o 4.13 (O/E)."
    ),
    "PrecedingDeclaration": "Casilla 7.3: declaración precedente y su serie (mercancía vigente).",
    "Modality": "Recuadro Destinación de la DUA: modalidad de despacho.",
    "ImportTransport": "Datos del transporte y de la carga de la DUA.",
    "ImportTotals": "Totales de la DUA; cada uno es la suma de las series.",
    "InsuranceDocument": "Póliza o certificado del seguro de transporte.",
    "ImportSeries": "Una serie de la DUA: mercancía de una subpartida, un origen y un estado.",
    "ExportTransport": "Datos del transporte de la O/E.",
    "ExportTotals": "Totales de la O/E; cada uno es la suma de las series.",
    "ExportSeries": "Una serie de la O/E.",
}

_CODES: Final[dict[str, tuple[str, dict[str, str]]]] = {
    PartyDocType.__name__: (
        "Tipo de documento de identidad",
        {
            PartyDocType.RUC: "Registro Único de Contribuyentes",
            PartyDocType.DNI: "Documento Nacional de Identidad",
            PartyDocType.CE: "Carné de Extranjería",
            PartyDocType.PAS: "Pasaporte",
            PartyDocType.SAL: "Salvoconducto",
        },
    ),
    TransportMode.__name__: (
        "Vía de transporte",
        {
            TransportMode.MARITIME: "marítima",
            TransportMode.RIVER: "fluvial",
            TransportMode.POSTAL: "postal",
            TransportMode.AIR: "aérea",
            TransportMode.RAIL: "ferroviaria",
            TransportMode.ROAD: "carretera",
            TransportMode.PIPELINE: "ductos",
            TransportMode.OTHER: "otra",
        },
    ),
    TransportDocType.__name__: (
        "Tipo de documento de transporte",
        {
            TransportDocType.DIRECT: "directo",
            TransportDocType.CONSOLIDATED: "consolidado",
            TransportDocType.CONSOLIDATED_ONE_TO_ONE: "consolidado 1 a 1",
        },
    ),
    GoodsState.__name__: (
        "Estado de la mercancía",
        {GoodsState.NEW: "nueva", GoodsState.USED: "usada"},
    ),
}

_RESTRICTED: Final = "procedimiento INTA-PE.00.06, Control de Mercancías Restringidas"

_PROPERTIES: Final[dict[tuple[str, str], str]] = {
    ("ControlDocument", "entity_code"): f"entidad de control (Anexo A del {_RESTRICTED})",
    ("ControlDocument", "document_code"): f"tipo de documento (Anexo B del {_RESTRICTED})",
    ("ImportSeries", "tprod"): (
        "código TPROD: 97 no prohibida, 98 no restringida, 99 ni prohibida ni restringida "
        f"({_RESTRICTED}, VI.8)"
    ),
}
"""Property descriptions of the models that cite a source by its file: cited by the norm."""

_UNITS: Final[dict[str, str]] = {
    "fob": "valor FOB en dólares de los EE.UU. (US$)",
    "freight": "flete en dólares de los EE.UU. (US$)",
    "insurance": "seguro en dólares de los EE.UU. (US$)",
    "cif": "valor CIF en dólares de los EE.UU. (US$)",
    "gross_weight": "peso bruto en kilogramos",
    "net_weight": "peso neto en kilogramos",
    "packages": "cantidad de bultos",
    "quantity": "cantidad de unidades físicas, en la unidad de medida de la serie",
}


def in_spanish(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (as pydantic makes it for the declaration models) in the readers' words."""
    definitions: dict[str, Any] = schema.get("$defs", {})
    for name, definition in [*definitions.items(), *_roots(schema)]:
        if name in _DEFINITIONS:
            definition["description"] = _DEFINITIONS[name]
        if name in _CODES:
            title, meanings = _CODES[name]
            listed = "; ".join(f"{code} {meaning}" for code, meaning in meanings.items())
            definition["description"] = f"{title}: {listed}."
        properties: dict[str, Any] = definition.get("properties", {})
        for field, prop in properties.items():
            if (name, field) in _PROPERTIES:
                prop["description"] = _PROPERTIES[name, field]
            elif field in _UNITS and "description" not in prop:
                prop["description"] = _UNITS[field]
        if "document_type" in properties:
            required: list[str] = definition.setdefault("required", [])
            if "document_type" not in required:
                required.insert(0, "document_type")
    return schema


def _roots(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The schema itself when it describes one document (``schema dua``), by its title."""
    title = schema.get("title")
    return [(title, schema)] if isinstance(title, str) and "properties" in schema else []
