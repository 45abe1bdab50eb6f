"""Syntax levels: UNOA/UNOB/UNOC/UNOW decode with the right codec and refuse foreign characters."""

from __future__ import annotations

import pytest

from edi_formats.codec import WireFormat, parse_declaration, render_declaration
from edi_formats.edifact.charsets import SYNTAX_LEVELS, choose_level, level_for
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA
from tests.edi_formats.edifact.builders import interchange, sample, sample_body, with_segments
from tests.edi_formats.factories import full_dua

NAME = "NAD+IM+20512345671:RUC:ZZZ++"


def _importer_named(name: str, syntax: str) -> bytes:
    body = with_segments(sample_body(), {"NAD+IM": NAME + name})
    return interchange(body, syntax=syntax)


def _error(data: bytes) -> DeclarationSyntaxError:
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_declaration(data)
    return caught.value


def test_levels_map_to_codecs() -> None:
    assert {name: level.codec for name, level in SYNTAX_LEVELS.items()} == {
        "UNOA": "ascii",
        "UNOB": "ascii",
        "UNOC": "iso-8859-1",
        "UNOD": "iso-8859-2",
        "UNOE": "iso-8859-5",
        "UNOF": "iso-8859-7",
        "UNOW": "utf-8",
    }
    assert level_for("UNOW", 3) is None and level_for("UNOW", 4) is not None
    assert level_for("UNOY", 4) is None


def test_every_level_allows_the_space_a_segments_values_are_checked_joined_by() -> None:
    """The reader checks a segment's values in one search, joined by a space: the first
    character refused is the one a search of each value in turn finds, if no level refuses
    the space itself."""
    assert all(level.first_forbidden(" ") is None for level in SYNTAX_LEVELS.values())
    error = _error(_importer_named("IMPORTADORA LIMA:SOCIEDAD An", "UNOA:3"))
    assert "'n'" in error.message and "(NAD)" in (error.position or "")


def test_unoc_carries_spanish_letters_in_iso_8859_1() -> None:
    data = _importer_named("IMPORTACIONES ÑANDÚ", "UNOC:3")
    assert "Ñ".encode("latin-1") in data
    declaration = parse_declaration(data)
    assert isinstance(declaration, DUA) and declaration.importer.name == "IMPORTACIONES ÑANDÚ"


def test_unoa_refuses_lower_case_naming_the_segment() -> None:
    error = _error(_importer_named("Importaciones", "UNOA:3"))
    assert error.code == "EDI-CHARSET"
    assert "'m'" in error.message and "UNOA" in error.message
    assert error.position is not None and "(NAD)" in error.position


def test_unob_takes_lower_case_but_not_eight_bit_bytes() -> None:
    declaration = parse_declaration(_importer_named("Importaciones", "UNOB:3"))
    assert isinstance(declaration, DUA) and declaration.importer.name == "Importaciones"
    error = _error(_importer_named("Ñandú", "UNOB:3"))
    assert error.code == "EDI-CHARSET" and "0xD1" in error.message
    assert error.position is not None and error.position.startswith("segmento ")


def test_unoc_refuses_control_characters() -> None:
    error = _error(_importer_named("IMPORTADORA\x85LIMA", "UNOC:3"))
    assert error.code == "EDI-CHARSET" and "U+0085" in error.message


def test_unow_is_utf_8_from_syntax_version_4() -> None:
    body = with_segments(sample_body(), {"NAD+IM": NAME + "IMPORTADORA € S.A."})
    data = interchange(body, syntax="UNOW:4", prepared="19970303:1200", codec="utf-8")
    declaration = parse_declaration(data)
    assert isinstance(declaration, DUA) and declaration.importer.name == "IMPORTADORA € S.A."
    invalid = data.replace("€".encode(), b"\xff")
    assert _error(invalid).code == "EDI-CHARSET"


@pytest.mark.parametrize("syntax", ["UNOX:3", "KECA:3", "UNOW:3", "UNOC:9"])
def test_unknown_or_misversioned_levels_are_refused(syntax: str) -> None:
    error = _error(interchange(sample_body(), syntax=syntax))
    assert error.code == "EDI-CHARSET" and error.position == "segmento UNB, elemento 1"


def test_writer_picks_the_plainest_level() -> None:
    assert choose_level(["ABC 123"])[0].identifier == "UNOA"
    assert choose_level(["Abc"])[0].identifier == "UNOC"
    assert choose_level(["Café"])[0].identifier == "UNOC"
    assert choose_level(["€"]) == (SYNTAX_LEVELS["UNOW"], 4)
    assert b"UNB+UNOA:3+" in render_declaration(sample(), WireFormat.EDIFACT)
    assert b"UNB+UNOC:3+" in render_declaration(full_dua(), WireFormat.EDIFACT)


def test_text_outside_latin_1_is_written_as_unow() -> None:
    declaration = full_dua().model_copy(update={"observations_7_38": "Carga de Москва → Lima"})
    data = render_declaration(declaration, WireFormat.EDIFACT)
    assert b"UNB+UNOW:4+" in data and b"+19970303:0000+" in data
    assert parse_declaration(data) == declaration
