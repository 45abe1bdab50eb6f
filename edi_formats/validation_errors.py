"""Pydantic's validation errors, told to a customs broker in Spanish.

Both readers (flat and JSON) hand the values they read to the models; what the models refuse
must come back as a ``DeclarationSyntaxError`` naming the field, never as a pydantic
exception. This module words the reason; each reader says where.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import ErrorDetails

__all__ = ["describe_error", "json_path"]


def _ctx(error: ErrorDetails, key: str) -> Any:
    ctx = error.get("ctx") or {}
    return ctx.get(key, "?")


def describe_error(error: ErrorDetails) -> str:
    """The Spanish reason for one pydantic error."""
    kind = error["type"]
    if kind == "missing":
        return "falta el dato obligatorio"
    if kind == "string_pattern_mismatch":
        return "formato no válido"
    if kind == "string_too_short":
        return "no puede estar vacío"
    if kind == "string_too_long":
        return f"demasiado largo (máximo {_ctx(error, 'max_length')} caracteres)"
    if kind == "too_long":
        return f"demasiados elementos (máximo {_ctx(error, 'max_length')})"
    if kind in ("enum", "literal_error"):
        return f"valor no válido; se espera {_ctx(error, 'expected')}"
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
        return "fecha no válida"
    if kind.startswith("decimal_") or kind.startswith("float_"):
        return "importe no válido"
    if kind.startswith("int_"):
        return "número entero no válido"
    if kind.startswith("bool_"):
        return "se espera verdadero o falso"
    if kind.startswith(("string_", "str_")):
        return "se espera un texto"
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
