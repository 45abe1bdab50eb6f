"""The DSN and the numbering handover, written with gateway.mail: valid MIME, read back."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from gateway.routing import handover
from gateway.routing.dsn import FailedDelivery, delivery_status_notification
from mailboxes.handover import CounterValue
from tests.gateway.mail.checks import crlf_only, without_defects

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def parse(raw: bytes) -> EmailMessage:
    crlf_only(raw)
    return without_defects(raw)


def test_a_dsn_is_a_delivery_status_report_with_the_original_headers() -> None:
    original = (
        b"From: agente1@agencias.pe\r\nSubject: =?utf-8?q?Declaraci=C3=B3n?=\r\n"
        b"Message-ID: <m1@agencias.pe>\r\n\r\ncuerpo\r\n"
    )
    raw = delivery_status_notification(
        reporting_host="hq.aduanas.gob.pe",
        postmaster="postmaster@aduanas.gob.pe",
        sender="agente1@agencias.pe",
        failures=[
            FailedDelivery("aduana-172@aduanas.gob.pe", "4.4.7", "conexión rechazada\r\n 421"),
            FailedDelivery("aduana-235@aduanas.gob.pe", "5.0.0", "550 no such user"),
        ],
        original=original,
        arrival=NOW,
        now=NOW,
    )
    message = parse(raw)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["From"].addresses[0].display_name == "Sistema de correo"
    human, status, headers = message.iter_parts()
    assert "aduana-172@aduanas.gob.pe: conexión rechazada 421" in human.get_content()
    assert status.get_content_type() == "message/delivery-status"
    text = raw.decode("utf-8")
    assert "Final-Recipient: rfc822; aduana-235@aduanas.gob.pe\r\nAction: failed" in text
    assert "Status: 4.4.7" in text and "Diagnostic-Code: smtp; 550 no such user" in text
    assert headers.get_content_type() == "text/rfc822-headers"
    assert b"Message-ID: <m1@agencias.pe>\r\n" in raw


def test_a_handover_reads_back_what_was_written() -> None:
    sent = handover.Handover(
        office="172",
        serial=3,
        from_node="hq",
        to_node="tacna",
        counters=[CounterValue(2026, "10", 41), CounterValue(2026, "40", 7)] * 60,
    )
    raw = handover.render(sent, domain="aduanas.gob.pe", now=NOW)
    message = parse(raw)
    assert message.get_content_type() == "application/json"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert handover.parse(raw) == sent
