"""CUSDEC D.96B messages -> DUA and O/E models, as docs/edifact.md lays them out.

``reader`` walks the message and the handlers of ``cusdec_header`` and ``cusdec_detail`` fill
the model's fields; this module checks the interchange, builds the model, and turns what the
model refuses (a missing mandatory segment, a value out of pattern) into a
``DeclarationSyntaxError`` naming the segment.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import ValidationError

from edi_formats.edifact import codes as c
from edi_formats.edifact.cusdec_detail import DETAIL_HANDLERS
from edi_formats.edifact.cusdec_header import HEADER_HANDLERS
from edi_formats.edifact.reader import HEADER_RANK, Frame, Path, Reader, error
from edi_formats.edifact.segments import EdiSegment
from edi_formats.edifact.syntax import read_interchange
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA, OE
from edi_formats.validation_errors import describe_error, json_path

__all__ = ["map_cusdec", "parse_cusdec"]

_HANDLERS: Final = {**HEADER_HANDLERS, **DETAIL_HANDLERS}


_REQUIRED: Final[dict[Path, str]] = {
    ("office",): "LOC+22 (aduana de despacho)",
    ("regime",): "el régimen en CST (régimen:RGM:ZZZ)",
    ("modality",): "la modalidad en CST (modalidad:MOD:ZZZ)",
    ("modality", "code"): "la modalidad en CST (modalidad:MOD:ZZZ)",
    ("agent_code",): "NAD+AE (código del despachador)",
    ("agent_reference",): "la referencia del despachador en BGM (elemento 2)",
    ("importer",): "NAD+IM (importador)",
    ("importer", "doc_type"): "el tipo de documento del importador en NAD+IM (elemento 2)",
    ("importer", "doc_number"): "el número de documento del importador en NAD+IM (elemento 2)",
    ("exporter",): "NAD+EX (exportador)",
    ("exporter", "doc_type"): "el tipo de documento del exportador en NAD+EX (elemento 2)",
    ("exporter", "doc_number"): "el número de documento del exportador en NAD+EX (elemento 2)",
    ("consignee",): "NAD+CN (consignatario en el exterior)",
    ("transport", "mode"): "TDT+20 (vía de transporte)",
    ("totals", "fob"): "MOA+39 (valor FOB total)",
    ("totals", "freight"): "MOA+64 (flete total)",
    ("totals", "insurance"): "MOA+157 (seguro total)",
    ("totals", "cif"): "MOA+40 (valor CIF total)",
    ("totals", "gross_weight"): "MEA+WT+G (peso bruto total)",
    ("totals", "net_weight"): "MEA+WT+AAL (peso neto total)",
    ("totals", "packages"): "PAC (bultos totales)",
    ("number",): "el número de serie en CST (elemento 1)",
    ("subpartida",): "la subpartida en CST (subpartida:SPN:ZZZ)",
    ("fob",): "MOA+38 (valor FOB de la serie)",
    ("freight",): "MOA+64 (flete de la serie)",
    ("insurance",): "MOA+157 (seguro de la serie)",
    ("cif",): "MOA+40 (valor CIF de la serie)",
    ("gross_weight",): "MEA+WT+G (peso bruto de la serie)",
    ("net_weight",): "MEA+WT+AAL (peso neto de la serie)",
    ("packages",): "PAC (bultos de la serie)",
    ("entity_code",): "GIS con la entidad de control (entidad:ENT:ZZZ)",
    ("issued_on",): "DTM+182 (fecha de emisión)",
}


def _strip_paths(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip_paths(item) for key, item in value.items() if key != "__path__"}
    if isinstance(value, list):
        return [_strip_paths(item) for item in value]
    return value


def _position(reader: Reader, loc: Path) -> str | None:
    for end in range(len(loc), 0, -1):
        found = reader.where.get(loc[:end])
        if found is not None:
            return found
    return None


def _validation_error(reader: Reader, exc: ValidationError) -> DeclarationSyntaxError:
    detail = exc.errors(include_url=False)[0]
    loc: Path = tuple(detail["loc"])
    field_path = json_path(loc)
    if detail["type"] == "missing":
        tail = loc[2:] if loc and loc[0] == "series" else loc
        if len(loc) >= 4 and loc[2] == "control_documents":
            tail = loc[4:]
        wanted = _REQUIRED.get(tail) or _REQUIRED.get(loc)
        where = _position(reader, loc[:-1]) or "cabecera del mensaje (antes de UNS+D)"
        message = (
            f"{field_path}: falta {wanted}"
            if wanted
            else f"{field_path}: falta el dato obligatorio"
        )
        return error("EDI-SEGMENT", message, where)
    return error("EDI-VALUE", f"{field_path}: {describe_error(detail)}", _position(reader, loc))


def map_cusdec(body: tuple[EdiSegment, ...]) -> DUA | OE:
    """The declaration a CUSDEC message body (between UNH and UNT) carries."""
    if not body or body[0].tag != "BGM":
        where = body[0].where() if body else "segmento 2 del mensaje"
        raise error("EDI-SEGMENT", "el mensaje CUSDEC empieza con BGM, después de UNH", where)
    name = body[0].get(1, 1)
    document_type = next((kind for kind, code in c.DOCUMENT_NAME.items() if code == name), None)
    if document_type is None:
        raise error(
            "EDI-VALUE",
            f"BGM nombra el documento {name!r}: se espera 929 (DUA, importación) "
            "u 830 (O/E, exportación)",
            body[0].where(1),
        )
    reader = Reader(document_type, _HANDLERS)
    transport: dict[str, Any] = {"__path__": ["transport"], "documents": [], "containers": []}
    reader.root.update(
        {
            "document_type": document_type,
            "transport": transport,
            "totals": {"__path__": ["totals"]},
            "invoices": [],
            "series": [],
            "__path__": [],
        }
    )
    reader.frames = [Frame("la cabecera", HEADER_RANK, reader.root, kind="header")]
    for segment in body:
        reader.feed(segment)
    if reader.zone == "header":
        raise error(
            "EDI-SEGMENT",
            "falta UNS+D, que separa la cabecera de las series",
            f"después del segmento {body[-1].number} del mensaje",
        )
    data = _strip_paths(reader.root)
    model: type[DUA] | type[OE] = DUA if document_type == "DUA" else OE
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(reader, exc) from None


def parse_cusdec(data: bytes) -> DUA | OE:
    """The declaration in a CUSDEC D.96B interchange; DeclarationSyntaxError if unreadable."""
    return map_cusdec(read_interchange(data, c.CUSDEC).body)
