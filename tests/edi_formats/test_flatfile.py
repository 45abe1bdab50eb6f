"""The flat file: exact round trips, the era's encodings, and a clear error for bad input."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_formats.errors import DeclarationSyntaxError
from edi_formats.flatfile import reader
from edi_formats.flatfile.layout import FieldKind
from edi_formats.flatfile.reader import MAX_FLAT_BYTES, parse_flat, split_fields
from edi_formats.flatfile.writer import format_value, render_flat, resolve_attr
from edi_formats.models import DUA, OE
from tests.edi_formats.factories import full_dua, full_oe, minimal_dua
from tests.edi_formats.strategies import declarations

FIXTURES = [full_dua(), minimal_dua(), full_oe()]


def _syntax_error(data: bytes) -> DeclarationSyntaxError:
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_flat(data)
    return caught.value


def _lines(decl: DUA | OE) -> list[str]:
    return render_flat(decl).decode("latin-1").split("\r\n")[:-1]


def _join(lines: list[str], encoding: str = "latin-1") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("decl", FIXTURES, ids=["full-dua", "minimal-dua", "full-oe"])
def test_round_trip_is_exact(decl: DUA | OE) -> None:
    data = render_flat(decl)
    parsed = parse_flat(data)
    assert parsed == decl
    assert render_flat(parsed) == data


def test_canonical_form_crlf_iso_8859_1_and_trailer_counts() -> None:
    data = render_flat(full_dua())
    assert data.startswith(b"TDH|TELEDESPACHO|01|DUA|ISO-8859-1\r\n")
    assert data.count(b"\r\n") == data.count(b"\n")
    assert "ÑANDÚ".encode("latin-1") in data
    trailer = data.rstrip(b"\r\n").rsplit(b"\r\n", 1)[1]
    assert trailer == (
        b"TRL|21|DEC=1|IMP=1|TRN=1|TDC=2|CNT=2|TOT=1|INV=2|SUP=1|INS=1|OBS=1|SER=2|C24=2|CTL=2"
    )


def test_separator_and_backslash_in_text_are_escaped() -> None:
    data = render_flat(full_dua())
    assert b"Av. Argentina 1234 \\| Callao \\\\ Per\xfa" in data
    assert split_fields("IMP|a\\|b|c\\\\|d") == ["IMP", "a|b", "c\\", "d"]


def test_characters_outside_latin_1_switch_to_utf_8() -> None:
    decl = full_oe().model_copy(update={"observations": "Envío a 東京 — €"})
    data = render_flat(decl)
    assert data.startswith(b"TDH|TELEDESPACHO|01|OE|UTF-8\r\n")
    assert parse_flat(data) == decl


def test_decimals_keep_their_scale() -> None:
    data = render_flat(full_dua())
    assert b"|1000.000|901.0|" in data  # gross/net weight totals as given
    assert parse_flat(data).totals.gross_weight.as_tuple().exponent == -3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declarations)
def test_round_trip_any_model(decl: DUA | OE) -> None:
    data = render_flat(decl)
    parsed = parse_flat(data)
    assert parsed == decl
    assert render_flat(parsed) == data


# -- lenient reading: line ends, encodings, blanks ------------------------------------------


def test_doubled_carriage_returns_read_the_same() -> None:
    data = render_flat(full_dua()).replace(b"\r\n", b"\r\r\n")
    assert parse_flat(data) == full_dua()


def test_lf_blank_lines_spaces_and_ctrl_z_read_the_same() -> None:
    lines = _lines(full_dua())
    sloppy = "\n\n".join(f" {line} " if line.startswith("CNT") else line for line in lines)
    data = ("\n" + sloppy + "\n\n").encode("latin-1") + b"\x1a"
    assert parse_flat(data) == full_dua()


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "CP850", "CP1252", "UTF-8"])
def test_declared_encodings(encoding: str) -> None:
    data = render_flat(full_dua(), encoding=encoding)
    assert data.startswith(f"TDH|TELEDESPACHO|01|DUA|{encoding}\r\n".encode())
    assert parse_flat(data) == full_dua()


def test_declared_ascii() -> None:
    decl = minimal_dua()
    data = render_flat(decl, encoding="ASCII")
    assert parse_flat(data) == decl


def test_encoding_aliases_are_accepted() -> None:
    data = render_flat(full_dua(), encoding="CP850").replace(b"|CP850\r\n", b"|ibm850\r\n", 1)
    assert parse_flat(data) == full_dua()


@pytest.mark.parametrize("codec", ["cp850", "cp1252", "latin-1", "utf-8"])
def test_undeclared_encoding_is_guessed(codec: str) -> None:
    lines = _lines(full_dua())
    lines[0] = "TDH|TELEDESPACHO|01|DUA|"
    assert parse_flat(_join(lines, codec)) == full_dua()


def test_bytes_not_in_declared_encoding_name_the_line() -> None:
    lines = _lines(full_dua())
    lines[0] = "TDH|TELEDESPACHO|01|DUA|UTF-8"
    error = _syntax_error(_join(lines, "latin-1"))
    assert error.code == "FMT-ENCODING"
    assert error.position == "línea 3"


def test_unknown_declared_encoding() -> None:
    lines = _lines(minimal_dua())
    lines[0] = "TDH|TELEDESPACHO|01|DUA|EBCDIC"
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-ENCODING"
    assert "EBCDIC" in error.message


def test_cp1252_text_declared_as_latin_1_is_a_control_character_error() -> None:
    decl = full_oe().model_copy(update={"observations": "“urgente”"})
    data = render_flat(decl, encoding="CP1252").replace(b"|CP1252\r\n", b"|ISO-8859-1\r\n")
    error = _syntax_error(data)
    assert error.code == "FMT-CONTROL"
    assert error.position == "línea 9, registro OBS, campo 2 (observaciones)"


# -- structure errors ---------------------------------------------------------------------


def test_truncated_file() -> None:
    data = render_flat(full_dua(3))
    error = _syntax_error(data[: len(data) // 2])
    assert error.code == "FMT-TRUNCATED"
    assert "TRL" in error.message


def test_truncated_inside_the_trailer_is_a_count_error() -> None:
    data = render_flat(full_dua())
    error = _syntax_error(data[:-20])
    assert error.code == "FMT-COUNT"


def test_trailer_count_mismatch_names_the_record_type() -> None:
    lines = _lines(full_dua())
    lines[-1] = lines[-1].replace("SER=2", "SER=3")
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-COUNT"
    assert "SER" in error.message
    assert error.position == f"línea {len(lines)}, registro TRL"


def test_trailer_total_mismatch() -> None:
    lines = _lines(minimal_dua())
    lines[-1] = lines[-1].replace("TRL|6|", "TRL|7|")
    error = _syntax_error(_join(lines))
    assert (error.code, error.message) == (
        "FMT-COUNT",
        "el registro TRL indica 7 registros, pero el archivo tiene 6",
    )


def test_trailer_may_leave_out_zero_counts() -> None:
    lines = _lines(minimal_dua())
    lines[-1] = "TRL|6|DEC=1|IMP=1|TRN=1|TOT=1"
    assert parse_flat(_join(lines)) == minimal_dua()


def test_missing_required_record() -> None:
    lines = [line for line in _lines(minimal_dua()) if not line.startswith("TOT")]
    lines[-1] = "TRL|5|DEC=1|IMP=1|TRN=1"
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-RECORD"
    assert "falta el registro TOT" in error.message


def test_record_out_of_order() -> None:
    lines = _lines(full_dua())
    index = next(i for i, line in enumerate(lines) if line.startswith("CNT"))
    after_totals = next(i for i, line in enumerate(lines) if line.startswith("TOT"))
    lines.insert(after_totals, lines.pop(index))
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-RECORD"
    assert error.message == "registro CNT fuera de orden: debe ir antes de TOT"
    assert error.position == f"línea {after_totals + 1}, registro CNT"


def test_record_too_early_reports_what_is_missing() -> None:
    lines = _lines(full_dua())
    index = next(i for i, line in enumerate(lines) if line.startswith("INS"))
    lines.insert(3, lines.pop(index))
    error = _syntax_error(_join(lines))
    assert (error.code, error.position) == ("FMT-RECORD", "antes de la línea 4")
    assert error.message == "falta el registro TRN (Transporte y carga)"


def test_child_without_its_parent() -> None:
    lines = _lines(full_dua())
    index = next(i for i, line in enumerate(lines) if line.startswith("SUP"))
    lines.insert(2, lines.pop(index))
    error = _syntax_error(_join(lines))
    assert error.message == "el registro SUP debe seguir a un registro INV"


def test_repeated_single_record() -> None:
    lines = _lines(minimal_dua())
    lines.insert(2, lines[2])
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-RECORD"
    assert "IMP repetido" in error.message


def test_unknown_record() -> None:
    lines = _lines(minimal_dua())
    lines.insert(3, "XYZ|1|2")
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-RECORD"
    assert error.position == "línea 4"


def test_two_declarations_glued_together() -> None:
    first = _lines(minimal_dua())[:-1]  # no trailer: the mail was cut and pasted twice
    error = _syntax_error(_join(first) + render_flat(minimal_dua()))
    assert "segundo registro TDH" in error.message
    assert error.position == "línea 6, registro TDH"


def test_content_after_trailer() -> None:
    error = _syntax_error(render_flat(minimal_dua()) + b"Saludos\r\n")
    assert error.message == "hay contenido después del registro TRL"


def test_not_a_flat_file() -> None:
    assert _syntax_error(b"Hola, adjunto la DUA\r\n").code == "FMT-RECORD"
    assert _syntax_error(b"").code == "FMT-EMPTY"
    assert _syntax_error(b"\xff\xfeT\x00D\x00H\x00").code == "FMT-ENCODING"


def test_wrong_version_or_document_type() -> None:
    data = render_flat(minimal_dua())
    assert "versión" in _syntax_error(data.replace(b"|01|", b"|02|", 1)).message
    error = _syntax_error(data.replace(b"|DUA|", b"|DAM|", 1))
    assert error.code == "FMT-FIELD"
    assert error.position == "línea 1, registro TDH, campo 4 (tipo de documento)"


# -- field errors -------------------------------------------------------------------------


def test_wrong_field_count() -> None:
    lines = _lines(minimal_dua())
    lines[3] += "|extra"
    error = _syntax_error(_join(lines))
    assert (error.code, error.position) == ("FMT-FIELD", "línea 4, registro TRN")
    assert "tiene 8 campos; se esperan 7" in error.message


ISSUED_ON_7_37 = "fecha de emisión, casilla 7.37"
"""A field as a position names it: in the layout's words, with its casilla."""


