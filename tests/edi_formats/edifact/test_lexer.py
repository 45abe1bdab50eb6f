"""The one lexer: UNA, level A/B defaults, release characters, positions; and its users agree."""

from __future__ import annotations

import pytest

from edi_formats.codec import DeclarationIdentity, peek_identity
from edi_formats.edifact.identity import edifact_identity
from edi_formats.edifact.lexer import (
    DEFAULT_CHARS,
    LEVEL_B_CHARS,
    MAX_SEGMENT_CHARS,
    ServiceChars,
    escape,
    lex,
    line_and_column,
    parse_una,
    segments,
    serialize,
)
from edi_formats.edifact.scan import interchange_end
from edi_formats.extract import extract_documents

NO_RELEASE = "UNA:+. *'"
"""A UNA whose release character is a space: there is none, so ``?`` and spaces are data."""


def test_una_sets_the_characters_and_a_space_release_means_none() -> None:
    chars, problem = parse_una(NO_RELEASE[3:])
    assert problem is None and chars == ServiceChars(":", "+", ".", None, "*", "'")
    assert parse_una("::.? '")[0] is None  # separators must differ


def test_defaults_without_una_by_level() -> None:
    assert lex("UNB+UNOA:1+X+Y+970303:1200+R'")[0].chars == DEFAULT_CHARS
    assert lex("UNB\x1dUNOB\x1f1\x1dX\x1c")[0].chars == LEVEL_B_CHARS
    _, found = lex("UNB\x1dUNOB\x1f1\x1dX\x1c")
    assert found[0].elements == [["UNB"], ["UNOB", "1"], ["X"]]


def test_release_character_keeps_separators_and_itself_as_data() -> None:
    _, found = lex("UNA:+.? 'UNB+A?+B:C??+D?'E'UNZ+1'")
    assert found[0].elements == [["UNB"], ["A+B", "C?"], ["D'E"]]
    assert [s.tag for s in found] == ["UNB", "UNZ"]


def test_positions_and_an_unterminated_tail() -> None:
    text = "UNA:+.? '\r\nUNB+X'\r\nUNH+1'\r\nBGM+9"
    lexed, found = lex(text)
    assert [(s.tag, s.number, s.terminated) for s in found] == [
        ("UNB", 1, True),
        ("UNH", 2, True),
        ("BGM", 3, False),
    ]
    assert line_and_column(text, found[2].offset) == (4, 1)
    assert lexed.body == text.index("UNB")


def test_serialize_escapes_and_trims() -> None:
    text = serialize([("FTX", ["AAI", "", "", ["O'HIGGINS + CIA: S?A", ""]]), ("CNT", ["5", ""])])
    assert text == "UNA:+.? '\r\nFTX+AAI+++O?'HIGGINS ?+ CIA?: S??A'\r\nCNT+5'\r\n"
    assert escape("a?b", ServiceChars(release=None)) == "a?b"
    first = next(segments(text, ServiceChars(), 11))
    assert first.elements[4] == ["O'HIGGINS + CIA: S?A"]


def test_identity_with_a_space_release_keeps_the_spaces() -> None:
    data = (
        NO_RELEASE + "UNB+UNOC:3+4821:ZZ+ADUANA118:ZZ+970303:1200+R1'UNH+1+CUSDEC:D:96B:UN'"
        "BGM+929+REF 1'LOC+22+118'NAD+AE+4821'"
    ).encode()
    assert edifact_identity(data) == {
        "document_type": "DUA",
        "office": "118",
        "agent_code": "4821",
        "agent_reference": "REF 1",
    }
    assert peek_identity(data) == DeclarationIdentity(  # a reference has no spaces: left out
        document_type="DUA", office="118", agent_code="4821"
    )


def test_interchange_end_with_a_space_release_stops_after_unz() -> None:
    interchange = (
        NO_RELEASE + "UNB+UNOC:3+4821+ADUANA118+970303:1200+R1'FTX+AAI+++LOTE '\r\nUNZ+1+R1'"
    ).encode()
    data = b"Buenos dias,\r\n" + interchange + b"\r\nSaludos, Juan\r\n"
    start = data.index(b"UNA")
    assert data[start : interchange_end(data, start, len(data))] == interchange


def test_mail_text_after_a_space_release_interchange_is_not_part_of_it() -> None:
    interchange = (
        NO_RELEASE + "UNB+UNOC:3+4821+ADUANA118+970303:1200+R1'FTX+AAI+++LOTE '\r\nUNZ+1+R1'"
    )
    mail = (
        "From: a@b.pe\r\nTo: c@d.pe\r\nSubject: x\r\n\r\nBuenos dias,\r\n"
        + interchange
        + "\r\nSaludos, Juan\r\n"
    ).encode()
    documents = extract_documents(mail).documents
    assert [document.data.strip() for document in documents] == [interchange.encode()]


@pytest.mark.parametrize(
    "long",
    [
        "FTX" + "+" * 20_000 + "'",  # data separators
        "FTX+" + ":" * 20_000 + "'",  # component separators
        "FTX+" + "?'" * 10_000 + "'",  # released terminators: where does it end?
        "FTX+" + "x" * 20_000,  # no terminator at all
    ],
    ids=["elements", "components", "released", "unterminated"],
)
def test_a_segment_too_long_to_split_comes_flagged_and_last(long: str) -> None:
    """Split, one of 14 MB of data separators made 14 million lists (1.2 GB, 42 s)."""
    text = "UNA:+.? 'UNB+UNOC:3+X'" + long + "UNZ+1'"
    _, found = lex(text)
    assert [(s.tag, s.oversized) for s in found] == [("UNB", False), ("FTX", True)]
    assert found[1].elements == [["FTX"]]
    assert found[1].end - found[1].offset == MAX_SEGMENT_CHARS
    _, fits = lex("UNA:+.? 'UNB+UNOC:3+X'FTX+" + "x" * (MAX_SEGMENT_CHARS - 4) + "'UNZ+1'")
    assert [(s.tag, s.oversized) for s in fits] == [("UNB", False), ("FTX", False), ("UNZ", False)]
