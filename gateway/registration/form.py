"""The mailbox request form, read from a mail: sans-IO (bytes and facts in, a value out).

The form is a few ``clave: valor`` lines, or a JSON object with the same keys, in the body
or in an attachment (``docs/mailbox-requests.md``)::

    agente: 6120
    agencia: Agencia de Aduanas Pisco Sur S.A.
    ruc: 20100070970
    contacto: María Quispe, teléfono 034-532100
    aduanas: 127, Marítima del Callao
    buzon: despacho@piscosur.com.pe

``buzon`` (the mailbox asked for) defaults to the sender's address. Keys ignore case and
accents, and English names are accepted too. Anything else in the text (a greeting, a
signature) is ignored. A request that cannot be taken is answered with every problem, in
Spanish, as a broker would read it.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Final

from config.offices import OfficeRegistry, UnknownOffice, find_office
from mailboxes.addresses import InvalidAddress, normalize_address
from validators.ruc import ruc_problem

__all__ = ["FIELDS", "IncompleteRequest", "MailboxRequestForm", "read_request"]

FIELDS: Final[dict[str, str]] = {
    "agent_code": "agente",
    "agency": "agencia",
    "ruc": "ruc",
    "contact": "contacto",
    "offices": "aduanas",
    "mailbox": "buzon",
}
"""Each field by its name here and its key in the form."""

_ALIASES: Final[dict[str, str]] = {
    "agente": "agent_code",
    "codigo_agente": "agent_code",
    "codigo_de_agente": "agent_code",
    "agent_code": "agent_code",
    "agent": "agent_code",
    "agencia": "agency",
    "agency": "agency",
    "ruc": "ruc",
    "contacto": "contact",
    "contact": "contact",
    "aduanas": "offices",
    "aduana": "offices",
    "offices": "offices",
    "office": "offices",
    "buzon": "mailbox",
    "mailbox": "mailbox",
}

_DESCRIBED: Final[dict[str, str]] = {
    "agent_code": "su código de agente de aduana",
    "agency": "el nombre de la agencia",
    "ruc": "el RUC de la agencia",
    "contact": "una persona y un teléfono de contacto",
    "offices": "las aduanas a las que transmitirá (códigos o nombres)",
}

MAX_PARTS: Final = 20
MAX_VALUE: Final = 200
_AGENT_CODE: Final = re.compile(r"^[0-9A-Z]{1,8}$")
_LINE: Final = re.compile(r"^\s*([^:=]{1,40}?)\s*[:=]\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class MailboxRequestForm:
    """A complete, well-formed request; whether to grant it is the office's decision."""

    agent_code: str
    agency: str
    ruc: str
    contact: str
    offices: tuple[str, ...]
    mailbox: str


@dataclass(frozen=True, slots=True)
class IncompleteRequest:
    problems: tuple[str, ...]


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s-]+", "_", plain.strip())


def _texts(message: Message) -> Iterator[str]:
    """The text of each leaf part, body first, at most ``MAX_PARTS`` of them."""
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS:
            return
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            yield payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            yield payload.decode("latin-1")


def _fields_of(text: str) -> tuple[dict[str, str], list[str]]:
    """The form's fields found in ``text`` (JSON object or key: value lines), and problems."""
    problems: list[str] = []
    found: dict[str, str] = {}
    stripped = text.strip()
    pairs: list[tuple[str, object]]
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):
            return {}, ["el formulario en JSON no se puede leer (JSON mal formado)"]
        if not isinstance(data, dict):
            return {}, []
        pairs = list(data.items())
    else:
        pairs = [(m[1], m[2]) for m in map(_LINE.match, stripped.splitlines()) if m is not None]
    for raw_key, value in pairs:
        field = _ALIASES.get(_key(str(raw_key)))
        if field is None:
            continue
        if field in found:
            problems.append(f"el campo «{FIELDS[field]}» aparece más de una vez")
            continue
        if isinstance(value, list) and field == "offices":
            value = ", ".join(str(item) for item in value)
        if not isinstance(value, str | int):
            problems.append(f"el campo «{FIELDS[field]}» debe ser un texto")
            continue
        found[field] = str(value).strip()
    return found, problems


