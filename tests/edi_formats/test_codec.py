"""The codec: format from content, one error type, every sample and broken sample survives."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi_formats.codec import (
    DeclarationIdentity,
    WireFormat,
    detect_format,
    parse_declaration,
    peek_identity,
    render_declaration,
)
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA, OE
from tests.edi_formats.factories import full_dua, full_oe
from validators.samples import BREAKABLE, break_rule, sample_declaration

FORMATS = [WireFormat.FLAT, WireFormat.JSON, WireFormat.EDIFACT]


@pytest.mark.parametrize("fmt", FORMATS)
def test_detected_and_parsed_without_naming_the_format(fmt: WireFormat) -> None:
    for decl in (full_dua(), full_oe()):
        data = render_declaration(decl, fmt)
        assert detect_format(data) is fmt
        assert parse_declaration(data) == decl
        assert parse_declaration(data, fmt) == decl


def _samples() -> list[tuple[str, DUA | OE]]:
    """Both samples, and each broken once per rule it can break."""
    out: list[tuple[str, DUA | OE]] = []
    for kind in ("dua", "oe"):
        sample = sample_declaration(kind, as_of=date(2024, 5, 2))
        out.append((f"{kind}-valid", sample))
        for rule_id in BREAKABLE:
            try:
                out.append((f"{kind}-{rule_id}", break_rule(sample, rule_id)))
            except KeyError:
                continue
    return out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("name", "decl"), _samples(), ids=[name for name, _ in _samples()])
def test_samples_and_broken_samples_survive_every_format(
    fmt: WireFormat, name: str, decl: DUA | OE
) -> None:
    data = render_declaration(decl, fmt)
    assert parse_declaration(data) == decl
    assert render_declaration(parse_declaration(data), fmt) == data


def test_an_interchange_without_a_message_is_detected_and_refused() -> None:
    data = b"UNA:+.? 'UNB+UNOC:3+4821+ADUANA118+970303:1200+R1'UNZ+0+R1'"
    assert detect_format(data) is WireFormat.EDIFACT
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_declaration(data)
    assert (caught.value.code, caught.value.position) == (
        "EDI-ENVELOPE",
        "segmento 2 del intercambio (UNZ)",
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "FMT-EMPTY"),
        (b" \r\n", "FMT-EMPTY"),
        (b"Estimados, adjunto la DUA", "FMT-UNKNOWN"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "FMT-UNKNOWN"),
    ],
)
def test_unrecognised_content(data: bytes, code: str) -> None:
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_declaration(data)
    assert caught.value.code == code


def test_forced_format_is_obeyed() -> None:
    with pytest.raises(DeclarationSyntaxError) as caught:
        parse_declaration(render_declaration(full_dua(), WireFormat.FLAT), WireFormat.JSON)
    assert caught.value.code == "JSON-SYNTAX"


def test_identity_of_an_unreadable_flat_declaration() -> None:
    data = render_declaration(full_dua(), WireFormat.FLAT)
    broken = data.replace(b"|8471300000|", b"|84713000A0|")
    with pytest.raises(DeclarationSyntaxError):
        parse_declaration(broken)
    assert peek_identity(broken[: len(broken) // 2]) == DeclarationIdentity(
        document_type="DUA", office="118", agent_code="4821", agent_reference="REF-97/0001"
    )
    oe = render_declaration(full_oe(), WireFormat.FLAT)
    assert peek_identity(oe).agent_reference == "OE-97-7"


def test_identity_of_json_and_of_garbage() -> None:
    data = b'{"document_type": "OE", "office": "235", "agent_reference": "X 1", "series": ['
    assert peek_identity(data) == DeclarationIdentity()  # malformed JSON: nothing is sure
    data = b'{"document_type": "OE", "office": "2350", "agent_reference": "R-1"}'
    assert peek_identity(data) == DeclarationIdentity(document_type="OE", agent_reference="R-1")
    assert peek_identity(b"\x00\xff" * 50) == DeclarationIdentity()
    assert peek_identity(b"TDH|TELEDESPACHO|01|DUA|\r\nDEC|1\\x|") == DeclarationIdentity(
        document_type="DUA"
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_peek_identity_never_raises(data: bytes) -> None:
    assert isinstance(
        peek_identity(b"TDH|TELEDESPACHO|01|DUA|\r\nDEC|" + data), DeclarationIdentity
    )
    assert isinstance(peek_identity(b'{"document_type": ' + data), DeclarationIdentity)
