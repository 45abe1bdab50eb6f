"""CUSRES: acceptance and rejection, valid EDIFACT that pydifact reads, and back to the model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from pydifact.segmentcollection import Interchange

from edi_formats.codec import WireFormat, parse_response, render_response
from edi_formats.edifact import render_cusdec
from edi_formats.edifact.cusres import error_code
from edi_formats.edifact.lexer import lex
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.responses import Channel, DeclarationResponse, ResponseFinding, ResponseStatus
from tests.edi_formats.factories import full_dua
from tests.edi_formats.strategies import models_of

RECEIVED = datetime(1997, 3, 3, 10, 4, 5, tzinfo=timezone(timedelta(hours=-5)))


def _accepted() -> DeclarationResponse:
    return DeclarationResponse(
        status=ResponseStatus.ACCEPTED,
        document_type="DUA",
        office="118",
        agent_reference="19970303-DUA-001",
        number="118-1997-10-000042",
        channel=Channel.NARANJA,
        received_at=RECEIVED,
        findings=(
            ResponseFinding(
                rule_id="MOD-ANT-MANIFEST",
                severity="warning",
                field="transport.containers",
                message="Despacho anticipado sin contenedores: transmítalos después",
                citation="INTA-PG.01-A VII.A.3",
            ),
        ),
    )


def _rejected() -> DeclarationResponse:
    return DeclarationResponse(
        status=ResponseStatus.REJECTED,
        document_type="OE",
        office="235",
        agent_reference="OE-97-7",
        received_at=RECEIVED,
        findings=(
            ResponseFinding(
                rule_id="STR-SUBPARTIDA",
                severity="error",
                field="series[1].subpartida",
                message="Casilla 7.8: la subpartida 0901 no tiene diez dígitos",
                citation="INTA-PG.01-A VII.A.7 (seed 004)",
            ),
            ResponseFinding(
                rule_id="EDI-COUNT",
                severity="error",
                field="segmento 14 del mensaje (UNT), elemento 1",
                message="UNT declara 13 segmentos, pero el mensaje tiene 14 (de UNH a UNT)",
            ),
        ),
    )


def _pydifact(data: bytes) -> Interchange:
    """The interchange as pydifact reads it (UNOC is ISO 8859-1)."""
    assert data.startswith(b"UNA:+.? '\r\nUNB+UNOC:3+")
    return Interchange.from_str(data.decode("latin-1"))


def test_acceptance_as_written() -> None:
    text = render_response(_accepted(), WireFormat.EDIFACT).decode("latin-1")
    lines = text.split("\r\n")
    assert lines[1].startswith("UNB+UNOC:3+ADUANA118:ZZ+DESPACHADOR:ZZ+970303:1504+")
    assert lines[2:-2] == [
        "UNH+1+CUSRES:D:96B:UN'",
        "BGM+962+19970303-DUA-001+9+AP'",
        "DTM+137:19970303150405UTC:304'",
        "LOC+22+118'",
        "GIS+NAR:CNL:ZZZ'",
        "RFF+AAE:118-1997-10-000042'",
        "DTM+182:19970303150405UTC:304'",
        "ERP+1'",
        f"ERC+{error_code('MOD-ANT-MANIFEST')}:REG:ZZZ'",
        "ERC+OBS:SEV:ZZZ'",
        "FTX+AAO++REG:PRT:ZZZ+MOD-ANT-MANIFEST'",
        "FTX+AAO++CAM:PRT:ZZZ+transport.containers'",
        "FTX+AAO++MSG:PRT:ZZZ+Despacho anticipado sin contenedores?: transmítalos después'",
        "FTX+AAO++CIT:PRT:ZZZ+INTA-PG.01-A VII.A.3'",
        "DOC+929+19970303-DUA-001'",
        "UNT+16+1'",
    ]


def test_pydifact_reads_an_acceptance() -> None:
    interchange = _pydifact(render_response(_accepted(), WireFormat.EDIFACT))
    assert interchange.sender == ["ADUANA118", "ZZ"]
    (message,) = list(interchange.get_messages())
    assert (message.type, message.version) == ("CUSRES", "D.96B")
    assert message.get_segment("BGM").elements == [  # type: ignore[union-attr]
        "962",
        "19970303-DUA-001",
        "9",
        "AP",
    ]
    assert message.get_segment("RFF").elements == [["AAE", "118-1997-10-000042"]]  # type: ignore[union-attr]
    assert message.get_segment("GIS").elements == [["NAR", "CNL", "ZZZ"]]  # type: ignore[union-attr]
    unt = interchange.get_segment("UNT")
    assert unt is not None and unt.elements[0] == str(len(message.segments) + 2)


def test_a_rejection_has_one_error_group_per_finding() -> None:
    interchange = _pydifact(render_response(_rejected(), WireFormat.EDIFACT))
    (message,) = list(interchange.get_messages())
    assert message.get_segment("BGM").elements == ["962", "OE-97-7", "9", "RE"]  # type: ignore[union-attr]
    groups = list(message.split_by("ERP"))
    assert len(groups) == 2
    first, second = groups
    assert first.segments[0].elements == [["10", "2"]]  # customs item section, second series
    assert second.segments[0].elements == ["", ["UNT", "14"]]  # the CUSDEC segment at fault
    for group, finding in zip(groups, _rejected().findings, strict=True):
        codes = [segment.elements[0] for segment in group.get_segments("ERC")]
        assert codes == [[error_code(finding.rule_id), "REG", "ZZZ"], ["ERR", "SEV", "ZZZ"]]
        parts = {
            s.elements[2][0]: "".join(s.elements[3])
            if isinstance(s.elements[3], list)
            else s.elements[3]
            for s in group.get_segments("FTX")
        }
        assert parts["REG"] == finding.rule_id
        assert parts["CAM"] == finding.field
        assert parts["MSG"] == finding.message


def test_responses_read_back_equal_and_render_canonically() -> None:
    for response in (_accepted(), _rejected()):
        data = render_response(response, WireFormat.EDIFACT)
        assert parse_response(data) == response
        assert parse_response(data, WireFormat.EDIFACT) == response
        assert render_response(parse_response(data), WireFormat.EDIFACT) == data


def test_long_texts_spread_over_several_ftx_and_come_back_whole() -> None:
    message = "Mensaje largo " + "con palabras de relleno " * 40
    finding = ResponseFinding(rule_id="X" * 80, severity="error", message=message.strip())
    response = DeclarationResponse(
        status=ResponseStatus.REJECTED, received_at=RECEIVED, findings=(finding,)
    )
    data = render_response(response, WireFormat.EDIFACT)
    assert data.count(b"FTX+AAO++MSG:PRT:ZZZ") == 3 and b"BGM+962++9+RE'" in data
    assert parse_response(data) == response


def test_an_unreadable_declaration_is_answered_naming_the_segment() -> None:
    error = DeclarationSyntaxError(
        "EDI-COUNT",
        "UNT declara 40 segmentos, pero el mensaje tiene 41",
        "segmento 41 del mensaje (UNT), elemento 1",
    )
    response = DeclarationResponse.rejected_unreadable(error, RECEIVED, office="118")
    data = render_response(response, WireFormat.EDIFACT)
    assert b"ERP++UNT:41'" in data and b"+EDI-COUNT'" in data
    assert parse_response(data).findings[0].field == error.position


def test_time_is_kept_to_the_second_in_utc() -> None:
    response = _accepted().model_copy(update={"received_at": RECEIVED.replace(microsecond=999)})
    back = parse_response(render_response(response, WireFormat.EDIFACT))
    assert back.received_at == RECEIVED and back.received_at.tzinfo is UTC


def test_a_cusres_this_gateway_did_not_write_is_refused_clearly() -> None:
    data = render_response(_accepted(), WireFormat.EDIFACT).replace(b"+AP'", b"+XX'")
    try:
        parse_response(data)
    except DeclarationSyntaxError as error:
        assert (
            error.code == "EDI-VALUE"
            and error.position == "segmento 2 del mensaje (BGM), elemento 4"
        )
    else:
        raise AssertionError("an unknown verdict was read")


@settings(max_examples=100, deadline=None)
@given(models_of(DeclarationResponse))
def test_any_response_round_trips(response: DeclarationResponse) -> None:
    response = response.model_copy(
        update={"received_at": response.received_at.replace(microsecond=0)}
    )
    data = render_response(response, WireFormat.EDIFACT)
    assert parse_response(data) == response
    assert render_response(parse_response(data), WireFormat.EDIFACT) == data


def test_a_cusres_is_routed_to_the_cusdec_sender_and_refers_back_to_it() -> None:
    cusdec = render_cusdec(full_dua(), control_reference="CTRL-9")
    data = render_response(_accepted(), WireFormat.EDIFACT, cusdec).decode("latin-1")
    lines = data.split("\r\n")
    assert lines[1].startswith("UNB+UNOC:3+ADUANA118:ZZ+4821:ZZ+")  # not DESPACHADOR:ZZ
    assert "BGM+962+REF-97/0001+9+AP'" in lines  # the CUSDEC's document number
    assert "RFF+ACW:1'" in lines and "RFF+ZZZ:CTRL-9'" in lines
    assert parse_response(data.encode("latin-1")).number == _accepted().number


def test_an_unreadable_cusdec_still_gets_the_references_that_could_be_read() -> None:
    broken = b"UNA:+.? 'UNB+UNOC:3+AGENTE7:14+ADUANA118:ZZ+9703:1+REF77'UNH+M5+CUSDEC'BGM+929+D-1"
    error = DeclarationSyntaxError("EDI-ENVELOPE", "fecha no válida", "segmento 1 del intercambio")
    response = DeclarationResponse.rejected_unreadable(error, RECEIVED, office="118")
    lines = render_response(response, WireFormat.EDIFACT, broken).decode("latin-1").split("\r\n")
    assert "+AGENTE7:14+" in lines[1]
    assert "RFF+ACW:M5'" in lines and "RFF+ZZZ:REF77'" in lines


def test_findings_carry_a_real_code_and_text_is_cut_between_words() -> None:
    assert error_code("STR-CIF") == "STR-CIF"
    assert len(error_code("MOD-ANT-MANIFEST")) == 8
    message = "Casilla 7.21: " + "el valor CIF no es válido " * 5
    finding = ResponseFinding(rule_id="STR-CIF", severity="error", message=message.strip())
    response = DeclarationResponse(
        status=ResponseStatus.REJECTED, received_at=RECEIVED, findings=(finding,)
    )
    data = render_response(response, WireFormat.EDIFACT).decode("latin-1")
    assert "ERC+STR-CIF:REG:ZZZ'" in data
    (ftx,) = [s for s in lex(data)[1] if s.tag == "FTX" and s.elements[3][0] == "MSG"]
    pieces = ftx.elements[4]
    assert len(pieces) == 3 and all(len(piece) <= 70 for piece in pieces)
    assert all(piece.endswith(" ") for piece in pieces[:-1])  # no word cut in two
    assert pieces[-1] == "válido"
    assert parse_response(data.encode("latin-1")) == response