@pytest.mark.parametrize(
    ("prefix", "field", "value", "reason", "where"),
    [
        ("CTL|08", 5, "19970231", "fecha no válida", f"CTL, campo 5 ({ISSUED_ON_7_37})"),
        ("CTL|08", 5, "03/03/1997", "fecha no válida", f"CTL, campo 5 ({ISSUED_ON_7_37})"),
        ("SER|2|", 6, "12.5.1", "importe no válido", "SER, campo 6 (cantidad)"),
        ("SER|2|", 14, "-1", "número entero no válido", "SER, campo 14 (bultos de la serie)"),
    ],
)
def test_unreadable_values_name_line_record_and_field(
    prefix: str, field: int, value: str, reason: str, where: str
) -> None:
    lines = _lines(full_dua())
    index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    fields = lines[index].split("|")
    fields[field - 1] = value  # field 1 is the record code
    lines[index] = "|".join(fields)
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-FIELD"
    assert reason in error.message
    assert error.position == f"línea {index + 1}, registro {where}"


def test_decimal_comma_is_read() -> None:
    lines = _lines(full_dua())
    lines = [line.replace("|1110.75|", "|1110,75|") for line in lines]
    assert parse_flat(_join(lines)) == full_dua()


def test_flag_must_be_s_or_n() -> None:
    lines = _lines(minimal_dua())
    lines[1] = lines[1].replace("|R1|N|", "|R1|X|")
    error = _syntax_error(_join(lines))
    sworn_statement = "declaración jurada en lugar de factura"
    assert error.position == f"línea 2, registro DEC, campo 10 ({sworn_statement})"


