"""Interchange syntax: UNA or not, release character, separators, envelope and counts."""

from __future__ import annotations

import time

import pytest

from edi_formats.codec import parse_declaration
from edi_formats.edifact.codes import CUSDEC
from edi_formats.edifact.lexer import MAX_SEGMENT_CHARS, MAX_SEGMENTS
from edi_formats.edifact.syntax import read_interchange
from edi_formats.errors import DeclarationSyntaxError
from tests.edi_formats.edifact.builders import interchange, sample, sample_body, with_segments


def _error(data: bytes) -> DeclarationSyntaxError:
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_declaration(data)
    return caught.value


def test_with_and_without_una_read_the_same() -> None:
    body = sample_body()
    with_una = parse_declaration(interchange(body))
    # Without UNA the ISO 9735 defaults apply (decimal comma, which is read as well).
    without = parse_declaration(interchange(body, una=None))
    assert with_una == without == sample()


def test_una_may_announce_other_separators() -> None:
    text = interchange(sample_body(), una=None).decode("latin-1")
    assert "*" not in text and "^" not in text and "~" not in text
    text = text.replace("+", "*").replace(":", "^").replace("'", "~")
    assert parse_declaration(b"UNA^*.? ~" + text.encode("latin-1")) == sample()


def test_release_character_escapes_separators_in_values() -> None:
    body = with_segments(
        sample_body(), {"NAD+IM": "NAD+IM+20512345671:RUC:ZZZ++O?'HIGGINS ?+ CIA?: S??A"}
    )
    declaration = parse_declaration(interchange(body))
    assert declaration.importer.name == "O'HIGGINS + CIA: S?A"  # type: ignore[union-attr]


def test_segments_may_be_separated_by_line_breaks_or_not() -> None:
    body = sample_body()
    assert parse_declaration(interchange(body, separator="")) == sample()
    assert parse_declaration(interchange(body, separator="\n")) == sample()


def test_a_byte_order_mark_and_leading_blank_lines_are_ignored() -> None:
    assert parse_declaration(b"\xef\xbb\xbf\r\n  " + interchange(sample_body())) == sample()


def test_level_b_information_separators_without_una() -> None:
    body = sample_body()
    text = interchange(body, una=None, syntax="UNOB:3", separator="").decode("latin-1")
    text = text.replace("'", "\x1c").replace("+", "\x1d").replace(":", "\x1f")
    assert parse_declaration(text.encode("ascii")) == sample()


def test_wrong_unt_count_is_rejected_naming_unt() -> None:
    body = sample_body()
    error = _error(interchange(body, unt_count=len(body) + 1))
    assert error.code == "EDI-COUNT"
    assert error.position == f"segmento {len(body) + 2} del mensaje (UNT), elemento 1"
    assert f"UNT declara {len(body) + 1} segmentos" in error.message


def test_wrong_unz_count_is_rejected_naming_unz() -> None:
    error = _error(interchange(sample_body(), unz_count=2))
    assert error.code == "EDI-COUNT"
    assert error.position is not None and "(UNZ)" in error.position


def test_missing_unt_is_named() -> None:
    body = sample_body()
    data = interchange(body).replace(f"UNT+{len(body) + 2}+1'\r\n".encode(), b"")
    error = _error(data)
    assert error.code == "EDI-TRUNCATED" or error.code == "EDI-ENVELOPE"
    assert "UNT" in error.message and error.position is not None


def test_missing_unz_is_a_truncated_interchange() -> None:
    data = interchange(sample_body())
    error = _error(data[: data.index(b"UNZ")])
    assert error.code == "EDI-TRUNCATED" and "UNZ" in error.message


def test_an_unterminated_segment_names_its_position() -> None:
    data = interchange(sample_body())
    cut = data[: data.index(b"UNS+D'") + 5]  # "UNS+D" without its terminator
    error = _error(cut)
    assert error.code == "EDI-SYNTAX"
    assert error.position is not None and error.position.startswith("segmento ")
    assert "no termina" in error.message


def test_a_segment_too_long_is_refused_at_once() -> None:
    """14 MB of data separators in one segment took 42 s and 1.2 GB to be found wrong."""
    data = interchange(sample_body())
    cut = data.index(b"UNS+D'")
    huge = data[:cut] + b"FTX" + b"+" * 14_000_000 + b"'" + data[cut:]
    started = time.perf_counter()
    error = _error(huge)
    assert time.perf_counter() - started < 5  # 42 s before
    assert (error.code, error.message) == (
        "EDI-LIMIT",
        f"segmento demasiado largo (máximo {MAX_SEGMENT_CHARS} caracteres)",
    )
    assert error.position is not None and error.position.endswith("del intercambio (FTX)")


