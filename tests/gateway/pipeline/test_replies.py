"""The reply mails, as bytes on the wire: headers, threading, body, attachment, CRLF."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from config import OfficeRegistry
from edi_formats.boxes import box_label
from edi_formats.codec import parse_response
from edi_formats.detect import WireFormat
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.extract import ExtractedDocument
from edi_formats.responses import Channel
from gateway.pipeline import replies
from gateway.pipeline.process import (
    ReadDeclaration,
    SubmissionHeaders,
    UnreadableDeclaration,
    analyse,
)
from tests.gateway.pipeline.helpers import (
    AGENT,
    AGENT_CODE,
    AS_OF,
    OFFICE,
    attachments,
    body_text,
    declaration,
    flat,
    submission,
)
from validators.engine import RuleContext

RECEIVED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
ANSWERED = datetime(2026, 11, 2, 9, 30, 2, tzinfo=UTC)


def envelope(submitted: SubmissionHeaders | None = None) -> replies.ReplyEnvelope:
    return replies.ReplyEnvelope(
        office_address=OFFICE,
        agent_address=AGENT,
        office_code="118",
        office_name="Marítima del Callao",
        domain="aduanas.gob.pe",
        date=ANSWERED,
        received_at=RECEIVED,
        submission=submitted
        or SubmissionHeaders(
            message_id="<envio-7@agencias.pe>", references="<envio-1@agencias.pe>", subject="DUA"
        ),
    )


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def read(offices: OfficeRegistry, document: bytes) -> ReadDeclaration:
    context = RuleContext(
        as_of=AS_OF, offices=offices, addressed_office="118", sender_agent_code=AGENT_CODE
    )
    (outcome,) = analyse(submission(document), context).outcomes
    assert isinstance(outcome, ReadDeclaration)
    return outcome


def assert_crlf_only(raw: bytes) -> None:
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_an_acceptance_carries_the_fixed_headers(offices: OfficeRegistry):
    outcome = read(offices, flat(declaration(reference="REF-9")))
    raw = replies.acceptance(
        envelope(), outcome, number="118-2026-10-000007", channel=Channel.NARANJA
    )
    assert_crlf_only(raw)
    message = parse(raw)
    assert message["Subject"] == "ACEPTADA DUA 118-2026-10-000007 canal NARANJA - ref. REF-9"
    assert message["X-Teledespacho-Status"] == "accepted"
    assert message["X-Teledespacho-Reference"] == "REF-9"
    assert message["X-Teledespacho-Number"] == "118-2026-10-000007"
    assert message["X-Teledespacho-Channel"] == "naranja"
    assert message["In-Reply-To"] == "<envio-7@agencias.pe>"
    assert message["References"] == "<envio-1@agencias.pe> <envio-7@agencias.pe>"
    assert message["Date"].datetime == ANSWERED
    assert message["Message-ID"].endswith("@aduanas.gob.pe>")
    text = body_text(message)
    assert "118-2026-10-000007" in text and "revisión documentaria" in text
    ((name, data),) = attachments(message)
    assert name == "respuesta-118-2026-10-000007.txt"
    response = parse_response(data, WireFormat.FLAT)
    assert (response.status, response.number, response.channel) == (
        "accepted",
        "118-2026-10-000007",
        Channel.NARANJA,
    )
    assert response.received_at == RECEIVED


def test_a_submission_without_message_id_gets_an_unthreaded_reply(offices: OfficeRegistry):
    outcome = read(offices, flat(declaration(breaks="STR-SERIES")))
    message = parse(replies.rejection(envelope(SubmissionHeaders()), outcome))
    assert message["In-Reply-To"] is None and message["References"] is None
    assert message["Subject"].startswith("RECHAZADA DUA ref.")


def test_a_rejection_lists_box_message_and_citation_in_80_columns(offices: OfficeRegistry):
    outcome = read(offices, flat(declaration(breaks="MOD-04-PLACE")))
    message = parse(replies.rejection(envelope(), outcome))
    text = body_text(message)
    for finding in outcome.findings:
        label = box_label(finding.field, "DUA")
        assert label is not None, finding.field  # every box a rule names has its words
        assert f"{finding.rule_id} — {label}" in text
        assert f"{finding.field}" not in text  # the model's path stays in the attachment
        assert "Base legal: " + finding.citation.split()[0] in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_an_unreadable_edifact_declaration_is_answered_with_a_cusres(offices: OfficeRegistry):
    document = ExtractedDocument(b"UNA:+.? 'UNB+UNOA:2+X+Y'", "cuerpo", WireFormat.EDIFACT)
    error = DeclarationSyntaxError("EDI-ENVELOPE", "falta UNH", "segmento 2 del intercambio")
    message = parse(replies.unreadable(envelope(), UnreadableDeclaration(document, error)))
    assert message["X-Teledespacho-Reference"] == ""
    (name, data), (report_name, report) = attachments(message)
    assert name.endswith(".edi")
    assert parse_response(data).findings[0].rule_id == "EDI-ENVELOPE"
    assert report_name == "contrl.edi" and b"UNH+1+CONTRL:2:2:UN'" in report
    assert b"UCI++X+Y+4+13'" in report  # no reference could be read; missing (13)


@pytest.mark.parametrize(
    ("note", "charset"), [("adjunto foto.jpg", "iso-8859-1"), ("adjunto €uro.txt", "utf-8")]
)
def test_the_body_is_latin_1_when_it_can_be(note: str, charset: str):
    message = parse(replies.nothing_readable(envelope(), [note]))
    body = message.get_body(("plain",))
    assert body is not None and body.get_content_charset() == charset
    assert note in body_text(message)


def test_what_the_office_expects_names_every_format_it_reads_and_no_command_of_ours():
    """A broker told that a mail held nothing readable learns the three formats the office
    reads, EDIFACT among them, in the customs' words; not a command of this software."""
    document = ExtractedDocument(b"UNA:+.? 'UNB+UNOA:2+X+Y'", "cuerpo", WireFormat.EDIFACT)
    error = DeclarationSyntaxError("EDI-ENVELOPE", "falta UNH", "segmento 2 del intercambio")
    unreadable = replies.unreadable(envelope(), UnreadableDeclaration(document, error))
    for raw in (replies.nothing_readable(envelope(), []), unreadable):
        text = " ".join(body_text(parse(raw)).split())
        assert "archivo plano de Teledespacho" in text and '"document_type": "DUA"' in text
        assert "UN/EDIFACT: un intercambio CUSDEC" in text
        assert "teledispatch" not in text.lower()


