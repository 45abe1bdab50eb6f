"""The RUC (Registro Único de Contribuyentes) number and its modulo-11 check digit."""

from __future__ import annotations

from typing import Final

__all__ = ["RUC_PREFIXES", "ruc_check_digit", "ruc_problem"]

RUC_PREFIXES: Final = frozenset({"10", "15", "17", "20"})
"""10 natural persons, 15 and 17 special natural-person cases, 20 companies."""

_WEIGHTS: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def ruc_check_digit(first_ten: str) -> int:
    """Check digit for the first ten digits: 11 - (weighted sum mod 11), 10 -> 0, 11 -> 1."""
    total = sum(int(digit) * weight for digit, weight in zip(first_ten, _WEIGHTS, strict=True))
    check = 11 - total % 11
    return check - 10 if check >= 10 else check


def ruc_problem(number: str) -> str | None:
    """Why ``number`` is not a valid RUC, in Spanish, or None when it is."""
    if len(number) != 11 or not number.isdigit():
        return f"el RUC '{number}' debe tener 11 dígitos"
    if number[:2] not in RUC_PREFIXES:
        return f"el RUC {number} empieza con {number[:2]}; solo son válidos 10, 15, 17 y 20"
    expected = ruc_check_digit(number[:10])
    if int(number[10]) != expected:
        return f"el dígito verificador del RUC {number} no es válido (corresponde {expected})"
    return None
