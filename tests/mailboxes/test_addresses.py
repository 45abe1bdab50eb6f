from __future__ import annotations

import pytest

from mailboxes.addresses import InvalidAddress, normalize_address


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Agente@Agencias.PE", "agente@agencias.pe"),
        ("<aduana-118@aduanas.gob.pe>", "aduana-118@aduanas.gob.pe"),
        ("  x@y.pe ", "x@y.pe"),
    ],
)
def test_normalizes(given: str, expected: str) -> None:
    assert normalize_address(given) == expected


@pytest.mark.parametrize("bad", ["", "x", "@y.pe", "x@", "a b@y.pe", "a@b@c", "x\x00@y.pe"])
def test_rejects(bad: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_address(bad)
