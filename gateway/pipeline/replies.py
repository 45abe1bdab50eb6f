"""The mails the office sends back: to the agent (one per declaration) and to its own INBOX.

Every reply to an agent carries the machine-readable headers DESIGN.md fixes
(``X-Teledespacho-Status``, ``-Reference``, and on acceptance ``-Number`` and ``-Channel``),
a Subject starting with ``ACEPTADA`` or ``RECHAZADA``, threading to the submission
(``In-Reply-To``, ``References``), a Spanish body a broker reads on an 80-column screen, and
the ``DeclarationResponse`` attached in the format the declaration came in (a CUSDEC gets a
CUSRES, ``application/EDIFACT``). ``X-Teledespacho-Reference`` is empty when the
declaration could not be read far enough to know its reference.

Built with the stdlib ``email`` package and serialised with ``policy.SMTP`` (CRLF).
"""

from __future__ import annotations

import re
import secrets
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Final

from edi_formats.codec import render_response, render_syntax_report
from edi_formats.codes import ModalityCode
from edi_formats.detect import WireFormat
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA, OE
from edi_formats.responses import Channel, DeclarationResponse, ResponseFinding, ResponseStatus
from gateway.pipeline.process import ReadDeclaration, SubmissionHeaders, UnreadableDeclaration
from validators.boxes import DocumentType, box_label
from validators.engine import PERU_TIME
from validators.findings import Finding, Severity

__all__ = [
    "CHANNEL_MEANING",
    "ReplyEnvelope",
    "acceptance",
    "failure",
    "nothing_readable",
    "office_copy",
    "rejection",
    "response_for",
    "unreadable",
]

WIDTH: Final = 76
_FOLD_AT: Final = 78
NO_REPLY_LOCAL_PART: Final = "no-responder"
"""The sender of office copies: an address the node does not host, so a reply bounces."""
_WIRE: Final = SMTP.clone(refold_source="none")
"""How replies are written: headers set raw (short ones, identifiers) are kept as they are."""
_PLAIN_HEADER: Final = re.compile(r"^[\x20-\x7e]*$")

CHANNEL_MEANING: Final[dict[Channel, str]] = {
    Channel.VERDE: "sin revisión documentaria ni reconocimiento físico",
    Channel.NARANJA: (
        "revisión documentaria: presente la declaración y sus documentos sustentatorios en la "
        "ventanilla del área que administra el régimen"
    ),
    Channel.ROJO: (
        "reconocimiento físico de las mercancías: solicítelo presentando los documentos "
        "sustentatorios"
    ),
}
"""What each channel means for the broker (seed 004 VI.16, 21)."""

_EXPECTED: Final = """\
Lo que la aduana espera: una o más declaraciones (DUA de importación o Orden de
Embarque de exportación), cada una en uno de estos formatos:
  - archivo plano de Teledespacho, que empieza con la línea TDH|TELEDESPACHO|
  - JSON: un objeto con "document_type": "DUA" u "OE"
como archivo adjunto (con cualquier nombre), pegada en el texto del mensaje o en un
bloque uuencode. Puede enviar varias en un mismo mensaje: recibirá una respuesta por
cada una. Un ejemplo válido se obtiene con: teledispatch sample dua"""

_SIGNATURE: Final = (
    "--\nMensaje generado automáticamente por el servidor de Teledespacho de la aduana.\n"
    "No responda a este mensaje; para transmitir, envíe un mensaje nuevo."
)


@dataclass(frozen=True, slots=True)
class ReplyEnvelope:
    """Who answers whom, about which submission, and when."""

    office_address: str
    agent_address: str
    office_code: str
    office_name: str | None
    domain: str
    date: datetime
    received_at: datetime
    submission: SubmissionHeaders

    @property
    def office_label(self) -> str:
        if self.office_name:
            return f"Aduana {self.office_code} - {self.office_name}"
        return f"Aduana {self.office_code}"


# -- pieces -----------------------------------------------------------------------------------


def _lima(instant: datetime) -> str:
    return instant.astimezone(PERU_TIME).strftime("%d/%m/%Y %H:%M") + " (hora de Lima)"


def _shorten(text: str) -> str:
    return textwrap.shorten(text, 200, placeholder=" ...")


def _kind(declaration: DUA | OE | None) -> str:
    if declaration is None:
        return "declaración"
    return "DUA" if isinstance(declaration, DUA) else "O/E"


