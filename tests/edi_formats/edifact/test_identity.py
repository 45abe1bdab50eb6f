"""Who sent an EDIFACT declaration that cannot be read: for the rejection's reference."""

from __future__ import annotations

from edi_formats.codec import DeclarationIdentity, WireFormat, peek_identity, render_declaration
from tests.edi_formats.factories import full_dua, full_oe


def test_identity_of_a_cusdec_with_a_wrong_count() -> None:
    data = render_declaration(full_dua(), WireFormat.EDIFACT).replace(b"UNT+80+", b"UNT+79+")
    assert peek_identity(data) == DeclarationIdentity(
        document_type="DUA", office="118", agent_code="4821", agent_reference="REF-97/0001"
    )


def test_identity_of_a_truncated_cusdec_with_its_own_separators() -> None:
    text = render_declaration(full_oe(), WireFormat.EDIFACT).decode("latin-1")
    text = "UNA^*.? ~" + text[9:].replace("+", "*").replace(":", "^").replace("'", "~")
    cut = text[: text.index("NAD*EX")]
    assert peek_identity(cut.encode("latin-1")) == DeclarationIdentity(
        document_type="OE", office="235", agent_reference="OE-97-7"
    )


def test_identity_values_the_models_refuse_are_left_out() -> None:
    data = b"UNB+UNOC:3+X+Y+970303:1200+R'UNH+1+CUSDEC:D:96B:UN'BGM+999+REF 1'LOC+22+1180'"
    assert peek_identity(data) == DeclarationIdentity()
    assert peek_identity(b"UNA:+.? 'UNB+\xff\x00" * 3) == DeclarationIdentity()
