"""Choosing an office as a broker types it: by code or by name, ignoring case and accents."""

from __future__ import annotations

import pytest

from config.offices import UnknownOffice, find_office, load_offices

REGISTRY = load_offices()


@pytest.mark.parametrize(
    ("wanted", "code"),
    [
        ("118", "118"),
        ("19", "019"),
        ("Pisco", "127"),
        ("PISCO", "127"),
        (" pisco ", "127"),
        ("maritima del callao", "118"),
        ("MARÍTIMA", "118"),
        ("aerea", "235"),
        ("La Tina", "299"),
    ],
)
def test_an_office_is_found_by_code_or_name(wanted: str, code: str) -> None:
    assert find_office(REGISTRY, wanted).code == code


def test_an_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(UnknownOffice) as ambiguous:
        find_office(REGISTRY, "callao")
    message = str(ambiguous.value)
    assert "118 Marítima del Callao" in message
    assert "235 Aérea del Callao" in message
    assert "244 Postal del Callao" in message


@pytest.mark.parametrize("wanted", ["999", "Lima", ""])
def test_an_unknown_office_is_an_error(wanted: str) -> None:
    with pytest.raises(UnknownOffice):
        find_office(REGISTRY, wanted)