def test_control_characters_in_a_field_name_it() -> None:
    lines = _lines(full_dua())
    lines[2] = lines[2].replace("ÑANDÚ", "ÑAN\x07DÚ")
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-CONTROL"
    assert error.position == "línea 3, registro IMP, campo 4 (nombre o razón social)"
    assert "U+0007" in error.message


def test_tab_is_a_control_character() -> None:
    lines = _lines(minimal_dua())
    lines[1] = lines[1].replace("|4821|", "|48\t21|")
    assert _syntax_error(_join(lines)).code == "FMT-CONTROL"


def test_invalid_escape() -> None:
    lines = _lines(minimal_dua())
    lines[2] = "IMP|DNI|12345678|C:\\DOCS|"
    error = _syntax_error(_join(lines))
    assert (error.code, error.position) == ("FMT-FIELD", "línea 3, campo 4")


def test_model_refusals_become_syntax_errors_naming_the_field() -> None:
    lines = _lines(full_dua())
    index = next(i for i, line in enumerate(lines) if line.startswith("SER|2|"))
    lines[index] = lines[index].replace("|8471300000|", "|84713000A0|")
    lines[1] = lines[1].replace("|118|", "|1180|", 1)
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-VALUE"
    assert error.position == "línea 2, registro DEC, campo 2 (aduana de despacho)"
    # Says what is expected, not only that it is wrong.
    assert error.message.startswith(
        'formato no válido; se espera 3 dígitos, p. ej. "118". Además: '
    )
    assert f"línea {index + 1}, registro SER, campo 3 (subpartida nacional)" in error.message


