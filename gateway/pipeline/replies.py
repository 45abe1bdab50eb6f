"""The mails the office sends back: to the agent (one per declaration) and to its own INBOX.

Every reply to an agent carries the machine-readable headers DESIGN.md fixes
(``X-Teledespacho-Status``, ``-Reference``, and on acceptance ``-Number`` and ``-Channel``),
a Subject starting with ``ACEPTADA`` or ``RECHAZADA``, threading to the submission
(``In-Reply-To``, ``References``), a Spanish body a broker reads on an 80-column screen, and
the ``DeclarationResponse`` attached in the format the declaration came in (a CUSDEC gets a
CUSRES, ``application/EDIFACT``). ``X-Teledespacho-Reference`` is empty when the
declaration could not be read far enough to know its reference.

Written as bytes with ``gateway.mail`` (CRLF, folded and encoded per RFC 5322 and 2047). An
acceptance and its office copy are written as templates (``acceptance_template``,
``office_copy_template``) before the number and the channel are known: the answering
transaction only fills those in (``gateway.mail.template.fill``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import Final

from edi_formats.boxes import DocumentType, box_label
from edi_formats.codec import render_response, render_response_channels, render_syntax_report
from edi_formats.codes import ModalityCode
from edi_formats.detect import WireFormat
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import DUA, OE
from edi_formats.responses import Channel, DeclarationResponse, ResponseFinding, ResponseStatus
from gateway.mail import Part, address_field, attachment, field, ids_field, text_part, wrap
from gateway.mail.template import (
    STAND_IN,
    Attachment,
    ByChannel,
    Field,
    Filling,
    Slot,
    Template,
    TextPart,
    Wrapped,
    fill,
    number_slots,
)
from gateway.pipeline.process import ReadDeclaration, SubmissionHeaders, UnreadableDeclaration
from validators.engine import PERU_TIME
from validators.findings import Finding, Severity

__all__ = [
    "CHANNEL_MEANING",
    "ReplyEnvelope",
    "acceptance",
    "acceptance_template",
    "failure",
    "nothing_readable",
    "office_copy",
    "office_copy_template",
    "rejection",
    "response_for",
    "unreadable",
]

WIDTH: Final = 76
NO_REPLY_LOCAL_PART: Final = "no-responder"
"""The sender of office copies: an address the node does not host, so a reply bounces."""

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
  - UN/EDIFACT: un intercambio CUSDEC del directorio D.96B (de UNB a UNZ)
  - JSON: un objeto con "document_type": "DUA" u "OE"
como archivo adjunto (con cualquier nombre), pegada en el texto del mensaje o en un
bloque uuencode. Puede enviar varias en un mismo mensaje: recibirá una respuesta por
cada una."""

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
    id_seed: str | None = None
    """What the Message-IDs are derived from (the job and document: the same answer composed
    again gets the same identifiers); None: random ones."""

    @property
    def office_label(self) -> str:
        if self.office_name:
            return f"Aduana {self.office_code} - {self.office_name}"
        return f"Aduana {self.office_code}"


# -- pieces -----------------------------------------------------------------------------------


@lru_cache(maxsize=64)  # an acceptance and its office copy give the same instant
def _lima(instant: datetime) -> str:
    return instant.astimezone(PERU_TIME).strftime("%d/%m/%Y %H:%M") + " (hora de Lima)"


@lru_cache(maxsize=64)  # an acceptance and its office copy are dated alike
def _date_field(instant: datetime) -> bytes:
    """The Date field of a mail sent at ``instant``, in Lima's time (RFC 5322 3.3)."""
    return field("Date", format_datetime(instant.astimezone(PERU_TIME)))


def _shorten(text: str) -> str:
    return wrap.shorten(text, 200, placeholder=" ...")


def _kind(declaration: DUA | OE | None) -> str:
    if declaration is None:
        return "declaración"
    return "DUA" if isinstance(declaration, DUA) else "O/E"


def _fill(text: str, indent: str) -> str:
    return wrap.paragraph(text, WIDTH, indent)


def _hanging(text: str, indent: int = 25) -> str:
    """A labelled line whose continuation lines align under the value."""
    return wrap.hanging(text, WIDTH, indent)


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


Fields = list[bytes | Field]


def _message_id(envelope: ReplyEnvelope, kind: str) -> str:
    if envelope.id_seed is None:
        token = secrets.token_hex(10)
    else:
        seed = f"{envelope.id_seed}/{kind}/{envelope.received_at.isoformat()}"
        token = hashlib.sha256(seed.encode()).hexdigest()[:20]
    return f"<td.{token}@{envelope.domain}>"


