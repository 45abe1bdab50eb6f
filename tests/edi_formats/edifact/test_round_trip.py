"""Model -> CUSDEC -> model for generated declarations, and canonical output."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from edi_formats.codec import WireFormat, detect_format, parse_declaration, render_declaration
from edi_formats.models import DUA, OE
from tests.edi_formats.strategies import declarations


def _fits_d96b(declaration: DUA | OE) -> DUA | OE:
    """The declaration cut to what D.96B carries (EDI-LIMIT otherwise): unit codes of three
    characters (6411), two transport documents and three invoices.

    The other D.96B limits (names over 175 characters, packages over eight digits, quantities
    over fifteen) are beyond what the strategies generate; test_cusdec_mapping covers them.
    """
    data: dict[str, Any] = declaration.model_dump()
    # D.96B holds ten DOC and ten NAD groups in the heading: at most two transport
    # documents (with master and manifest each) and three invoices with supplier contacts.
    data["transport"]["documents"] = data["transport"]["documents"][:2]
    data["invoices"] = data["invoices"][:3]
    for series in data["series"]:
        if series["unit"] is not None:
            series["unit"] = series["unit"][:3]
    return type(declaration).model_validate(data)


@settings(max_examples=150, deadline=None)
@given(declarations.map(_fits_d96b))
def test_generated_declarations_round_trip(declaration: DUA | OE) -> None:
    data = render_declaration(declaration, WireFormat.EDIFACT)
    assert detect_format(data) is WireFormat.EDIFACT
    back = parse_declaration(data)
    assert back == declaration
    assert render_declaration(back, WireFormat.EDIFACT) == data
