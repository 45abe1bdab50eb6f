"""Hostile CUSDECs: segment soups and mangled bytes get a DeclarationSyntaxError, never a crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edi_formats.codec import DeclarationIdentity, parse_declaration, peek_identity
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA, OE
from tests.edi_formats.edifact.builders import body_of, interchange
from tests.edi_formats.factories import full_dua, full_oe

BODIES = (body_of(full_dua()), body_of(full_oe()))
TAGS = sorted(
    {segment.split("+")[0] for body in BODIES for segment in body}
    | {"SEL", "TOD", "TAX", "LIN", "IMD", "RFF", "UNS", "UNH", "UNT", "UNZ", "CNT", "QTY", "XYZ"}
)
QUALIFIERS = sorted(
    {part for body in BODIES for segment in body for part in segment.replace(":", "+").split("+")}
)
ATOMS = st.one_of(
    st.sampled_from(QUALIFIERS),
    st.text(alphabet="0123456789AZaz.,-?:+'* \u00d1", max_size=12),
)
ELEMENT = st.lists(ATOMS, min_size=1, max_size=4).map(":".join)
SEGMENT = st.builds(
    lambda tag, elements: "+".join([tag, *elements]),
    st.sampled_from(TAGS),
    st.lists(ELEMENT, max_size=6),
)


def _read(data: bytes) -> None:
    """Parse ``data``: a declaration or a DeclarationSyntaxError, nothing else."""
    try:
        declaration = parse_declaration(data)
    except DeclarationSyntaxError as error:
        assert error.code.startswith(("EDI-", "FMT-"))
        assert error.message
    else:
        assert isinstance(declaration, DUA | OE)
    assert isinstance(peek_identity(data), DeclarationIdentity)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_segment_soups_are_answered(data: st.DataObject) -> None:
    body = list(data.draw(st.sampled_from(BODIES)))
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(st.sampled_from(["drop", "insert", "duplicate", "swap", "replace"]))
        index = data.draw(st.integers(0, len(body) - 1))
        if action == "drop" and len(body) > 1:
            del body[index]
        elif action == "insert":
            body.insert(index, data.draw(SEGMENT))
        elif action == "duplicate":
            body.insert(index, body[index])
        elif action == "swap":
            other = data.draw(st.integers(0, len(body) - 1))
            body[index], body[other] = body[other], body[index]
        else:
            tag = body[index].split("+")[0]
            body[index] = "+".join([tag, *data.draw(st.lists(ELEMENT, max_size=6))])
    _read(interchange(body))


@settings(max_examples=200, deadline=None)
@given(st.lists(SEGMENT, max_size=30))
def test_pure_soups_are_answered(body: list[str]) -> None:
    _read(interchange(body))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mangled_bytes_are_answered(data: st.DataObject) -> None:
    raw = bytearray(interchange(data.draw(st.sampled_from(BODIES))))
    for _ in range(data.draw(st.integers(1, 4))):
        if not raw:
            break
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        byte = data.draw(st.integers(0, 255))
        if action == "delete":
            del raw[position]
        elif action == "insert":
            raw.insert(position, byte)
        elif action == "replace":
            raw[position] = byte
        else:
            del raw[position:]
    _read(bytes(raw))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_anything_after_an_envelope_start_is_answered(tail: bytes) -> None:
    _read(b"UNA:+.? 'UNB+" + tail)
    _read(b"UNB+UNOC:3+" + tail)
