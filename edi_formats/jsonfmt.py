"""Declarations as JSON: the models' own serialization, one schema for both documents.

JSON is what a modern agent's software writes most easily; the document is the model dumped
as is (``document_type`` tells DUA from O/E), so the JSON Schema printed by
``teledispatch schema`` is the whole specification.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from pydantic import TypeAdapter, ValidationError

from edi_formats.boxes import DocumentType, box_label
from edi_formats.encodings import decode_text
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.json_limits import over_json_limits
from edi_formats.models import DUA, OE, Declaration
from edi_formats.schema_words import in_spanish
from edi_formats.validation_errors import describe_error, json_path

__all__ = ["declaration_schema", "parse_json", "render_json"]

_MAX_REPORTED_ERRORS: Final = 5
_ADAPTER: Final[TypeAdapter[DUA | OE]] = TypeAdapter(Declaration)
_LINE_COLUMN: Final = re.compile(r"at line (\d+) column (\d+)")


def render_json(decl: DUA | OE) -> bytes:
    """Canonical JSON: the model dump, indented by two spaces, UTF-8, ending in a newline."""
    return decl.model_dump_json(indent=2).encode("utf-8") + b"\n"


def parse_json(data: bytes) -> DUA | OE:
    """The declaration in JSON ``data``; DeclarationSyntaxError if it cannot be read.

    UTF-8 as RFC 8259 says (a byte-order mark is tolerated); text in one of the era's 8-bit
    encodings is read with the same guess as an undeclared flat file.
    """
    if (too_large := over_json_limits(data)) is not None:
        raise DeclarationSyntaxError("FMT-LIMIT", too_large)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise DeclarationSyntaxError("FMT-EMPTY", "el documento está vacío")
    text, _ = decode_text(data, None)
    try:
        # Strict: a number is a number and a code is text (``"office": "019"``: an unquoted
        # 019 is not even JSON, and 19 would not be the office), as the schema says.
        return _ADAPTER.validate_json(text, strict=True)
    except ValidationError as exc:
        raise _syntax_error(exc) from None


def _syntax_error(exc: ValidationError) -> DeclarationSyntaxError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        detail = str((first.get("ctx") or {}).get("error", ""))
        found = _LINE_COLUMN.search(detail)
        position = f"línea {found.group(1)}, columna {found.group(2)}" if found else None
        return DeclarationSyntaxError("JSON-SYNTAX", _json_syntax_reason(detail), position)
    described = [
        (_path(error["loc"]), describe_error(error)) for error in errors[:_MAX_REPORTED_ERRORS]
    ]
    position, reason = described[0]
    message = reason
    if len(described) > 1:
        message += ". Además: " + "; ".join(f"{where}: {why}" for where, why in described[1:])
    if len(errors) > len(described):
        message += f" (y {len(errors) - len(described)} errores más)"
    return DeclarationSyntaxError("FMT-VALUE", message, position)


_JSON_REASONS: Final = (
    ("trailing comma", "sobra una coma antes de cerrar el objeto o la lista"),
    ("EOF while parsing", "el documento termina antes de cerrar todas sus llaves y corchetes"),
    ("key must be a string", "los nombres de campo van entre comillas dobles"),
    ("expected `,` or `}`", "falta una coma entre campos o la llave de cierre }"),
    ("expected `,` or `]`", "falta una coma entre elementos o el corchete de cierre ]"),
    ("expected `:`", "falta ':' entre el nombre del campo y su valor"),
    ("expected value", "se esperaba un valor (texto entre comillas, número, lista u objeto)"),
    ("expected ident", "valor no reconocido: use true, false, null o un texto entre comillas"),
    ("control character", "un texto contiene un carácter de control; escríbalo con \\"),
    ("invalid escape", "secuencia de escape no válida en un texto"),
    ("invalid number", "número no válido"),
    ("trailing characters", "hay texto después del final del objeto JSON"),
)
"""The JSON parser's reasons, in the broker's words (the parser speaks English)."""


def _json_syntax_reason(detail: str) -> str:
    if "recursion limit" in detail:  # well formed, but deeper than the parser goes
        return "JSON demasiado anidado: demasiadas llaves o corchetes abiertos uno dentro de otro"
    for english, spanish in _JSON_REASONS:
        if english in detail:
            return f"JSON mal formado: {spanish}"
    return "JSON mal formado"


def _path(loc: tuple[int | str, ...]) -> str:
    """Where an error is: its JSON path (without the union tag pydantic puts first), and the
    field as the form names it, ``series[1].origin_country (Serie 2, país de origen)``."""
    document_type: DocumentType | None = None
    if loc and loc[0] in ("DUA", "OE"):
        document_type = "DUA" if loc[0] == "DUA" else "OE"
        loc = loc[1:]
    path = json_path(loc)
    named = box_label(path, document_type) if document_type is not None else None
    return f"{path} ({named})" if named is not None else path


def declaration_schema(kind: Literal["dua", "oe"] | None = None) -> dict[str, Any]:
    """JSON Schema of a DUA, an O/E, or (``None``) of either, told apart by document_type."""
    if kind == "dua":
        return in_spanish(DUA.model_json_schema())
    if kind == "oe":
        return in_spanish(OE.model_json_schema())
    return in_spanish(_ADAPTER.json_schema())
