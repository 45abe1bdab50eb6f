from __future__ import annotations

import pytest

from mailboxes.addresses import InvalidAddress, _has_blank_or_control, normalize_address


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


def test_blanks_and_controls_are_found_in_ascii_as_by_the_general_rule() -> None:
    """The ASCII shortcut refuses exactly the characters the general rule refuses."""
    for code in range(128):
        ch = chr(code)
        assert _has_blank_or_control(f"a{ch}b") == (ch.isspace() or code < 32 or code == 127)
    assert _has_blank_or_control("\u00e1\u00a0b") and not _has_blank_or_control("\u00e1b")
