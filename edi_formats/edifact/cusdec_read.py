"""CUSDEC D.96B messages -> DUA and O/E models, as docs/edifact.md lays them out.

The message is walked through the D.96B segment table (``structure``); each segment goes to the
handler of its segment group and tag (``cusdec_header``, ``cusdec_detail``), which fill the
model's fields. Every problem found is kept, the structure's, the handlers' and the model's,
and raised together (``DeclarationSyntaxError.more``), each naming its segment.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import ValidationError

from edi_formats.boxes import DocumentType, box_label
from edi_formats.edifact import codes as c
from edi_formats.edifact.cusdec_detail import DETAIL_HANDLERS, apply_contacts
from edi_formats.edifact.cusdec_header import HEADER_HANDLERS
from edi_formats.edifact.directory import CUSDEC_TABLE
from edi_formats.edifact.reader import Path, Reader, error
from edi_formats.edifact.segments import EdiSegment
from edi_formats.edifact.structure import check_structure
from edi_formats.edifact.syntax import read_interchange
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA, OE
from edi_formats.validation_errors import describe_error, json_path

__all__ = ["map_cusdec", "parse_cusdec", "raise_all"]

_REQUIRED: Final[dict[Path, str]] = {
    ("office",): "LOC+22 (aduana de despacho)",
    ("regime",): "el régimen en CST (régimen:117:ZZZ)",
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
    ("totals", "packages"): "PAC (bultos totales, en el grupo RFF de la cabecera)",
    ("number",): "el número de serie en CST (elemento 1)",
    ("subpartida",): "la subpartida en CST (subpartida:108:ZZZ)",
    ("fob",): "MOA+38 (valor FOB de la serie)",
    ("freight",): "MOA+64 (flete de la serie)",
    ("insurance",): "MOA+157 (seguro de la serie)",
    ("cif",): "MOA+40 (valor CIF de la serie)",
    ("gross_weight",): "MEA+WT+G (peso bruto de la serie)",
    ("net_weight",): "MEA+WT+AAL (peso neto de la serie)",
    ("packages",): "PAC (bultos de la serie)",
    ("entity_code",): "la entidad de control en DOC (elemento 2, componente 3)",
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


def _validation_errors(reader: Reader, exc: ValidationError) -> list[DeclarationSyntaxError]:
    return [_validation_error(reader, detail) for detail in exc.errors(include_url=False)]


def _validation_error(reader: Reader, detail: Any) -> DeclarationSyntaxError:
    """The model's refusal in the broker's words: the field as the form names it (``Serie 2,
    país de origen``; the model's path only where the form names nothing), and the segment
    it came from."""
    loc: Path = tuple(detail["loc"])
    document_type: DocumentType = "DUA" if reader.dua else "OE"
    path = json_path(loc)
    named = box_label(path, document_type) or path
    if detail["type"] == "missing":
        tail = loc[2:] if loc and loc[0] == "series" else loc
        if len(loc) >= 4 and loc[2] == "control_documents":
            tail = loc[4:]
        wanted = _REQUIRED.get(tail) or _REQUIRED.get(loc)
        where = _position(reader, loc[:-1]) or "cabecera del mensaje (antes de UNS+D)"
        if wanted:  # it names the segment and the field: say only whose it is
            within = box_label(json_path(loc[:-1]), document_type) if loc[:-1] else None
            message = f"{within}: falta {wanted}" if within else f"falta {wanted}"
        else:
            message = f"{named}: falta el dato obligatorio"
        return error("EDI-SEGMENT", message, where)
    return error("EDI-VALUE", f"{named}: {describe_error(detail)}", _position(reader, loc))


def raise_all(errors: list[DeclarationSyntaxError]) -> None:
    """Raise the first error found with the others in ``more``; nothing when there is none."""
    if errors:
        first = errors[0]
        raise DeclarationSyntaxError(first.code, first.message, first.position, more=errors[1:])


_HANDLERS: Final = {**HEADER_HANDLERS, **DETAIL_HANDLERS}


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
    reader = Reader(document_type)
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
    placed, problems = check_structure(
        [(segment.tag, segment.number) for segment in body], CUSDEC_TABLE
    )
    by_number = {segment.number: segment for segment in body}
    errors = reader.errors
    for problem in problems:
        segment = by_number.get(problem.position)
        where = (
            segment.where()
            if segment is not None
            else f"después del segmento {body[-1].number} del mensaje"
        )
        detail = problem.message
        if problem.tag == "UNS" or "UNS" in detail:
            detail += " (UNS+D separa la cabecera de las series, UNS+S las series del resumen)"
        errors.append(error("EDI-SEGMENT", detail, where))
    for segment, place in zip((by_number[p.position] for p in placed), placed, strict=True):
        group = place.groups[-1] if place.groups else 0
        try:
            if segment.tag == "UNS":
                reader.section(segment)
            elif segment.tag == "CNT" and reader.zone == "summary":
                reader.count(segment)
            else:
                handler = _HANDLERS.get((group, segment.tag))
                if handler is not None:
                    handler(reader, segment)
        except DeclarationSyntaxError as problem:
            errors.append(problem)
    try:
        apply_contacts(reader)
    except DeclarationSyntaxError as problem:
        errors.append(problem)
    errors.sort(key=_order)
    if errors:
        raise_all(errors)
    data = _strip_paths(reader.root)
    model: type[DUA] | type[OE] = DUA if document_type == "DUA" else OE
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise_all(_validation_errors(reader, exc))
        raise  # pragma: no cover - raise_all raised


def _order(problem: DeclarationSyntaxError) -> int:
    """Errors in message order (by the segment named), the ones without a segment last."""
    found = re.match(r"segmento (\d+) del mensaje", problem.position or "")
    return int(found.group(1)) if found else 1 << 30


def parse_cusdec(data: bytes) -> DUA | OE:
    """The declaration in a CUSDEC D.96B interchange; DeclarationSyntaxError if unreadable."""
    return map_cusdec(read_interchange(data, c.CUSDEC).body)