# Fields that recur from reply to reply (an office's From, an agent's To, the status),
# written once: composing them was a tenth of composing an acceptance.
_recurring_address: Final = lru_cache(maxsize=1024)(address_field)
_recurring_field: Final = lru_cache(maxsize=64)(field)
_AUTO_REPLIED: Final = field("Auto-Submitted", "auto-replied")
"""RFC 3834: no auto-responder answers it."""


def _origin(
    envelope: ReplyEnvelope, *, to: str, subject: str | Field, kind: str, sender: str | None = None
) -> Fields:
    """From (the office's intake unless ``sender``), To, Subject, Date, Message-ID."""
    address = sender or envelope.office_address
    return [
        _recurring_address("From", address, f"Teledespacho Aduana {envelope.office_code}"),
        _recurring_address("To", to),
        subject if isinstance(subject, Field) else field("Subject", subject),
        _date_field(envelope.date),
        ids_field("Message-ID", _message_id(envelope, kind)),
        _AUTO_REPLIED,
    ]


def _fields(
    envelope: ReplyEnvelope,
    *,
    subject: str | Field,
    status: ResponseStatus,
    reference: str,
    kind: str,
) -> Fields:
    """The reply's fields: origin, threading to the submission, status and reference.

    Message identifiers are written exactly as sent, folded only between identifiers (an
    encoded identifier would break the reader's threading).
    """
    fields = _origin(envelope, to=envelope.agent_address, subject=subject, kind=kind)
    original = envelope.submission.message_id
    if original is not None:
        fields.append(ids_field("In-Reply-To", original))
        earlier = envelope.submission.references
        fields.append(ids_field("References", f"{earlier} {original}" if earlier else original))
    fields.append(_recurring_field("X-Teledespacho-Status", status.value))
    fields.append(field("X-Teledespacho-Reference", reference))
    return fields


def _text(lines: Iterable[str]) -> str:
    return "\n".join([*lines, "", _SIGNATURE]) + "\n"


def _answer_format(fmt: WireFormat | None) -> WireFormat:
    return fmt if fmt is not None else WireFormat.JSON


_EXTENSIONS: Final = {WireFormat.JSON: "json", WireFormat.EDIFACT: "edi", WireFormat.FLAT: "txt"}


def _response_type(fmt: WireFormat, data: bytes) -> tuple[str, dict[str, str]]:
    if fmt is WireFormat.JSON:
        return "application/json", {}
    if fmt is WireFormat.EDIFACT:  # RFC 1767
        return "application/EDIFACT", {}
    return "text/plain", {"charset": _flat_charset(data)}


def _response_part(
    response: DeclarationResponse, fmt: WireFormat | None, request: bytes | None = None
) -> Part:
    fmt = _answer_format(fmt)
    data = render_response(response, fmt, request)
    stem = f"respuesta-{response.number or response.agent_reference or 'declaracion'}"
    content_type, params = _response_type(fmt, data)
    return attachment(data, content_type, f"{stem}.{_EXTENSIONS[fmt]}", params)


def _boundary(fields: Sequence[bytes | Field]) -> str:
    seed = b"".join(piece for piece in fields if isinstance(piece, bytes))
    return f"=_td{hashlib.sha256(seed).hexdigest()[:32]}"


def _template(
    fields: Sequence[bytes | Field],
    text: str | TextPart,
    attachments: Sequence[Part | Attachment] = (),
) -> Template:
    """The reply: its fields, the text, and the attachments in a ``multipart/mixed``.

    The boundary starts with ``=_``, which neither quoted-printable nor base64 produce, so
    whatever is filled in the holes cannot contain it.
    """
    pieces: list[bytes | Field | TextPart | Attachment] = [*fields, b"MIME-Version: 1.0\r\n"]
    body: list[Part | TextPart | Attachment] = [
        text_part(text) if isinstance(text, str) else text,
        *attachments,
    ]
    if len(body) > 1:
        boundary = _boundary(fields)
        delimiter = f"--{boundary}\r\n".encode()
        pieces.append(f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode())
        for part in body:
            pieces.append(delimiter)
            pieces.append(part.headers + b"\r\n" + part.body if isinstance(part, Part) else part)
        pieces.append(f"--{boundary}--\r\n".encode())
    else:
        (part,) = body
        pieces.append(part.headers + b"\r\n" + part.body if isinstance(part, Part) else part)
    merged: list[bytes | Field | TextPart | Attachment] = []
    for piece in pieces:  # consecutive finished bytes as one piece
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        else:
            merged.append(piece)
    return Template(tuple(merged))


def _finished(template: Template) -> bytes:
    """A template without holes, as the mail it is."""
    assert template.complete
    return b"".join(piece for piece in template.pieces if isinstance(piece, bytes))


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


def _meaning(channel: Channel) -> str:
    return _hanging(f"  Canal asignado:        {channel.value.upper()}: {CHANNEL_MEANING[channel]}")


