from __future__ import annotations

import pytest

from validators.ruc import ruc_check_digit, ruc_problem


@pytest.mark.parametrize("ruc", ["20100047218", "20131312955", "20100070970", "10468731431"])
def test_published_rucs_are_valid(ruc: str) -> None:
    assert ruc_problem(ruc) is None
    assert ruc_check_digit(ruc[:10]) == int(ruc[10])


def test_check_digit_wraps_10_to_0_and_11_to_1() -> None:
    # weighted sum 2*5 + 0 ... chosen so that 11 - sum % 11 is 10 and 11
    assert ruc_check_digit("2010007097") == 0  # 11 - 1 = 10 -> 0
    assert ruc_check_digit("1046873143") == 1  # 11 - 0 = 11 -> 1


@pytest.mark.parametrize(
    ("ruc", "words"),
    [
        ("2010004721", "11 dígitos"),
        ("2010004721X", "11 dígitos"),
        ("30100047218", "empieza con 30"),
        ("20100047219", "dígito verificador"),
    ],
)
def test_invalid_rucs_say_why(ruc: str, words: str) -> None:
    problem = ruc_problem(ruc)
    assert problem is not None and words in problem
