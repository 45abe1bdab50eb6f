"""A declaration's state as the API reports it, read from the ledger and the reply mail.

The findings are not kept in a table of their own: the reply mail carries them, in the
machine-readable response attached to it, so that attachment is what is read back (in the
lane, ``gateway.lane``: it is proportional to the message).
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from email.message import EmailMessage
from typing import Literal

from pydantic import BaseModel

from edi_formats.codec import parse_response
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.responses import DeclarationResponse, ResponseFinding
from gateway.lane import in_lane
from mailboxes.ledger import DeclarationEntry, JobEntry, Ledger

__all__ = ["DeclarationState", "JobState", "declaration_state", "response_in_reply"]

MAX_PARTS = 64


class DeclarationState(BaseModel):
    """The state of one declaration; ``findings`` as the reply gives them, with citations."""

    reference: str
    status: Literal["pending", "accepted", "rejected"]
    number: str | None = None
    channel: str | None = None
    office: str | None = None
    document_type: str | None = None
    agent_code: str | None = None
    job: int | None = None
    received_at: datetime | None = None
    answered_at: datetime | None = None
    findings: list[ResponseFinding] = []


class JobState(BaseModel):
    """An intake job (one submitted mail) and the declarations answered from it."""

    job: int
    status: Literal["pending", "done", "failed"]
    office: str
    received_at: datetime
    finished_at: datetime | None = None
    declarations: list[DeclarationState] = []


def response_in_reply(raw: bytes, reference: str) -> DeclarationResponse | None:
    """The response attached to a reply mail for ``reference`` (the first if none names it)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    found: list[DeclarationResponse] = []
    for count, part in enumerate(message.iter_attachments()):
        if count >= MAX_PARTS:
            break
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            found.append(parse_response(payload))
        except (DeclarationSyntaxError, ValueError):
            continue
    for response in found:
        if response.agent_reference == reference:
            return response
    return found[0] if found else None


async def declaration_state(ledger: Ledger, entry: DeclarationEntry) -> DeclarationState:
    raw = await ledger.reply(entry.id)
    response = await in_lane(response_in_reply, raw, entry.agent_reference)
    return DeclarationState(
        reference=entry.agent_reference,
        status="accepted" if entry.status == "accepted" else "rejected",
        number=entry.number,
        channel=entry.channel,
        office=entry.office_code,
        document_type=entry.document_type,
        agent_code=entry.agent_code,
        job=entry.job_id,
        received_at=entry.received_at,
        answered_at=entry.answered_at,
        findings=list(response.findings) if response is not None else [],
    )


def pending_state(reference: str, job: JobEntry | None) -> DeclarationState:
    return DeclarationState(
        reference=reference,
        status="pending",
        office=job.office_code if job else None,
        job=job.id if job else None,
        received_at=job.received_at if job else None,
    )
