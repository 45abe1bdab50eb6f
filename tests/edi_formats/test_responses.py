"""Responses: accepted or rejected, with every finding, in flat and JSON, read back equal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from edi_formats.codec import (
    WireFormat,
    parse_response,
    render_response,
    render_response_channels,
)
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.responses import Channel, DeclarationResponse, ResponseFinding, ResponseStatus
from tests.edi_formats.strategies import models_of
from validators.findings import Finding, Severity

RECEIVED = datetime(1997, 3, 3, 15, 4, 5, tzinfo=UTC)


def _accepted() -> DeclarationResponse:
    return DeclarationResponse(
        status=ResponseStatus.ACCEPTED,
        document_type="DUA",
        office="118",
        agent_reference="19970303-DUA-001",
        number="118-1997-10-000042",
        channel=Channel.VERDE,
        received_at=RECEIVED,
        findings=(
            ResponseFinding.from_finding(
                Finding(
                    rule_id="MOD-ANT-MANIFEST",
                    severity=Severity.WARNING,
                    field="transport.containers",
                    message="Despacho anticipado sin contenedores | casilla 7.38",
                    citation="INTA-PG.01-A VII.A.3",
                )
            ),
        ),
    )


def _rejected() -> DeclarationResponse:
    error = DeclarationSyntaxError("FMT-TRUNCATED", "el archivo termina sin TRL", "línea 9")
    return DeclarationResponse.rejected_unreadable(
        error, RECEIVED.astimezone(timezone(timedelta(hours=-5))), office="235"
    )


@pytest.mark.parametrize("fmt", [WireFormat.FLAT, WireFormat.JSON])
@pytest.mark.parametrize("response", [_accepted(), _rejected()], ids=["accepted", "rejected"])
def test_round_trip(fmt: WireFormat, response: DeclarationResponse) -> None:
    data = render_response(response, fmt)
    assert parse_response(data) == response
    assert render_response(parse_response(data), fmt) == data


def _accepted_as(reference: str, message: str) -> DeclarationResponse:
    accepted = _accepted()
    finding = accepted.findings[0].model_copy(update={"message": message})
    return DeclarationResponse.model_validate(
        {**dict(accepted), "agent_reference": reference, "findings": (finding,)}
    )


@pytest.mark.parametrize("fmt", list(WireFormat))
@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("19970303-DUA-001", "sin contenedores"),
        ("verde|rojo\\", "canal verde | naranja"),  # a channel's name elsewhere, escapes
        ("REF-1", "Ωmega: no cabe en ISO-8859-1"),  # the flat file goes in UTF-8
    ],
)
def test_the_channels_responses_are_each_channels_rendering(
    fmt: WireFormat, reference: str, message: str
) -> None:
    """Rendered for every channel at once (a flat file once, its channel spliced), each is
    byte for byte what rendering the response with that channel gives."""
    response = _accepted_as(reference, message)
    request = render_response(response, WireFormat.EDIFACT)
    by_channel = render_response_channels(response, fmt, request)
    assert list(by_channel) == list(Channel)
    for channel, data in by_channel.items():
        expected = response.model_copy(update={"channel": channel})
        assert data == render_response(
            DeclarationResponse.model_validate(dict(expected)), fmt, request
        )


def test_only_an_acceptance_is_rendered_per_channel() -> None:
    with pytest.raises(ValueError, match="channel"):
        render_response_channels(_rejected(), WireFormat.FLAT)


def test_flat_rendering() -> None:
    data = render_response(_accepted(), WireFormat.FLAT).decode("latin-1")
    assert data.split("\r\n") == [
        "TDH|TELEDESPACHO|01|RES|ISO-8859-1",
        "RES|accepted|DUA|118|19970303-DUA-001|118-1997-10-000042|verde|1997-03-03T15:04:05+00:00",
        "FND|MOD-ANT-MANIFEST|warning|transport.containers|"
        "Despacho anticipado sin contenedores \\| casilla 7.38|INTA-PG.01-A VII.A.3",
        "TRL|4|RES=1|FND=1",
        "",
    ]


def test_unreadable_declaration_finding() -> None:
    (finding,) = _rejected().findings
    assert (finding.rule_id, finding.severity, finding.field) == (
        "FMT-TRUNCATED",
        "error",
        "línea 9",
    )
    assert _rejected().agent_reference is None


def test_empty_engine_fields_become_absent() -> None:
    finding = ResponseFinding.from_finding(
        Finding("STR-SERIES", Severity.ERROR, "", "La declaración no tiene series", "004")
    )
    assert finding.field is None


def test_line_breaks_in_messages_become_spaces() -> None:
    finding = ResponseFinding(rule_id="X", severity="error", message="uno\r\ndos\ttres")
    assert finding.message == "uno dos tres"


def test_number_and_channel_only_on_acceptance() -> None:
    with pytest.raises(ValidationError):
        DeclarationResponse.model_validate({**_accepted().model_dump(), "channel": None})
    with pytest.raises(ValidationError):
        DeclarationResponse(
            status=ResponseStatus.REJECTED, number="118-1997-10-000042", received_at=RECEIVED
        )
    with pytest.raises(ValidationError):
        DeclarationResponse(status=ResponseStatus.REJECTED, received_at=RECEIVED)  # no reason given
    with pytest.raises(ValidationError):
        DeclarationResponse(
            status=ResponseStatus.ACCEPTED, number="1", channel=Channel.VERDE, received_at=RECEIVED
        )


def test_received_at_must_carry_its_zone() -> None:
    with pytest.raises(ValidationError):
        DeclarationResponse(
            status=ResponseStatus.ACCEPTED,
            number="118-1997-10-000042",
            channel=Channel.VERDE,
            received_at=datetime(1997, 3, 3),
        )


def test_unreadable_response_raises_syntax_error() -> None:
    with pytest.raises(DeclarationSyntaxError):
        parse_response(b"TDH|TELEDESPACHO|01|DUA|\r\nTRL|2\r\n")
    with pytest.raises(DeclarationSyntaxError):
        parse_response(b'{"status": "maybe"}')


@settings(max_examples=100, deadline=None)
@given(models_of(DeclarationResponse), st.sampled_from([WireFormat.FLAT, WireFormat.JSON]))
def test_round_trip_any_response(response: DeclarationResponse, fmt: WireFormat) -> None:
    data = render_response(response, fmt)
    assert parse_response(data) == response