_CHANNELS: Final = tuple(Channel)
_MEANINGS: Final = ByChannel(tuple((channel, _meaning(channel)) for channel in _CHANNELS))
"""What each channel means, as an acceptance says it (the same in every acceptance)."""


def acceptance_template(envelope: ReplyEnvelope, outcome: ReadDeclaration, series: str) -> Template:
    """The acceptance, with the number (of ``series``, ``118-2026-10-``) and the channel left
    to fill.

    The response is rendered for each channel (``render_response_channels``: a flat file once,
    its response record once per channel) with a stand-in number put in place at filling.
    A CUSRES's interchange reference (UNB 0020) is a digest of the response, so it is the
    digest of the response with the stand-in number: as canonical, and as unique (the
    response names the agent's reference and the receipt instant).
    """
    declaration = outcome.declaration
    kind = _kind(declaration)
    reference = declaration.agent_reference
    subject = Field(
        "Subject",
        (f"ACEPTADA {kind} ", Slot.NUMBER, " canal ", Slot.CHANNEL_UPPER, f" - ref. {reference}"),
    )
    fields = _fields(
        envelope,
        subject=subject,
        status=ResponseStatus.ACCEPTED,
        reference=reference,
        kind="acceptance",
    )
    fields += [
        Field("X-Teledespacho-Number", (Slot.NUMBER,)),
        Field("X-Teledespacho-Channel", (Slot.CHANNEL,)),
    ]
    _, warnings, notes = _split(outcome.findings)
    before = _header_lines(envelope, outcome.document.source)
    before += [f"Su {kind} con referencia {reference} fue ACEPTADA y numerada.", ""]
    after = [
        _hanging(f"                         {_pending_payment(declaration)}"),
        "",
    ]
    after += _findings_text(
        "Observaciones, que no impiden la numeración", warnings, declaration.document_type
    )
    after += _findings_text(_NOTES_TITLE, notes, declaration.document_type)
    fmt = _answer_format(outcome.document.format)
    after.append(f"Se adjunta la respuesta en {_format_name(fmt)} para su sistema.")
    text = TextPart(
        (
            "\n".join(before) + "\n  Número de declaración: ",
            Slot.NUMBER,
            "\n",
            _MEANINGS,
            "\n" + _text(after),
        )
    )

    rendered: dict[str, dict[Channel, bytes]] = {}

    def render(number: str, channel: Channel) -> bytes:
        """The response with ``number``, rendered for every channel at its first call."""
        by_channel = rendered.get(number)
        if by_channel is None:
            response = response_for(
                outcome,
                received_at=envelope.received_at,
                office=envelope.office_code,
                number=number,
                channel=channel,
            )
            by_channel = render_response_channels(response, fmt, outcome.document.data)
            rendered[number] = by_channel
        return by_channel[channel]

    variants = number_slots(render, series)
    content_type, params = _response_type(fmt, variants[0][1])
    response = Attachment(
        content_type,
        tuple(params.items()),
        ("respuesta-", Slot.NUMBER, f".{_EXTENSIONS[fmt]}"),
        variants,
    )
    return _template(fields, text, [response])


def acceptance(
    envelope: ReplyEnvelope, outcome: ReadDeclaration, *, number: str, channel: Channel
) -> bytes:
    template = acceptance_template(envelope, outcome, number[: -len(STAND_IN)])
    return fill(template, Filling(number, channel))