def _fill(text: str, indent: str) -> str:
    return textwrap.fill(
        " ".join(text.split()),
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _hanging(text: str, indent: int = 25) -> str:
    """A labelled line whose continuation lines align under the value."""
    return textwrap.fill(
        text,
        WIDTH,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _findings_text(
    title: str, findings: Sequence[Finding | ResponseFinding], document_type: DocumentType
) -> list[str]:
    """Each finding under the form's name for its box; the model's path stays out of it."""
    if not findings:
        return []
    lines = [f"{title} ({len(findings)}):", ""]
    for index, finding in enumerate(findings, start=1):
        label = box_label(finding.field, document_type)
        box = f" — {label}" if label else ""
        lines.append(f"{index:3d}. {finding.rule_id}{box}")
        lines.append(_fill(finding.message, "     "))
        if finding.citation:
            lines.append(_fill(f"Base legal: {finding.citation}", "     "))
        lines.append("")
    return lines


def _split(findings: Iterable[Finding]) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """Errors, warnings and notes (``info``: the dispatch fee applies, nothing to pay...)."""
    errors: list[Finding] = []
    warnings: list[Finding] = []
    notes: list[Finding] = []
    for finding in findings:
        if finding.severity is Severity.ERROR:
            errors.append(finding)
        elif finding.severity is Severity.INFO:
            notes.append(finding)
        else:
            warnings.append(finding)
    return errors, warnings, notes


_NOTES_TITLE: Final = "Información sobre su declaración"


def _response_finding(finding: Finding) -> ResponseFinding:
    """The response's finding; a note travels as a warning, the response's mildest kind."""
    if finding.severity is Severity.INFO:
        finding = replace(finding, severity=Severity.WARNING)
    return ResponseFinding.from_finding(finding)


def _message(
    envelope: ReplyEnvelope, *, subject: str, status: ResponseStatus, reference: str
) -> EmailMessage:
    message = EmailMessage()
    _origin(message, envelope, to=envelope.agent_address, subject=subject)
    original = envelope.submission.message_id
    if original is not None:
        _put_ids(message, "In-Reply-To", original)
        earlier = envelope.submission.references
        _put_ids(message, "References", f"{earlier} {original}" if earlier else original)
    _put(message, "X-Teledespacho-Status", status.value)
    _put(message, "X-Teledespacho-Reference", reference)
    return message


def _put_ids(message: EmailMessage, name: str, ids: str) -> None:
    """Message identifiers exactly as sent, folded only between identifiers.

    The email package would encode an identifier longer than a line (Exchange writes
    78-character ones) as an encoded word, and clients then cannot thread the reply. Raw
    headers are written unfolded by ``_WIRE``; RFC 5322 allows lines up to 998 octets.
    """
    message.set_raw(name, "\r\n ".join(ids.split()))


def _put(message: EmailMessage, name: str, value: str) -> None:
    """Set a header; a short printable-ASCII value is stored exactly as written.

    The email package parses and refolds every header it is given, which is most of the cost
    of composing a reply; a value that needs neither encoding nor folding skips that.
    """
    if _PLAIN_HEADER.match(value) and len(name) + len(value) + 2 <= _FOLD_AT:
        message.set_raw(name, value)
    else:
        message[name] = value


def _origin(
    message: EmailMessage,
    envelope: ReplyEnvelope,
    *,
    to: str,
    subject: str,
    sender: str | None = None,
) -> None:
    """From (the office's intake unless ``sender``), To, Subject, Date, Message-ID."""
    address = sender or envelope.office_address
    _put(message, "From", f"Teledespacho Aduana {envelope.office_code} <{address}>")
    _put(message, "To", to)
    _put(message, "Subject", subject)
    _put(message, "Date", format_datetime(envelope.date.astimezone(PERU_TIME)))
    _put(message, "Message-ID", f"<td.{secrets.token_hex(10)}@{envelope.domain}>")
    _put(message, "Auto-Submitted", "auto-replied")  # RFC 3834: no auto-responder answers it


def _body(message: EmailMessage, lines: Iterable[str]) -> None:
    text = "\n".join([*lines, "", _SIGNATURE]) + "\n"
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        message.set_content(text, charset="utf-8", cte="quoted-printable")
    else:  # what the era's clients display best
        message.set_content(text, charset="iso-8859-1", cte="quoted-printable")


def _answer_format(fmt: WireFormat | None) -> WireFormat:
    return fmt if fmt is not None else WireFormat.JSON


def _attach_response(
    message: EmailMessage,
    response: DeclarationResponse,
    fmt: WireFormat | None,
    request: bytes | None = None,
) -> str:
    fmt = _answer_format(fmt)
    data = render_response(response, fmt, request)
    stem = f"respuesta-{response.number or response.agent_reference or 'declaracion'}"
    if fmt is WireFormat.JSON:
        filename = f"{stem}.json"
        message.add_attachment(data, maintype="application", subtype="json", filename=filename)
    elif fmt is WireFormat.EDIFACT:  # RFC 1767
        filename = f"{stem}.edi"
        message.add_attachment(data, maintype="application", subtype="EDIFACT", filename=filename)
    else:
        filename = f"{stem}.txt"
        message.add_attachment(
            data,
            maintype="text",
            subtype="plain",
            filename=filename,
            params={"charset": _flat_charset(data)},
        )
    return filename


def _flat_charset(data: bytes) -> str:
    """The encoding a flat file's envelope record names (``TDH|TELEDESPACHO|01|RES|ENC``)."""
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("ascii", "replace").split("|")
    return first[4].lower() if len(first) > 4 and first[4] else "iso-8859-1"


def _header_lines(envelope: ReplyEnvelope, source: str) -> list[str]:
    subject = envelope.submission.subject
    lines = [f"{envelope.office_label} - Teledespacho", ""]
    lines.append(f"Mensaje recibido: {_lima(envelope.received_at)}")
    if subject:
        lines.append(_fill(f"Asunto de su mensaje: {_shorten(subject)}", ""))
    lines.append(f"Ubicación de la declaración en su mensaje: {source}")
    lines.append("")
    return lines


def _format_name(fmt: WireFormat | None) -> str:
    names = {WireFormat.FLAT: "archivo plano", WireFormat.EDIFACT: "UN/EDIFACT (CUSRES)"}
    return names.get(_answer_format(fmt), "JSON")


# -- the machine-readable response --------------------------------------------------------------


def response_for(
    outcome: ReadDeclaration | UnreadableDeclaration,
    *,
    received_at: datetime,
    office: str,
    number: str | None = None,
    channel: Channel | None = None,
) -> DeclarationResponse:
    """The ``DeclarationResponse`` for one outcome (number and channel on acceptance)."""
    if isinstance(outcome, UnreadableDeclaration):
        return DeclarationResponse.rejected_unreadable(
            outcome.error,
            received_at,
            office=office,
            agent_reference=outcome.identity.agent_reference,
            document_type=outcome.identity.document_type,
        )
    declaration = outcome.declaration
    return DeclarationResponse(
        status=ResponseStatus.ACCEPTED if number is not None else ResponseStatus.REJECTED,
        document_type=declaration.document_type,
        office=declaration.office,
        agent_reference=declaration.agent_reference,
        number=number,
        channel=channel,
        received_at=received_at,
        findings=tuple(
            _response_finding(f)
            for f in outcome.findings
            if number is not None or f.severity is not Severity.INFO  # notes: acceptances only
        ),
    )


# -- the replies --------------------------------------------------------------------------------


def _pending_payment(declaration: DUA | OE) -> str:
    """Seed 004 VI.17: the channel "se muestra" once the debt is paid or guaranteed (and, in
    the anticipado, the manifest data are in). The gateway sees no payment: it assigns the
    channel on numbering and says that it applies after that step."""
    if not isinstance(declaration, DUA):
        return "(canal asignado al numerar la orden de embarque)"
    manifest = (
        " y, en el despacho anticipado, se cuente con la información del manifiesto de carga"
        if declaration.modality.code == ModalityCode.ANTICIPADO
        else ""
    )
    return (
        "(canal asignado, pendiente de pago: rige cuando la deuda tributaria aduanera y los "
        f"recargos estén cancelados, garantizados o impugnados{manifest})"
    )


def acceptance(
    envelope: ReplyEnvelope, outcome: ReadDeclaration, *, number: str, channel: Channel
) -> bytes:
    declaration = outcome.declaration
    kind = _kind(declaration)
    reference = declaration.agent_reference
    message = _message(
        envelope,
        subject=f"ACEPTADA {kind} {number} canal {channel.value.upper()} - ref. {reference}",
        status=ResponseStatus.ACCEPTED,
        reference=reference,
    )
    _put(message, "X-Teledespacho-Number", number)
    _put(message, "X-Teledespacho-Channel", channel.value)
    _, warnings, notes = _split(outcome.findings)
    lines = _header_lines(envelope, outcome.document.source)
    lines += [
        f"Su {kind} con referencia {reference} fue ACEPTADA y numerada.",
        "",
        f"  Número de declaración: {number}",
        _hanging(f"  Canal asignado:        {channel.value.upper()}: {CHANNEL_MEANING[channel]}"),
        _hanging(f"                         {_pending_payment(declaration)}"),
        "",
    ]
    lines += _findings_text(
        "Observaciones, que no impiden la numeración", warnings, declaration.document_type
    )
    lines += _findings_text(_NOTES_TITLE, notes, declaration.document_type)
    response = response_for(
        outcome,
        received_at=envelope.received_at,
        office=envelope.office_code,
        number=number,
        channel=channel,
    )
    fmt = outcome.document.format
    lines.append(f"Se adjunta la respuesta en {_format_name(fmt)} para su sistema.")
    _body(message, lines)
    _attach_response(message, response, fmt, outcome.document.data)
    return message.as_bytes(policy=_WIRE)


def rejection(envelope: ReplyEnvelope, outcome: ReadDeclaration) -> bytes:
    declaration = outcome.declaration
    kind = _kind(declaration)
    reference = declaration.agent_reference
    errors, warnings, _ = _split(outcome.findings)
    count = f"{len(errors)} error" + ("es" if len(errors) != 1 else "")
    message = _message(
        envelope,
        subject=f"RECHAZADA {kind} ref. {reference} - {count}",
        status=ResponseStatus.REJECTED,
        reference=reference,
    )
    lines = _header_lines(envelope, outcome.document.source)
    taken = any(finding.rule_id == "DUP" for finding in errors)
    advice = (
        "Transmítala con una referencia nueva: la de esta declaración ya fue aceptada."
        if taken
        else "Corrija lo que se indica y vuelva a transmitirla; puede usar la misma "
        "referencia, porque una declaración rechazada no consume número."
    )
    lines += [
        f"Su {kind} con referencia {reference} fue RECHAZADA: no se le asignó número.",
        _fill(advice, ""),
        "",
    ]
    lines += _findings_text("Errores", errors, declaration.document_type)
    lines += _findings_text("Observaciones", warnings, declaration.document_type)
    response = response_for(outcome, received_at=envelope.received_at, office=envelope.office_code)
    fmt = outcome.document.format
    lines.append(f"Se adjunta la respuesta en {_format_name(fmt)} para su sistema.")
    _body(message, lines)
    _attach_response(message, response, fmt, outcome.document.data)
    return message.as_bytes(policy=_WIRE)


def unreadable(envelope: ReplyEnvelope, outcome: UnreadableDeclaration) -> bytes:
    error: DeclarationSyntaxError = outcome.error
    source = outcome.document.source
    reference = outcome.identity.agent_reference
    message = _message(
        envelope,
        subject=f"RECHAZADA declaración ilegible ({source}) - {error.code}"
        + (f" - ref. {reference}" if reference else ""),
        status=ResponseStatus.REJECTED,
        reference=reference or "",
    )
    fmt = outcome.document.format
    lines = _header_lines(envelope, source)
    if reference:
        lines[-1:-1] = [f"Referencia del despachador: {reference}"]
    lines += [
        _fill(
            f"La declaración encontrada en {source} no pudo leerse, por lo que fue "
            "RECHAZADA sin número.",
            "",
        ),
    ]
    for problem in error.every:  # a reader that keeps going reports every problem it found
        lines += ["", f"  Error: {problem.code}", _fill(f"Detalle: {problem.message}", "  ")]
        if problem.position:
            lines.append(_fill(f"Posición: {problem.position}", "  "))
    lines += ["", _EXPECTED, ""]
    response = response_for(outcome, received_at=envelope.received_at, office=envelope.office_code)
    report = None
    if fmt is WireFormat.EDIFACT:
        report = render_syntax_report(error, response, outcome.document.data)
    lines.append(f"Se adjunta la respuesta en {_format_name(fmt)} para su sistema.")
    if report is not None:
        lines.append("El intercambio se rechaza también con un mensaje CONTRL (sintaxis).")
    _body(message, lines)
    _attach_response(message, response, fmt, outcome.document.data)
    if report is not None:  # D.96B's CUSRES does not replace CONTRL for syntax errors
        message.add_attachment(
            report, maintype="application", subtype="EDIFACT", filename="contrl.edi"
        )
    return message.as_bytes(policy=_WIRE)


def nothing_readable(envelope: ReplyEnvelope, notes: Sequence[str]) -> bytes:
    message = _message(
        envelope,
        subject="RECHAZADA mensaje sin declaraciones",
        status=ResponseStatus.REJECTED,
        reference="",
    )
    subject = envelope.submission.subject
    lines = [f"{envelope.office_label} - Teledespacho", ""]
    lines.append(f"Mensaje recibido: {_lima(envelope.received_at)}")
    if subject:
        lines.append(_fill(f"Asunto de su mensaje: {_shorten(subject)}", ""))
    lines += ["", "Su mensaje no contiene ninguna declaración legible.", ""]
    if notes:
        lines.append("Lo que se encontró en él:")
        lines += [_fill(f"- {note}", "  ") for note in notes]
    else:
        lines.append("El mensaje está vacío.")
    lines += ["", _EXPECTED]
    _body(message, lines)
    return message.as_bytes(policy=_WIRE)


def failure(envelope: ReplyEnvelope, attempts: int) -> bytes:
    """The gateway could not process the mail: say so; nothing in it was numbered."""
    message = _message(
        envelope,
        subject="RECHAZADA mensaje no procesado por un error de la aduana",
        status=ResponseStatus.REJECTED,
        reference="",
    )
    _put(message, "X-Teledespacho-Error", "internal")
    subject = envelope.submission.subject
    lines = [f"{envelope.office_label} - Teledespacho", ""]
    lines.append(f"Mensaje recibido: {_lima(envelope.received_at)}")
    if subject:
        lines.append(_fill(f"Asunto de su mensaje: {_shorten(subject)}", ""))
    lines += [
        "",
        _fill(
            f"El servidor de la aduana no pudo procesar su mensaje después de {attempts} "
            "intentos, por un error interno que no se debe a su declaración. Ninguna "
            "declaración de este mensaje fue numerada.",
            "",
        ),
        "",
        _fill(
            "Vuelva a transmitir el mensaje (puede usar las mismas referencias). Si el "
            "problema continúa, comuníquese con la intendencia de aduana.",
            "",
        ),
    ]
    _body(message, lines)
    return message.as_bytes(policy=_WIRE)


def office_copy(
    envelope: ReplyEnvelope,
    outcome: ReadDeclaration,
    *,
    number: str,
    channel: Channel,
    channel_reason: str,
    agent_address: str,
) -> bytes:
    """The accepted declaration, filed in the office's INBOX with its number and channel."""
    declaration = outcome.declaration
    kind = _kind(declaration)
    message = EmailMessage()
    subject = (
        f"{kind} {number} canal {channel.value.upper()} - despachador "
        f"{declaration.agent_code} ref. {declaration.agent_reference}"
    )
    # Not from the intake: a clerk pressing Reply must not write a declaration to it.
    no_reply = f"{NO_REPLY_LOCAL_PART}@{envelope.domain}"
    _origin(message, envelope, to=envelope.office_address, subject=subject, sender=no_reply)
    _put(message, "X-Teledespacho-Status", ResponseStatus.ACCEPTED.value)
    _put(message, "X-Teledespacho-Reference", declaration.agent_reference)
    _put(message, "X-Teledespacho-Number", number)
    _put(message, "X-Teledespacho-Channel", channel.value)
    _put(message, "X-Teledespacho-Agent", declaration.agent_code)
    party = declaration.importer if isinstance(declaration, DUA) else declaration.exporter
    role = "Importador" if isinstance(declaration, DUA) else "Exportador"
    lines = [
        f"{envelope.office_label} - Teledespacho",
        "",
        f"{kind} numerada {number}",
        f"  Canal de control: {channel.value.upper()}",
        _fill(f"Motivo: {channel_reason}", "    "),
        f"  Despachador:      {declaration.agent_code} ({agent_address})",
        f"  Referencia:       {declaration.agent_reference}",
        f"  Recibida:         {_lima(envelope.received_at)}",
        _fill(f"{role}: {party.doc_type} {party.doc_number} {party.name or ''}", "  "),
        f"  FOB US$:          {declaration.totals.fob:,.2f}",
        f"  Series:           {len(declaration.series)}",
        "",
    ]
    _, warnings, notes = _split(outcome.findings)
    lines += _findings_text("Observaciones", warnings, declaration.document_type)
    lines += _findings_text(_NOTES_TITLE, notes, declaration.document_type)
    lines.append("La declaración se adjunta tal como fue transmitida.")
    _body(message, lines)
    fmt = outcome.document.format
    if fmt is WireFormat.JSON:
        message.add_attachment(
            outcome.document.data,
            maintype="application",
            subtype="json",
            filename=f"{number}.json",
        )
    elif fmt is WireFormat.EDIFACT:
        message.add_attachment(
            outcome.document.data,
            maintype="application",
            subtype="EDIFACT",
            filename=f"{number}.edi",
        )
    else:
        message.add_attachment(
            outcome.document.data,
            maintype="application",
            subtype="octet-stream",
            filename=f"{number}.txt",
        )
    return message.as_bytes(policy=_WIRE)
