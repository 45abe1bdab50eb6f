"""What a submission must show before it is stored: who sent it, and nothing it made up.

Sans-IO: the message's bytes and the session's facts in, the bytes to store (or a refusal)
out. As a submission server does (RFC 6409 §8), the node

- prepends a ``Received:`` trace field (RFC 5321 §4.4) naming the client, the authenticated
  account (RFC 3848's ``ESMTPA``, and the account in a comment as Postfix writes it), this
  node, an id, the recipient when there is only one (never a list: Bcc recipients would
  see each other), and the time;
- removes every ``X-Teledespacho-*`` field: those are the pipeline's answer (status, number,
  channel) and only the node writes them;
- refuses a ``From:`` or ``Sender:`` naming anyone but the authenticated account (adds
  ``From:`` when there is none), so nobody can pass for a customs office or another agent;
  see docs/security.md for why a refusal rather than a ``Sender:``.

Only the header section is read, field by field; the body's bytes are kept as they came.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Final

from gateway.mail.reading import addresses as read_addresses
from mailboxes.addresses import InvalidAddress, normalize_address

__all__ = ["ForgedSender", "SubmissionFacts", "prepare_submission", "without_node_fields"]

NODE_FIELD_PREFIX: Final = b"x-teledespacho-"

_FIELD_LINES = re.compile(rb"([!-9;-~]+)[ \t]*:[^\n]*(?:\n|\Z)(?:[ \t][^\n]*(?:\n|\Z))*")
"""A header field: its name and colon, the rest of its line and its continuation lines
(each line up to its LF, or to the end of the mail)."""
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_LITERAL = re.compile(r"\[(?:IPv6:)?[0-9A-Fa-f:.]{2,45}\]\Z")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PLAIN_ADDRESS = re.compile(rf"[ \t]*(?:({_ADDR_SPEC})|<({_ADDR_SPEC})>)[ \t]*")
"""A ``From:``/``Sender:`` value that is one plain ``local@domain``, bare or in angle
brackets, with no display name or comment: ``getaddresses`` returns that address as is
(``tests/gateway/smtp/test_trace.py`` compares the two for many shapes)."""


class ForgedSender(ValueError):
    """The header names someone other than the authenticated account; ``str`` says which."""


@dataclass(frozen=True, slots=True)
class SubmissionFacts:
    user: str
    """The authenticated account's address."""
    helo: str | None
    client_ip: str | None
    node_host: str
    recipients: tuple[str, ...]
    queue_id: str
    when: datetime
    protocol: str = "ESMTPA"
    """How it came: RFC 3848's ``ESMTPA``, or ``HTTP``/``HTTPS`` for the integration API."""


def prepare_submission(raw: bytes, facts: SubmissionFacts) -> bytes:
    """The bytes to store; raises ``ForgedSender``."""
    eol = b"\r\n" if b"\r\n" in raw[:4096] else b"\n"
    fields, body = _split(raw)
    kept: list[bytes] = []
    senders: dict[bytes, list[bytes]] = {b"from": [], b"sender": []}
    for name, field in fields:
        if name.startswith(NODE_FIELD_PREFIX):
            continue
        if name in senders:
            senders[name].append(field)
        kept.append(field)
    if len(senders[b"from"]) > 1 or len(senders[b"sender"]) > 1:
        raise ForgedSender("more than one From: or Sender: field")
    added = []
    for field in senders[b"from"] + senders[b"sender"]:
        _check_own(field, facts.user)
    if not senders[b"from"]:
        added.append(b"From: <" + facts.user.encode() + b">" + eol)
    return b"".join([_received(facts, eol), *added, *kept, body])  # the mail copied once


def without_node_fields(raw: bytes) -> bytes:
    """``raw`` without its ``X-Teledespacho-*`` fields (for mail that enters otherwise than
    by submission: picked up from an outside mailbox)."""
    fields, body = _split(raw)
    kept = [field for name, field in fields if not name.startswith(NODE_FIELD_PREFIX)]
    return raw if len(kept) == len(fields) else b"".join(kept) + body


def _split(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header fields (lower-cased name, the field's bytes with its continuation lines)
    and the rest (from the blank line, or the first line that is not a header, on).

    A field is one slice of ``raw``, read by one match with its continuation lines: a step
    per field, not per line, and no copying a field of many continuation lines per line."""
    fields: list[tuple[bytes, bytes]] = []
    position = 0
    match = _FIELD_LINES.match(raw)
    while match is not None:
        end = match.end()
        fields.append((match.group(1).lower(), raw[position:end]))
        position = end
        match = _FIELD_LINES.match(raw, position)
    return fields, raw[position:]


def _check_own(field: bytes, user: str) -> None:
    _, _, value = field.partition(b":")
    text = value.decode("utf-8", "replace").replace("\r", "").replace("\n", "")
    plain = _PLAIN_ADDRESS.fullmatch(text)
    if plain is not None:  # what nearly every client writes: the parser would return it
        addresses = [plain.group(1) or plain.group(2)]
    else:
        addresses = [address for _, address in read_addresses([text])]
    if not addresses:
        raise ForgedSender("no address in the From: or Sender: field")
    for address in addresses:
        try:
            if normalize_address(address) != user:
                raise ForgedSender(address)
        except InvalidAddress as exc:
            raise ForgedSender(address or "an empty address") from exc


def _is_domain(name: str) -> bool:
    labels = name.removesuffix(".").split(".")
    return 0 < len(name) <= 255 and all(_LABEL.match(label) for label in labels)


def _date_text(when: datetime) -> str:
    """``format_datetime(when)``, made once per second: each submission's trace field has
    one, hundreds a second."""
    return _date_of_second(when.replace(microsecond=0), when.utcoffset())


@functools.lru_cache(maxsize=4)
def _date_of_second(second: datetime, _offset: timedelta | None) -> str:
    """The offset is part of the key: datetimes of one instant in two zones compare equal
    and are written differently."""
    return format_datetime(second)


def _received(facts: SubmissionFacts, eol: bytes) -> bytes:
    head = _received_head(
        facts.helo, facts.client_ip, facts.user, facts.node_host, facts.protocol, eol
    )
    newline = eol.decode()
    if len(facts.recipients) == 1:
        tail = f"{facts.queue_id}{newline}\tfor <{facts.recipients[0]}>;"
    else:
        tail = f"{facts.queue_id};"
    return head + f"{tail}{newline}\t{_date_text(facts.when)}{newline}".encode()


@functools.lru_cache(maxsize=256)
def _received_head(
    helo: str | None, client_ip: str | None, user: str, node_host: str, protocol: str, eol: bytes
) -> bytes:
    """The trace field up to its id: the same for every mail of a session, made once (kept
    for the sessions seen last)."""
    helo = helo or ""
    if not (_is_domain(helo) or _LITERAL.match(helo)):
        helo = "unknown"  # whatever the client said is not a name: do not repeat it
    client = ""
    if client_ip:
        client = f" ([IPv6:{client_ip}])" if ":" in client_ip else f" ([{client_ip}])"
    lines = [
        f"Received: from {helo}{client}",
        f"\t(Authenticated sender: {user})",
        f"\tby {node_host} (Teledespacho) with {protocol} id ",
    ]
    return eol.join(line.encode("utf-8") for line in lines)
