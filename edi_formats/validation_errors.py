"""Pydantic's validation errors, told to a customs broker in Spanish.

Both readers (flat and JSON) hand the values they read to the models; what the models refuse
must come back as a ``DeclarationSyntaxError`` naming the field, never as a pydantic
exception. This module words the reason; each reader says where.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from pydantic_core import ErrorDetails

__all__ = ["describe_error", "json_path"]


def _ctx(error: ErrorDetails, key: str) -> Any:
    ctx = error.get("ctx") or {}
    return ctx.get(key, "?")


_FORMS: Final[dict[str, str]] = {
    "office": '3 dígitos, p. ej. "118"',
    "regime": '2 dígitos, p. ej. "10"',
    "agent_code": "hasta 8 letras mayúsculas o dígitos",
    "agent_reference": "hasta 20 caracteres: letras, dígitos y . / _ -",
    "subpartida": 'la subpartida nacional en dígitos, sin puntos, p. ej. "8471300000"',
    "doc_number": "letras mayúsculas o dígitos, sin espacios ni guiones (RUC: 11 dígitos)",
    "consignee_doc_number": "letras mayúsculas o dígitos, sin espacios ni guiones",
    "country": 'el código ISO de 2 letras, p. ej. "CN"',
    "origin_country": 'el código ISO de 2 letras, p. ej. "CN"',
    "destination_country": 'el código ISO de 2 letras, p. ej. "US"',
    "currency": 'el código ISO 4217 de 3 letras, p. ej. "USD"',
    "code": 'dos dígitos separados por un guion, p. ej. "1-0"',
    "tprod": '2 dígitos, p. ej. "98"',
    "entity_code": '2 dígitos (Anexo A), p. ej. "05"',
    "document_code": '2 dígitos (Anexo B), p. ej. "09"',
    "arrival_point": '"03" o "04"',
    "codes_7_24": '2 dígitos, p. ej. "20"',
    "containers": "de 4 a 15 letras mayúsculas o dígitos",
    "unit": "hasta 5 letras mayúsculas o dígitos",
    "supplier_email": "una dirección de correo, p. ej. ventas@proveedor.com",
    "supplier_fax": 'dígitos, espacios, guiones o paréntesis, p. ej. "+86 21 5555 0101"',
    "number": "el número del documento: letras, dígitos, espacios y . / _ -",
}
"""What a code field must look like, by the field's name, for a broker who wrote it wrong."""

_DATE_FORM: Final = 'se espera AAAA-MM-DD, p. ej. "2026-12-09"'


def _field_name(error: ErrorDetails) -> str | None:
    names = [step for step in error.get("loc", ()) if isinstance(step, str)]
    return names[-1] if names else None


def _spanish_choices(expected: Any) -> str:
    """pydantic's ``'A', 'B' or 'C'`` in Spanish: ``'A', 'B' o 'C'``."""
    return str(expected).replace(" or ", " o ")


def describe_error(error: ErrorDetails) -> str:
    """The Spanish reason for one pydantic error, with what is expected instead."""
    kind = error["type"]
    if kind == "missing":
        return "falta el dato obligatorio"
    if kind == "string_pattern_mismatch":
        form = _FORMS.get(_field_name(error) or "")
        return f"formato no válido; se espera {form}" if form else "formato no válido"
    if kind == "string_too_short":
        return "no puede estar vacío"
    if kind == "string_too_long":
        return f"demasiado largo (máximo {_ctx(error, 'max_length')} caracteres)"
    if kind == "too_long":
        return f"demasiados elementos (máximo {_ctx(error, 'max_length')})"
    if kind in ("enum", "literal_error"):
        return f"valor no válido; se espera {_spanish_choices(_ctx(error, 'expected'))}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return "document_type debe ser 'DUA' u 'OE'"
    if kind == "decimal_max_digits":
        return f"demasiados dígitos (máximo {_ctx(error, 'max_digits')})"
    if kind == "decimal_max_places":
        return f"demasiados decimales (máximo {_ctx(error, 'decimal_places')})"
    if kind == "decimal_whole_digits":
        return f"demasiados dígitos enteros (máximo {_ctx(error, 'whole_digits')})"
    if kind in ("greater_than_equal", "greater_than"):
        return f"debe ser al menos {_ctx(error, 'ge' if kind.endswith('equal') else 'gt')}"
    if kind in ("less_than_equal", "less_than"):
        return f"debe ser como máximo {_ctx(error, 'le' if kind.endswith('equal') else 'lt')}"
    if kind == "extra_forbidden":
        return "campo no previsto en la declaración"
    if kind.startswith(("date_", "datetime_")):
        return f"fecha no válida; {_DATE_FORM}"
    if kind.startswith("decimal_") or kind.startswith("float_"):
        return "importe no válido"
    if kind == "int_type":
        return "se espera un número entero, sin comillas"
    if kind.startswith("int_"):
        return "número entero no válido"
    if kind.startswith("bool_"):
        return "se espera verdadero o falso"
    if kind.startswith(("string_", "str_")):
        form = _FORMS.get(_field_name(error) or "")
        return f"se espera un texto entre comillas ({form})" if form else "se espera un texto"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "se espera un objeto"
    if kind in ("tuple_type", "list_type"):
        return "se espera una lista"
    return f"valor no aceptado ({error['msg']})"


def json_path(loc: Sequence[int | str]) -> str:
    """``series[2].subpartida`` for loc ``("series", 2, "subpartida")`` (indexes from 0)."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out or "(raíz)"