def test_incomplete_group_names_the_missing_field() -> None:
    lines = _lines(full_dua())
    lines[3] = lines[3].replace("|118|1997|123|", "|118||123|")
    error = _syntax_error(_join(lines))
    assert error.code == "FMT-VALUE"
    assert error.position == "línea 4, registro TRN, campo 4 (año del manifiesto)"
    assert error.message == "falta el dato obligatorio"


def test_empty_scalar_list_value() -> None:
    lines = _lines(full_dua())
    index = next(i for i, line in enumerate(lines) if line.startswith("CNT"))
    lines[index] = "CNT|"
    error = _syntax_error(_join(lines))
    assert error.position == f"línea {index + 1}, registro CNT, campo 2 (número de contenedor)"


def test_overlong_line_is_refused() -> None:
    lines = _lines(minimal_dua())
    lines[2] = "IMP|DNI|12345678|" + "A" * 9000 + "|"
    assert _syntax_error(_join(lines)).code == "FMT-LIMIT"


# -- size -----------------------------------------------------------------------------------


def test_oversized_file_is_refused_before_reading() -> None:
    data = render_flat(minimal_dua()) + b" " * (MAX_FLAT_BYTES + 1)
    started = time.perf_counter()
    error = _syntax_error(data)
    assert error.code == "FMT-LIMIT"
    assert time.perf_counter() - started < 1.0


