"""Decoding the era's encodings: declared strictly, guessed by a documented rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edi_formats.encodings import canonical_encoding, decode_text, guess_encoding
from edi_formats.errors import DeclarationSyntaxError

SPANISH = "AÑO 1997: vehículos, camión, ¿qué?, ¡así!, PERÚ, EXPORTACIÓN, pingüino"


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("cp850", "CP850"), ("cp1252", "CP1252"), ("latin-1", "CP1252"), ("utf-8", "UTF-8")],
)
def test_guess_spanish_text(codec: str, expected: str) -> None:
    assert guess_encoding(SPANISH.encode(codec)) == expected
    text, name = decode_text(SPANISH.encode(codec), None)
    assert (text, name) == (SPANISH, expected)


@pytest.mark.parametrize("word", ["vehículo", "Perú", "EXPORTACIÓN", "ÑANDÚ", "¿Qué?"])
def test_guess_single_words_in_cp850(word: str) -> None:
    assert guess_encoding(word.encode("cp850")) == "CP850"
    assert guess_encoding(word.encode("cp1252")) == "CP1252"


def test_pure_ascii() -> None:
    assert guess_encoding(b"DEC|118|10") == "ASCII"


def test_bytes_cp1252_cannot_hold_mean_cp850() -> None:
    assert guess_encoding(b"\x81\x90") == "CP850"  # ü, É


def test_aliases() -> None:
    assert canonical_encoding(" windows-1252 ") == "CP1252"
    assert canonical_encoding("Latin1") == "ISO-8859-1"
    assert canonical_encoding("koi8-r") is None


def test_declared_encoding_is_strict_and_names_the_line() -> None:
    with pytest.raises(DeclarationSyntaxError) as caught:
        decode_text(b"linea 1\nlinea 2\ncami\xf3n\n", "ASCII")
    assert (caught.value.code, caught.value.position) == ("FMT-ENCODING", "línea 3")


@given(st.binary(max_size=300))
def test_guess_never_fails(data: bytes) -> None:
    text, name = decode_text(data, None)
    assert isinstance(text, str)
    assert name in ("ASCII", "UTF-8", "CP850", "CP1252")