def test_the_failure_reply_says_nothing_was_numbered():
    message = parse(replies.failure(envelope(), attempts=3))
    assert message["X-Teledespacho-Status"] == "rejected"
    assert message["X-Teledespacho-Error"] == "internal"
    assert "después de 3 intentos" in body_text(message)
    assert "Ninguna declaración de este mensaje fue numerada" in " ".join(
        body_text(message).split()
    )


def test_the_acceptance_gives_the_channel_as_assigned_pending_payment(offices: OfficeRegistry):
    """Seed 004 VI.17: "El canal de control asignado por el SIGAD a que se sujetan las
    mercancías se muestra: a) En el despacho anticipado, cuando: - La deuda tributaria
    aduanera ... hayan sido cancelados, garantizados o impugnados; y - La declaración contenga
    la información del manifiesto". The gateway sees no payment, so it says the channel is
    assigned, pending payment (and the manifest, in the anticipado)."""
    outcome = read(offices, flat(declaration(reference="REF-10")))
    raw = replies.acceptance(
        envelope(), outcome, number="118-2026-10-000008", channel=Channel.VERDE
    )
    text = " ".join(body_text(parse(raw)).split())
    assert "Canal asignado: VERDE" in text
    assert "canal asignado, pendiente de pago" in text
    assert "cancelados, garantizados o impugnados" in text and "manifiesto de carga" in text
