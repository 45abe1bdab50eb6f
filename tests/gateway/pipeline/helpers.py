"""Building submissions and reading replies, for the pipeline tests."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from datetime import date
from email.message import EmailMessage
from typing import Literal

from edi_formats.codec import WireFormat, render_declaration
from edi_formats.models import DUA, OE
from gateway.directory import INTAKE_FOLDER
from mailboxes.records import Recipient
from mailboxes.store import Store
from validators.samples import break_rule, sample_declaration

DOMAIN = "aduanas.gob.pe"
AGENT = "agente1@agencias.pe"
AGENT_CODE = "4821"
OTHER_AGENT = "agente2@agencias.pe"
OTHER_CODE = "5307"
OFFICE = "aduana-118@aduanas.gob.pe"
OFFICE_CODE = "118"
AS_OF = date(2026, 11, 2)  # the Lima date of the shared clock fixture


def declaration(
    kind: Literal["dua", "oe"] = "dua",
    *,
    reference: str | None = None,
    breaks: str | None = None,
    agent_code: str = AGENT_CODE,
    series: int = 2,
) -> DUA | OE:
    made = sample_declaration(
        kind, as_of=AS_OF, agent_code=agent_code, reference=reference, series_count=series
    )
    return break_rule(made, breaks) if breaks else made


def submission(
    *documents: bytes,
    sender: str = AGENT,
    to: str = OFFICE,
    subject: str = "Declaraciones",
    message_id: str | None = "<envio-1@agencias.pe>",
    body: str = "Adjunto la declaración.\n",
    filenames: Sequence[str] | None = None,
) -> bytes:
    """An agent's mail with ``documents`` attached (any name, octet-stream as in 1997)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id is not None:
        message["Message-ID"] = message_id
    message.set_content(body)
    for index, data in enumerate(documents, start=1):
        name = filenames[index - 1] if filenames else f"DECL{index}.TXT"
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes(policy=email.policy.SMTP)


def flat(decl: DUA | OE) -> bytes:
    return render_declaration(decl, WireFormat.FLAT)


def as_json(decl: DUA | OE) -> bytes:
    return render_declaration(decl, WireFormat.JSON)


async def submit(store: Store, raw: bytes, *, sender: str = AGENT, office: str = "118") -> int:
    """Deliver ``raw`` to the office's intake as the SMTP handler does; the job id."""
    (job_id,) = await store.deliver(
        sender,
        [Recipient(f"aduana-{office}@{DOMAIN}", INTAKE_FOLDER, intake_office=office)],
        raw,
    )
    return job_id


async def mailbox(store: Store, owner: str, folder: str = "INBOX") -> list[EmailMessage]:
    """The messages of a mailbox, parsed, in UID order."""
    messages = []
    for info in await store.list_messages(owner, folder):
        raw = await store.read_message(owner, folder, info.uid)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


async def raw_mailbox(store: Store, owner: str, folder: str = "INBOX") -> list[bytes]:
    return [
        await store.read_message(owner, folder, info.uid)
        for info in await store.list_messages(owner, folder)
    ]


def body_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    text = part.get_content()
    assert isinstance(text, str)
    return text


def attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    found = []
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        found.append((part.get_filename() or "", data))
    return found