def rejection(envelope: ReplyEnvelope, outcome: ReadDeclaration) -> bytes:
    declaration = outcome.declaration
    kind = _kind(declaration)
    reference = declaration.agent_reference
    errors, warnings, _ = _split(outcome.findings)
    count = f"{len(errors)} error" + ("es" if len(errors) != 1 else "")
    fields = _fields(
        envelope,
        subject=f"RECHAZADA {kind} ref. {reference} - {count}",
        status=ResponseStatus.REJECTED,
        reference=reference,
        kind="rejection",
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
    attached = _response_part(response, fmt, outcome.document.data)
    return _finished(_template(fields, _text(lines), [attached]))


def unreadable(envelope: ReplyEnvelope, outcome: UnreadableDeclaration) -> bytes:
    error: DeclarationSyntaxError = outcome.error
    source = outcome.document.source
    reference = outcome.identity.agent_reference
    fields = _fields(
        envelope,
        subject=f"RECHAZADA declaración ilegible ({source}) - {error.code}"
        + (f" - ref. {reference}" if reference else ""),
        status=ResponseStatus.REJECTED,
        reference=reference or "",
        kind="unreadable",
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
    attached = [_response_part(response, fmt, outcome.document.data)]
    if report is not None:  # D.96B's CUSRES does not replace CONTRL for syntax errors
        attached.append(attachment(report, "application/EDIFACT", "contrl.edi"))
    return _finished(_template(fields, _text(lines), attached))


def _opening(envelope: ReplyEnvelope) -> list[str]:
    subject = envelope.submission.subject
    lines = [f"{envelope.office_label} - Teledespacho", ""]
    lines.append(f"Mensaje recibido: {_lima(envelope.received_at)}")
    if subject:
        lines.append(_fill(f"Asunto de su mensaje: {_shorten(subject)}", ""))
    return lines


def nothing_readable(envelope: ReplyEnvelope, notes: Sequence[str]) -> bytes:
    fields = _fields(
        envelope,
        subject="RECHAZADA mensaje sin declaraciones",
        status=ResponseStatus.REJECTED,
        reference="",
        kind="nothing",
    )
    lines = _opening(envelope)
    lines += ["", "Su mensaje no contiene ninguna declaración legible.", ""]
    if notes:
        lines.append("Lo que se encontró en él:")
        lines += [_fill(f"- {note}", "  ") for note in notes]
    else:
        lines.append("El mensaje está vacío.")
    lines += ["", _EXPECTED]
    return _finished(_template(fields, _text(lines)))


def failure(envelope: ReplyEnvelope, attempts: int) -> bytes:
    """The gateway could not process the mail: say so; nothing in it was numbered."""
    fields = _fields(
        envelope,
        subject="RECHAZADA mensaje no procesado por un error de la aduana",
        status=ResponseStatus.REJECTED,
        reference="",
        kind="failure",
    )
    fields.append(field("X-Teledespacho-Error", "internal"))
    lines = _opening(envelope)
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
    return _finished(_template(fields, _text(lines)))


_COPY_TYPES: Final[dict[WireFormat | None, tuple[str, str]]] = {
    WireFormat.JSON: ("application/json", "json"),
    WireFormat.EDIFACT: ("application/EDIFACT", "edi"),
}


def office_copy_template(
    envelope: ReplyEnvelope, outcome: ReadDeclaration, *, agent_address: str
) -> Template:
    """The accepted declaration for the office's INBOX, its number, channel and the channel's
    reason left to fill."""
    declaration = outcome.declaration
    kind = _kind(declaration)
    subject = Field(
        "Subject",
        (
            f"{kind} ",
            Slot.NUMBER,
            " canal ",
            Slot.CHANNEL_UPPER,
            f" - despachador {declaration.agent_code} ref. {declaration.agent_reference}",
        ),
    )
    # Not from the intake: a clerk pressing Reply must not write a declaration to it.
    no_reply = f"{NO_REPLY_LOCAL_PART}@{envelope.domain}"
    fields = _origin(
        envelope, to=envelope.office_address, subject=subject, kind="copy", sender=no_reply
    )
    fields += [
        _recurring_field("X-Teledespacho-Status", ResponseStatus.ACCEPTED.value),
        field("X-Teledespacho-Reference", declaration.agent_reference),
        Field("X-Teledespacho-Number", (Slot.NUMBER,)),
        Field("X-Teledespacho-Channel", (Slot.CHANNEL,)),
        field("X-Teledespacho-Agent", declaration.agent_code),
    ]
    party = declaration.importer if isinstance(declaration, DUA) else declaration.exporter
    role = "Importador" if isinstance(declaration, DUA) else "Exportador"
    after = [
        f"  Despachador:      {declaration.agent_code} ({agent_address})",
        f"  Referencia:       {declaration.agent_reference}",
        f"  Recibida:         {_lima(envelope.received_at)}",
        _fill(f"{role}: {party.doc_type} {party.doc_number} {party.name or ''}", "  "),
        f"  FOB US$:          {declaration.totals.fob:,.2f}",
        f"  Series:           {len(declaration.series)}",
        "",
    ]
    _, warnings, notes = _split(outcome.findings)
    after += _findings_text("Observaciones", warnings, declaration.document_type)
    after += _findings_text(_NOTES_TITLE, notes, declaration.document_type)
    after.append("La declaración se adjunta tal como fue transmitida.")
    text = TextPart(
        (
            f"{envelope.office_label} - Teledespacho\n\n{kind} numerada ",
            Slot.NUMBER,
            "\n  Canal de control: ",
            Slot.CHANNEL_UPPER,
            "\n",
            Wrapped(("Motivo: ", Slot.REASON), WIDTH, "    "),
            "\n" + _text(after),
        )
    )
    content_type, extension = _COPY_TYPES.get(
        outcome.document.format, ("application/octet-stream", "txt")
    )
    data = outcome.document.data
    copy = Attachment(
        content_type,
        (),
        (Slot.NUMBER, f".{extension}"),
        tuple((channel, data, ()) for channel in _CHANNELS),
    )
    return _template(fields, text, [copy])


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
    template = office_copy_template(envelope, outcome, agent_address=agent_address)
    return fill(template, Filling(number, channel, channel_reason))
