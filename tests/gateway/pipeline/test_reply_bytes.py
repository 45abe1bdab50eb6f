"""The replies written as bytes: valid MIME for the email package, the number and channel
filled into a template exactly where a reply composed whole would have them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from config import OfficeRegistry
from edi_formats.codec import parse_response, render_declaration, render_response
from edi_formats.detect import WireFormat
from edi_formats.responses import Channel
from gateway.pipeline import replies
from gateway.pipeline.process import ReadDeclaration, SubmissionHeaders, analyse
from tests.gateway.mail.checks import crlf_only, head_fit_for_the_wire, without_defects
from tests.gateway.pipeline.helpers import (
    AGENT,
    AGENT_CODE,
    AS_OF,
    OFFICE,
    attachments,
    body_text,
    declaration,
    submission,
)
from validators.engine import RuleContext

RECEIVED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
NUMBER = "118-2026-10-000042"


def envelope(subject: str = "Declaración de prueba") -> replies.ReplyEnvelope:
    return replies.ReplyEnvelope(
        office_address=OFFICE,
        agent_address=AGENT,
        office_code="118",
        office_name="Marítima del Callao",
        domain="aduanas.gob.pe",
        date=RECEIVED,
        received_at=RECEIVED,
        submission=SubmissionHeaders("<envio-7@agencias.pe>", None, subject),
        id_seed="job-1/1",
    )


def parse(raw: bytes) -> EmailMessage:
    crlf_only(raw)
    head_fit_for_the_wire(raw)
    return without_defects(raw)


def segments(interchange: bytes) -> list[bytes]:
    """The segments but the interchange header and trailer (UNB, UNZ)."""
    split = [segment.strip() for segment in interchange.split(b"'")]
    return [segment for segment in split if not segment.startswith((b"UNB", b"UNZ"))]


def read(
    offices: OfficeRegistry, fmt: WireFormat, reference: str, breaks: str | None = None
) -> ReadDeclaration:
    document = render_declaration(declaration(reference=reference, breaks=breaks), fmt)
    context = RuleContext(
        as_of=AS_OF, offices=offices, addressed_office="118", sender_agent_code=AGENT_CODE
    )
    (outcome,) = analyse(submission(document), context).outcomes
    assert isinstance(outcome, ReadDeclaration)
    assert outcome.document.format is fmt
    return outcome


@pytest.mark.parametrize("fmt", [WireFormat.FLAT, WireFormat.JSON, WireFormat.EDIFACT])
@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("reference", ["REF-1", "118-2026-10-000000"])
def test_a_filled_acceptance_carries_the_number_where_a_whole_one_would(
    offices: OfficeRegistry, fmt: WireFormat, channel: Channel, reference: str
):
    """The reference "118-2026-10-000000" is the stand-in number the attachment is rendered
    with: it must stay the reference."""
    outcome = read(offices, fmt, reference)
    message = parse(replies.acceptance(envelope(), outcome, number=NUMBER, channel=channel))
    assert message["X-Teledespacho-Number"] == NUMBER
    assert message["X-Teledespacho-Channel"] == channel.value
    assert message["Subject"].startswith(f"ACEPTADA DUA {NUMBER} canal {channel.value.upper()}")
    ((name, data),) = attachments(message)
    assert name.startswith(f"respuesta-{NUMBER}.")
    whole = replies.response_for(
        outcome, received_at=RECEIVED, office="118", number=NUMBER, channel=channel
    )
    expected = render_response(whole, fmt, outcome.document.data)
    if fmt is WireFormat.EDIFACT:  # the interchange reference digests the stand-in's response
        assert segments(data) == segments(expected)
    else:
        assert data == expected
    response = parse_response(data, fmt)
    assert (response.number, response.channel, response.agent_reference) == (
        NUMBER,
        channel,
        reference,
    )
    assert f"Número de declaración: {NUMBER}" in body_text(message)


def test_an_office_copy_gives_the_reason_wrapped(offices: OfficeRegistry):
    outcome = read(offices, WireFormat.JSON, "REF-2")
    reason = (
        "selección por riesgo (peso 0.625; hasta 15 % de rojo en el mes: 3 de 40 antes de esta)"
    )
    raw = replies.office_copy(
        envelope(),
        outcome,
        number=NUMBER,
        channel=Channel.ROJO,
        channel_reason=reason,
        agent_address=AGENT,
    )
    message = parse(raw)
    assert message["Subject"] == f"DUA {NUMBER} canal ROJO - despachador {AGENT_CODE} ref. REF-2"
    text = body_text(message).replace("\r\n", "\n")
    assert "    Motivo: selección por riesgo" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert " ".join(text.split()).count(" ".join(reason.split())) == 1
    ((name, data),) = attachments(message)
    assert (name, data) == (f"{NUMBER}.json", outcome.document.data)


def test_every_reply_is_valid_mime_with_a_long_non_ascii_subject(offices: OfficeRegistry):
    subject = "Envío de declaraciones ñandú — " + "asunto muy largo " * 10
    env = envelope(subject)
    outcome = read(offices, WireFormat.FLAT, "REF-3")
    rejected = read(offices, WireFormat.FLAT, "REF-3", breaks="STR-SERIES")
    for raw in (
        replies.acceptance(env, outcome, number=NUMBER, channel=Channel.VERDE),
        replies.rejection(env, rejected),
        replies.nothing_readable(env, ["adjunto foto.jpg"]),
        replies.failure(env, 3),
    ):
        message = parse(raw)
        assert message["In-Reply-To"] == "<envio-7@agencias.pe>"
        assert message["From"].addresses[0].display_name == "Teledespacho Aduana 118"


def test_the_same_answer_composed_again_has_the_same_message_id(offices: OfficeRegistry):
    outcome = read(offices, WireFormat.FLAT, "REF-4", breaks="STR-SERIES")
    first = parse(replies.rejection(envelope(), outcome))["Message-ID"]
    assert parse(replies.rejection(envelope(), outcome))["Message-ID"] == first
