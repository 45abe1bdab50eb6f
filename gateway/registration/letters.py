"""The letters of the registration desk: acknowledgement, what is missing, approval with the
credentials, rejection with its reason. Pure: facts in, message bytes out.

Acknowledgements answer a mail (``Auto-Submitted: auto-replied``, RFC 3834 §5); decisions
come from an office's act (``auto-generated``). Either way no mail system should answer
them, and they go out with the null reverse path. Written with ``gateway.mail``, like the
declarations' replies.
"""

from __future__ import annotations

import re
import secrets
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Final

from gateway.directory import intake_address
from gateway.mail import address_field, field, ids_field, message, text_part
from mailboxes.registrations import MailboxRequest
from validators.engine import PERU_TIME

__all__ = ["Origin", "acknowledgement", "approval", "incomplete", "rejection"]

WIDTH: Final = 76
_MSG_ID: Final = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")
_SIGNATURE: Final = (
    "--\nMensaje generado por el servidor de Teledespacho de la aduana (registro de buzones)."
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Who writes (the registration address of ``domain``), when, and about which mail."""

    registration_address: str
    domain: str
    date: datetime
    in_reply_to: str | None = None


def _fill(text: str, indent: str = "") -> str:
    return textwrap.fill(
        " ".join(text.split()),
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _message(
    origin: Origin, *, to: str, subject: str, status: str, kind: str, number: int | None
) -> list[bytes]:
    fields = [
        address_field("From", origin.registration_address, "Teledespacho - Registro de buzones"),
        address_field("To", to),
        field("Subject", subject),
        field("Date", format_datetime(origin.date.astimezone(PERU_TIME))),
        ids_field("Message-ID", f"<td.buzon.{secrets.token_hex(10)}@{origin.domain}>"),
    ]
    if origin.in_reply_to and _MSG_ID.fullmatch(origin.in_reply_to):  # threads only to an id
        fields.append(ids_field("In-Reply-To", origin.in_reply_to))
        fields.append(ids_field("References", origin.in_reply_to))
    fields.append(field("Auto-Submitted", kind))
    fields.append(field("X-Teledespacho-Request-Status", status))
    if number is not None:
        fields.append(field("X-Teledespacho-Request", str(number)))
    return fields


def _body(fields: list[bytes], lines: Iterable[str]) -> bytes:
    """The letter: ISO-8859-1 when it can be (what the era's clients display best)."""
    return message(fields, text_part("\n".join([*lines, "", _SIGNATURE]) + "\n"))


def _summary(request: MailboxRequest) -> list[str]:
    return [
        f"  Buzón solicitado:   {request.mailbox}",
        f"  Código de agente:   {request.agent_code}",
        f"  Agencia:            {request.agency}",
        f"  RUC:                {request.ruc}",
        f"  Contacto:           {request.contact}",
        f"  Aduanas:            {', '.join(request.offices)}",
    ]


def acknowledgement(origin: Origin, request: MailboxRequest) -> bytes:
    fields = _message(
        origin,
        to=request.requester,
        subject=f"Solicitud de buzón N° {request.number} recibida",
        status="pending",
        kind="auto-replied",
        number=request.number,
    )
    return _body(
        fields,
        [
            f"Su solicitud de buzón de Teledespacho quedó registrada con el número "
            f"{request.number}.",
            "",
            *_summary(request),
            "",
            _fill(
                "La aduana la revisará y le responderá a esta dirección: si la aprueba, con la "
                "clave de su buzón; si no, con el motivo. Cite el número de solicitud en "
                "cualquier consulta."
            ),
        ],
    )


def incomplete(origin: Origin, *, to: str, problems: Sequence[str]) -> bytes:
    fields = _message(
        origin,
        to=to,
        subject="Solicitud de buzón incompleta: no fue registrada",
        status="incomplete",
        kind="auto-replied",
        number=None,
    )
    lines = [
        _fill("Su mensaje no pudo registrarse como solicitud de buzón de Teledespacho:"),
        "",
    ]
    for index, problem in enumerate(problems, start=1):
        numbered = f"{index:2d}. {' '.join(problem.split())}"
        lines.append(
            textwrap.fill(numbered, WIDTH, subsequent_indent="    ", break_long_words=False)
        )
    lines += [
        "",
        _fill(
            "Envíe de nuevo la solicitud con estas líneas (en el texto del mensaje o en un "
            "archivo adjunto; también en JSON con las mismas claves):"
        ),
        "",
        "  agente: <su código de agente de aduana>",
        "  agencia: <nombre de la agencia>",
        "  ruc: <RUC de la agencia, 11 dígitos>",
        "  contacto: <persona y teléfono>",
        "  aduanas: <códigos o nombres de las aduanas, separados por comas>",
        "  buzon: <dirección del buzón; si falta, la del remitente>",
    ]
    return _body(fields, lines)


def approval(
    origin: Origin, request: MailboxRequest, *, password: str, server: str | None = None
) -> bytes:
    fields = _message(
        origin,
        to=request.requester,
        subject=f"Solicitud de buzón N° {request.number} aprobada",
        status="approved",
        kind="auto-generated",
        number=request.number,
    )
    intakes = [f"  {code}: {intake_address(code, origin.domain)}" for code in request.offices]
    return _body(
        fields,
        [
            _fill(
                f"La aduana aprobó su solicitud N° {request.number}. Su buzón de Teledespacho "
                "ya está habilitado:"
            ),
            "",
            f"  Buzón (usuario):    {request.mailbox}",
            f"  Clave inicial:      {password}",
            f"  Código de agente:   {request.agent_code}",
            *([f"  Servidor:           {server}"] if server else []),
            "",
            "Transmita sus declaraciones a la dirección de cada aduana:",
            *intakes,
            "",
            _fill(
                "Su programa de correo debe identificarse (SMTP AUTH) con el buzón y la clave "
                "para enviar, y leer las respuestas por POP3 o IMAP con los mismos datos. "
                "Guarde la clave en reserva: quien la conozca puede transmitir en su nombre."
            ),
        ],
    )


def rejection(origin: Origin, request: MailboxRequest, *, reason: str) -> bytes:
    fields = _message(
        origin,
        to=request.requester,
        subject=f"Solicitud de buzón N° {request.number} rechazada",
        status="rejected",
        kind="auto-generated",
        number=request.number,
    )
    return _body(
        fields,
        [
            _fill(f"La aduana rechazó su solicitud de buzón N° {request.number}."),
            "",
            _fill(f"Motivo: {reason}"),
            "",
            *_summary(request),
            "",
            _fill("Puede enviar una nueva solicitud con los datos corregidos."),
        ],
    )
