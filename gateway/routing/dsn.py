"""Delivery status notifications (RFC 3464): what a sender gets when relay gives up.

A ``multipart/report; report-type=delivery-status`` with a Spanish explanation, the
machine-readable status and the original message's headers, written with ``gateway.mail``.
Sent with the null reverse path, so a notification that cannot be delivered never causes
another.
"""

from __future__ import annotations

import email.utils
import uuid
from dataclasses import dataclass
from datetime import datetime

from gateway.mail import address_field, field, ids_field, literal_part, message, multipart
from gateway.mail.mime import text_part

__all__ = ["FailedDelivery", "delivery_status_notification"]


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    recipient: str
    status: str
    """RFC 3463 code: ``5.x.x`` permanent, ``4.4.7`` given up after retrying."""
    diagnostic: str
    """The peer's reply or the connection error, as seen."""


def _original_headers(original: bytes) -> bytes:
    end = original.find(b"\r\n\r\n")
    if end < 0:
        end = original.find(b"\n\n")
    head = original if end < 0 else original[:end]
    return head.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:900]


def delivery_status_notification(
    *,
    reporting_host: str,
    postmaster: str,
    sender: str,
    failures: list[FailedDelivery],
    original: bytes,
    arrival: datetime,
    now: datetime,
) -> bytes:
    """The notification for ``sender`` about ``failures`` of ``original``."""
    listed = "\n".join(f"  {f.recipient}: {_one_line(f.diagnostic)}" for f in failures)
    human = (
        "No se pudo entregar su mensaje a los siguientes destinatarios:\n\n"
        f"{listed}\n\n"
        "Se adjuntan las cabeceras del mensaje original.\n"
    )
    per_recipient = "\r\n".join(
        f"Final-Recipient: rfc822; {f.recipient}\r\n"
        "Action: failed\r\n"
        f"Status: {f.status}\r\n"
        f"Diagnostic-Code: smtp; {_one_line(f.diagnostic)}\r\n"
        for f in failures
    )
    status = (
        f"Reporting-MTA: dns; {reporting_host}\r\n"
        f"Arrival-Date: {email.utils.format_datetime(arrival)}\r\n"
        "\r\n"
        f"{per_recipient}"
    )
    report = multipart(
        "report",
        [
            text_part(human, "utf-8"),
            literal_part("message/delivery-status", status.encode("utf-8"), encoding="8bit"),
            literal_part("text/rfc822-headers", _original_headers(original), encoding="8bit"),
        ],
        {"report-type": "delivery-status"},
    )
    fields = [
        address_field("From", postmaster, "Sistema de correo"),
        address_field("To", sender),
        field("Subject", "Mensaje no entregado (Delivery Status Notification)"),
        field("Date", email.utils.format_datetime(now)),
        ids_field("Message-ID", f"<{uuid.uuid4().hex}@{reporting_host}>"),
        field("Auto-Submitted", "auto-replied"),
    ]
    return message(fields, report)