def test_too_many_segments_are_refused_before_any_is_read() -> None:
    """3.5 million empty segments took over a minute to be found wrong."""
    data = interchange(sample_body())
    cut = data.index(b"UNS+D'")
    many = data[:cut] + b"FTX'" * (MAX_SEGMENTS + 1) + data[cut:]
    started = time.perf_counter()
    error = _error(many)
    assert time.perf_counter() - started < 5
    assert (error.code, error.message) == (
        "EDI-LIMIT",
        f"demasiados segmentos (máximo {MAX_SEGMENTS})",
    )


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ((b"UNH+1+", b"UNH+2+"), "EDI-ENVELOPE", "UNT"),
        ((b"UNZ+1+R1", b"UNZ+1+R2"), "EDI-ENVELOPE", "UNZ"),
        ((b"CUSDEC:D:96B:UN", b"CUSDEC:D:97A:UN"), "EDI-MESSAGE", "CUSDEC D.96B UN"),
        ((b"CUSDEC:D:96B:UN", b"INVOIC:D:96B:UN"), "EDI-MESSAGE", "INVOIC"),
        ((b"970303:1200", b"970230:1200"), "EDI-ENVELOPE", "imposible"),
        ((b"970303:1200", b"19970303:1200"), "EDI-ENVELOPE", "AAMMDD"),
        ((b"+4821:ZZ", b"+"), "EDI-ENVELOPE", "remitente"),
        ((b"UNOC:3", b"UNOC"), "EDI-ENVELOPE", "versión"),
        ((b"BGM+", b"bgm+"), "EDI-SYNTAX", "etiqueta"),
        ((b"UNA:+.? '", b"UNA:+:? '"), "EDI-SYNTAX", "UNA"),
        ((b"UNA:+.? '", b"UNA:+;? '"), "EDI-SYNTAX", "decimal"),
    ],
)
def test_envelope_errors(change: tuple[bytes, bytes], code: str, words: str) -> None:
    data = interchange(sample_body()).replace(*change, 1)
    error = _error(data)
    assert error.code == code
    assert words in error.message


def test_two_messages_that_unz_does_not_count_are_refused() -> None:
    data = interchange(sample_body())
    unz = data.index(b"UNZ")
    message = data[data.index(b"UNH") : unz]
    error = _error(data[:unz] + message + data[unz:])  # UNZ+1 for two messages
    assert error.code == "EDI-COUNT" and "más de un mensaje" in error.message


def test_a_functional_group_without_its_une_is_refused() -> None:
    data = interchange(sample_body()).replace(
        b"UNH+1+", b"UNG+CUSDEC+X+Y+970303:1200+1+UN+D:96B'UNH+1+"
    )
    error = _error(data)
    assert error.code == "EDI-ENVELOPE" and "grupo funcional incompleto" in error.message


def test_segments_after_unz_are_refused() -> None:
    error = _error(interchange(sample_body()) + b"\r\nUNH+2+X'")
    assert error.code == "EDI-ENVELOPE" and "después de UNZ" in error.message


def test_syntax_version_4_takes_a_four_digit_year() -> None:
    data = interchange(sample_body(), syntax="UNOW:4", prepared="19970303:1200")
    interchange_read = read_interchange(data, CUSDEC)
    assert interchange_read.prepared.year == 1997 and interchange_read.level.identifier == "UNOW"
    assert parse_declaration(data) == sample()


def test_interchange_reports_its_envelope() -> None:
    read = read_interchange(interchange(sample_body()), CUSDEC)
    assert (read.sender, read.recipient, read.control_reference) == ("4821", "ADUANA118", "R1")
    assert read.has_una and read.chars.decimal == "."
    assert read.body[0].tag == "BGM" and read.body[0].number == 2


def test_an_interchange_of_several_messages_splits_into_one_per_message() -> None:
    from edi_formats.edifact.syntax import split_messages

    body = sample_body()
    one = interchange(body).decode("latin-1").split("\r\n")
    unh = next(i for i, s in enumerate(one) if s.startswith("UNH"))
    message = one[unh:-1]
    second = [s.replace("UNH+1+", "UNH+2+").replace(f"UNT+{len(body) + 2}+1", "X") for s in message]
    second[-1] = f"UNT+{len(body) + 2}+2'"
    text = [*one[:unh], "UNG+CUSDEC+4821+ADUANA118+970303:1200+G1+UN+D:96B'"]
    text += message + second + ["UNE+2+G1'", "UNZ+1+R1'"]
    parts = split_messages("\r\n".join(text).encode("latin-1"))
    assert parts is not None and len(parts) == 2
    assert [read_interchange(part, CUSDEC).message_reference for part in parts] == ["1", "2"]
    assert all(read_interchange(part, CUSDEC).control_reference == "R1" for part in parts)
    wrong_count = "\r\n".join(text).replace("UNE+2+G1", "UNE+3+G1").encode("latin-1")
    assert split_messages(wrong_count) is None  # read whole: its errors are reported
    assert split_messages(interchange(body)) is None
    # One message still, whose text names UNH and UNG (not taken for segments by a glance).
    named = [*body[:1], "FTX+AAI+++UNH Y UNG SON ETIQUETAS", *body[1:]]
    assert split_messages(interchange(named)) is None
    assert read_interchange(interchange(named), CUSDEC).body[1].tag == "FTX"