def _offices(value: str, registry: OfficeRegistry, problems: list[str]) -> tuple[str, ...]:
    codes: list[str] = []
    for wanted in filter(None, (item.strip() for item in re.split(r"[,;]", value))):
        try:
            code = find_office(registry, wanted).code
        except UnknownOffice as unknown:
            if unknown.candidates:
                names = ", ".join(f"{o.code} {o.name}" for o in unknown.candidates)
                problems.append(f"«{wanted}» puede ser cualquiera de estas aduanas: {names}")
            else:
                problems.append(f"no hay una aduana «{wanted}» (vea: teledispatch offices)")
            continue
        if code not in codes:
            codes.append(code)
    return tuple(codes)


UNREADABLE: Final = (
    "el mensaje no pudo leerse: tiene partes anidadas unas dentro de otras a demasiada "
    "profundidad; envíe el formulario en un mensaje sencillo"
)


def read_request(
    raw: bytes, *, sender: str, registry: OfficeRegistry, domain: str
) -> MailboxRequestForm | IncompleteRequest:
    """Read the form from the mail ``raw`` sent by ``sender`` (its envelope address).

    ``raw`` is bounded by the caller (the registration address's size limit). It is read
    with the email package's ``compat32`` policy, whose header fields are plain strings:
    the default policy's header parser recursed once per nested comment (a
    ``Content-Type`` of 3 000 parentheses, mailed by anyone without logging in, was a
    ``451`` at each try) and took time growing with the square of a field's length (a
    ``Content-Type`` of 6 000 parameters, 53 KB: 1.5 s). The message parser still recurses
    once per level of nested parts: a mail nested past that is an incomplete request, and
    its sender is told so.
    """
    try:
        return _read_form(raw, sender=sender, registry=registry, domain=domain)
    except RecursionError:
        return IncompleteRequest((UNREADABLE,))


def _read_form(
    raw: bytes, *, sender: str, registry: OfficeRegistry, domain: str
) -> MailboxRequestForm | IncompleteRequest:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    found: dict[str, str] = {}
    problems: list[str] = []
    for text in _texts(message):
        found, problems = _fields_of(text)
        if found or problems:
            break
    if not found and not problems:
        keys = ", ".join(f"«{key}»" for key in FIELDS.values())
        return IncompleteRequest((f"el mensaje no contiene el formulario (campos {keys})",))
    for field, described in _DESCRIBED.items():
        if not found.get(field):
            problems.append(f"falta el campo «{FIELDS[field]}»: {described}")
    for field, value in found.items():
        if len(value) > MAX_VALUE or any(ord(ch) < 32 for ch in value):
            problems.append(f"el campo «{FIELDS[field]}» es demasiado largo o contiene controles")
    agent_code = found.get("agent_code", "").upper()
    if agent_code and not _AGENT_CODE.match(agent_code):
        problems.append(
            f"el código de agente «{agent_code}» no es válido: hasta 8 letras o dígitos"
        )
    ruc = found.get("ruc", "").replace(" ", "")
    if ruc:
        problem = ruc_problem(ruc)
        if problem is not None:
            problems.append(problem)
    offices = _offices(found.get("offices", ""), registry, problems)
    mailbox = found.get("mailbox") or sender
    try:
        mailbox = normalize_address(mailbox)
    except InvalidAddress:
        problems.append(f"el buzón «{mailbox}» no es una dirección de correo")
    else:
        if mailbox.rpartition("@")[2] == domain.lower():
            problems.append(
                f"el buzón {mailbox} es del dominio de la aduana: indique una dirección de su "
                "agencia"
            )
    if problems:
        return IncompleteRequest(tuple(problems))
    return MailboxRequestForm(
        agent_code=agent_code,
        agency=found["agency"],
        ruc=ruc,
        contact=found["contact"],
        offices=offices,
        mailbox=mailbox,
    )
