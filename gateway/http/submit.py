"""A declaration posted to the API becomes a mail from the agent to the office's intake.

It then goes the way a mailed one goes: the directory resolves the intake address, the store
commits the message and its intake job in one transaction (``Store.deliver``, as the SMTP
handler does before its 250), and the pipeline answers by mail.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import format_datetime, make_msgid
from typing import Final

from edi_formats.codec import DeclarationIdentity, identify
from edi_formats.detect import WireFormat
from gateway.directory import intake_address
from gateway.http.context import HttpContext
from gateway.http.problems import Problem
from gateway.lane import in_lane
from gateway.mail import address_field, attachment, field, ids_field, message, multipart, text_part
from gateway.smtp.trace import SubmissionFacts, prepare_submission
from mailboxes.records import Account
from mailboxes.schema import Role
from mailboxes.store import StorageFull

__all__ = ["RecentSubmissions", "Submitted", "compose", "submit"]

log = logging.getLogger(__name__)

_ATTACHMENT = {
    WireFormat.JSON: ("application", "json", "declaracion.json"),
    WireFormat.EDIFACT: ("application", "EDIFACT", "declaracion.edi"),
    # Bytes as they came, whatever their code page: the pipeline reads the flat file's own
    # encoding (a text/plain label would make a charset claim we cannot check).
    WireFormat.FLAT: ("application", "octet-stream", "declaracion.txt"),
}


@dataclass(frozen=True, slots=True)
class Submitted:
    job_id: int
    office: str
    reference: str | None
    message_id: str


class RecentSubmissions:
    """(agent, reference) -> job id of what the API took and the pipeline has not answered.

    So that a declaration re-sent under a reference already answered reads as pending until
    its new answer, not as the old one. Bounded: the oldest entries go first; an entry is
    dropped once its job is done.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._jobs: OrderedDict[tuple[str, str], int] = OrderedDict()

    def add(self, agent: str, reference: str, job_id: int) -> None:
        self._jobs[agent, reference] = job_id
        self._jobs.move_to_end((agent, reference))
        while len(self._jobs) > self._limit:
            self._jobs.popitem(last=False)

    def get(self, agent: str, reference: str) -> int | None:
        return self._jobs.get((agent, reference))

    def done(self, agent: str, reference: str) -> None:
        self._jobs.pop((agent, reference), None)

    def clear(self) -> None:
        self._jobs.clear()


def compose(
    account: Account, to: str, body: bytes, fmt: WireFormat, reference: str | None, when: str
) -> tuple[bytes, str]:
    """The mail an agent's client would send, with the declaration attached (in base64:
    its bytes reach the pipeline exactly as posted), written as bytes (``gateway.mail``)."""
    message_id = make_msgid(domain=account.address.rpartition("@")[2] or None)
    maintype, subtype, filename = _ATTACHMENT[fmt]
    content = multipart(
        "mixed",
        [
            text_part("Declaración enviada por la interfaz de integración.\n"),
            attachment(body, f"{maintype}/{subtype}", filename),
        ],
    )
    fields = [
        address_field("From", account.address),
        address_field("To", to),
        field("Subject", f"Declaración {reference or ''}".strip()),
        field("Date", when),
        ids_field("Message-ID", message_id),
    ]
    return message(fields, content), message_id


_IN_THREAD: Final = 64 * 1024
"""A body up to this size is identified in a thread of the node; a larger one by the analysis
processes (``HttpContext.identify``): json's parser holds the GIL for a whole document, and a
20 MB one held every session of the node for seconds."""


async def _identify(context: HttpContext, body: bytes) -> tuple[WireFormat, DeclarationIdentity]:
    """The body's format and the declaration's office and reference; 415 if none."""
    if context.identify is None or len(body) <= _IN_THREAD:
        fmt, identity = await in_lane(identify, body)
    else:
        fmt, identity = await context.identify(body)
    if fmt is None:
        raise Problem(
            415,
            "el cuerpo no es una declaración reconocible (JSON, archivo plano o CUSDEC)",
            field="body",
        )
    return fmt, identity


def _mail(
    account: Account,
    to: str,
    body: bytes,
    fmt: WireFormat,
    reference: str | None,
    facts: SubmissionFacts,
) -> tuple[bytes, str]:
    """The mail as the node stores a submission: composed, then traced (``Received:``)."""
    raw, message_id = compose(account, to, body, fmt, reference, format_datetime(facts.when))
    return prepare_submission(raw, facts), message_id


async def submit(
    context: HttpContext,
    account: Account,
    body: bytes,
    office: str | None,
    *,
    client: str | None = None,
    protocol: str = "HTTP",
) -> Submitted:
    """Take ``body`` from ``account`` as a mail to the office's intake; ``client`` (its IP
    address) and ``protocol`` go into the trace field a mailed submission gets."""
    if account.role is not Role.AGENT:
        raise Problem(403, "solo un agente de aduana presenta declaraciones")
    if not body.strip():
        raise Problem(400, "el cuerpo está vacío: envíe una declaración", field="body")
    # Reading the body and composing the mail are proportional to it: off the event loop.
    fmt, identity = await _identify(context, body)
    code = office or identity.office
    if code is None:
        raise Problem(
            422, "indique la aduana: parámetro office o casilla de aduana", field="office"
        )
    to = intake_address(code, context.domain)
    recipient = context.directory.intake_office(to) and await context.directory.resolve(to)
    if not recipient:
        raise Problem(422, f"la aduana {code} no recibe declaraciones en este nodo", field="office")
    scope = await context.scopes.office_scope(account.address)
    if scope and code not in scope:
        raise Problem(403, f"su buzón no está habilitado para la aduana {code}", field="office")
    now = context.clock.now()
    facts = SubmissionFacts(
        user=account.address,
        helo=None,
        client_ip=client,
        node_host=context.hostname,
        recipients=(to,),
        queue_id=secrets.token_hex(6).upper(),
        when=now,
        protocol=protocol,
    )
    raw, message_id = await in_lane(_mail, account, to, body, fmt, identity.agent_reference, facts)
    allowance = context.allowance
    if allowance is not None and not allowance.take(account.address, len(raw)):
        log.info("API submission by %s refused: over its daily allowance", account.address)
        if allowance.never_fits(len(raw)):
            raise Problem(
                413, "la declaración excede lo que la aduana recibe de un remitente en un día"
            )
        raise Problem(
            429,
            "con esta declaración excedería lo que la aduana recibe de un remitente en un "
            "día: vuelva a intentarlo más tarde",
            headers={"Retry-After": str(math.ceil(allowance.resets_in(account.address)))},
        )
    try:
        job_ids = await context.store.deliver(account.address, [recipient], raw)
    except Exception as exc:  # not when cancelled: the mail may be stored all the same
        if allowance is not None:  # not stored: not counted (``gateway.allowance``)
            allowance.give_back(account.address, len(raw))
        if not isinstance(exc, StorageFull):
            raise
        # As SMTP's 452: the operator's to fix, told once.
        log.info("API submission by %s refused (507): the store is full", account.address)
        context.store_full.refused(log, asyncio.get_running_loop().time(), str(exc))
        raise Problem(
            507,
            "el almacén del nodo está lleno: no se guardó nada, vuelva a intentarlo",
            headers={"Retry-After": "60"},
        ) from None
    context.store_full.taken(log)
    if len(job_ids) != 1:
        raise Problem(409, "la declaración no generó un trabajo de recepción")
    return Submitted(job_ids[0], code, identity.agent_reference, message_id)
