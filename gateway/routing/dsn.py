"""Delivery status notifications (RFC 3464): what a sender gets when relay gives up.

A ``multipart/report; report-type=delivery-status`` with a Spanish explanation, the
machine-readable status and the original message's headers. Sent with the null reverse
path, so a notification that cannot be delivered never causes another.
"""

from __future__ import annotations

import email.utils
import uuid
from dataclasses import dataclass
from datetime import datetime

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
    boundary = f"=_dsn_{uuid.uuid4().hex}"
    listed = "\r\n".join(f"  {f.recipient}: {_one_line(f.diagnostic)}" for f in failures)
    human = (
        "No se pudo entregar su mensaje a los siguientes destinatarios:\r\n\r\n"
        f"{listed}\r\n\r\n"
        "Se adjuntan las cabeceras del mensaje original.\r\n"
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
    head = (
        f"From: Sistema de correo <{postmaster}>\r\n"
        f"To: <{sender}>\r\n"
        "Subject: Mensaje no entregado (Delivery Status Notification)\r\n"
        f"Date: {email.utils.format_datetime(now)}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@{reporting_host}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        f'\tboundary="{boundary}"\r\n'
        "\r\n"
    )
    parts = (
        f"--{boundary}\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"{human}\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        f"{status}\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
    ).encode()
    return head.encode() + parts + _original_headers(original) + f"\r\n--{boundary}--\r\n".encode()