def test_lines_are_counted_before_the_file_is_split() -> None:
    """Split first, 14 MB of two-character lines held 3.5 million strings (229 MB at the
    peak) before the first of them was found wrong. A file of a line per record and a blank
    line after each is still read."""
    lines = _lines(minimal_dua())
    data = _join(lines[:-1] + ["XY"] * 3_500_000 + lines[-1:])
    tracemalloc.start()
    try:
        error = _syntax_error(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (error.code, error.message) == ("FMT-LIMIT", "demasiadas líneas (máximo 1000000)")
    assert peak < 50 * 1024 * 1024
    spaced = [part for line in _lines(full_dua()) for part in (line, "")]
    assert parse_flat(_join(spaced)) == full_dua()


def test_record_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_RECORDS", 10)
    assert parse_flat(render_flat(minimal_dua())) == minimal_dua()  # 6 records
    error = _syntax_error(render_flat(full_dua()))  # 21 records
    assert (error.code, error.message) == ("FMT-LIMIT", "demasiados registros (máximo 10)")


def test_ten_thousand_series_parse_fast() -> None:
    decl = full_dua(10_000)
    data = render_flat(decl)
    started = time.perf_counter()
    parsed = parse_flat(data)
    elapsed = time.perf_counter() - started
    assert len(parsed.series) == 10_000
    assert parsed == decl
    assert elapsed < 10.0


# -- fuzzing --------------------------------------------------------------------------------

_VALID = render_flat(full_dua())


def _parse_or_syntax_error(data: bytes) -> None:
    try:
        result = parse_flat(data)
    except DeclarationSyntaxError as error:
        assert error.code.startswith("FMT-")
        assert error.message
    else:
        assert isinstance(result, DUA | OE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _parse_or_syntax_error(data)
    _parse_or_syntax_error(b"TDH|TELEDESPACHO|01|DUA|\r\n" + data)


@st.composite
def _mutations(draw: st.DrawFn) -> bytes:
    data = bytearray(_VALID)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "swap"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "replace" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "delete" and data:
            del data[position : position + draw(st.integers(1, 20))]
        elif kind == "insert":
            data[position:position] = draw(
                st.sampled_from([b"|", b"\\", b"\r\n", b"\x00", b"\xff", b"SER|", b"TRL|1"])
            )
        elif kind == "truncate":
            del data[position:]
        else:
            lines = bytes(data).split(b"\r\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\r\n".join(lines))
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_fuzz_mutated_files_only_raise_syntax_errors(data: bytes) -> None:
    _parse_or_syntax_error(data)


class _Colour(Enum):
    RED = "ro|jo"


class _Code(StrEnum):
    TEN = "10"


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (None, FieldKind.TEXT, ""),
        ("a|b\\c", FieldKind.TEXT, "a\\|b\\\\c"),
        (_Colour.RED, FieldKind.TEXT, "ro\\|jo"),
        (_Code.TEN, FieldKind.TEXT, "10"),
        (7, FieldKind.TEXT, "7"),
        (True, FieldKind.FLAG, "S"),
        (False, FieldKind.FLAG, "N"),
        (date(1997, 3, 4), FieldKind.DATE, "19970304"),
        (Decimal("1.50"), FieldKind.DECIMAL, "1.50"),
        (Decimal("1E+2"), FieldKind.DECIMAL, "100"),
        (Decimal("12"), FieldKind.INTEGER, "12"),
        (datetime(1997, 3, 4, 9, 30, tzinfo=UTC), FieldKind.TIMESTAMP, "1997-03-04T09:30:00+00:00"),
    ],
)
def test_each_kind_of_value_has_one_canonical_text(
    value: object, kind: FieldKind, text: str
) -> None:
    assert format_value(value, kind) == text


def test_an_attribute_path_stops_at_the_first_absent_step() -> None:
    dua = full_dua()
    assert dua.insurance is not None
    assert resolve_attr(dua, "insurance.number") == dua.insurance.number
    assert resolve_attr(dua, "totals.fob") == dua.totals.fob
    assert resolve_attr(dua.model_copy(update={"insurance": None}), "insurance.number") is None
