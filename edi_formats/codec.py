"""One entry point for every wire format: detect, parse, render.

The pipeline and the CLI only talk to this module; which reader or writer runs is decided
here, from the content (``detect_format``) or from the format the caller names.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import TypeAdapter, ValidationError

from edi_formats.detect import WireFormat, detect_format, strip_preamble
from edi_formats.edifact import parse_cusdec, parse_cusres, render_cusdec, render_cusres
from edi_formats.edifact.contrl import is_syntax_error, render_contrl
from edi_formats.edifact.identity import edifact_identity, request_references
from edi_formats.edifact.syntax import split_messages
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.flatfile.envelope import read_envelope
from edi_formats.flatfile.layout import LAYOUTS, RESPONSE_LAYOUT
from edi_formats.flatfile.reader import parse_flat, read_flat, split_fields
from edi_formats.flatfile.writer import (
    format_value,
    render_flat,
    render_records,
    render_records_varying,
)
from edi_formats.json_limits import over_json_limits
from edi_formats.jsonfmt import parse_json, render_json
from edi_formats.models import DUA, OE, AgentCode, AgentReference, OfficeCode
from edi_formats.responses import Channel, DeclarationResponse
from edi_formats.validation_errors import describe_error, json_path

__all__ = [
    "DeclarationIdentity",
    "DeclarationSyntaxError",
    "WireFormat",
    "detect_format",
    "identify",
    "parse_declaration",
    "parse_response",
    "peek_identity",
    "render_declaration",
    "render_response",
    "render_response_channels",
    "render_syntax_report",
    "split_document",
]


def _resolve(data: bytes, fmt: WireFormat | None) -> WireFormat:
    if fmt is not None:
        return fmt
    found = detect_format(data)
    if found is not None:
        return found
    if not data.strip():
        raise DeclarationSyntaxError("FMT-EMPTY", "el documento está vacío")
    raise DeclarationSyntaxError(
        "FMT-UNKNOWN",
        "el contenido no es una declaración en un formato reconocido: un archivo plano "
        "empieza con TDH|TELEDESPACHO|, un JSON es un objeto con document_type",
    )


def parse_declaration(data: bytes, fmt: WireFormat | None = None) -> DUA | OE:
    """The declaration in ``data`` (format detected when not given).

    Raises DeclarationSyntaxError, and nothing else, for anything that cannot be read.
    """
    fmt = _resolve(data, fmt)
    if fmt is WireFormat.FLAT:
        return parse_flat(data)
    if fmt is WireFormat.JSON:
        return parse_json(data)
    return parse_cusdec(data)


def hash_reference(data: bytes) -> int:
    """A stable number from the bytes answered: the same interchange, the same reference."""
    return int(hashlib.sha256(data).hexdigest()[:16], 16)


def split_document(data: bytes, fmt: WireFormat | None) -> list[bytes]:
    """The documents to answer one by one in ``data``: an EDIFACT interchange holding several
    messages (or a functional group) gives one interchange per message; anything else itself."""
    if fmt is WireFormat.EDIFACT:
        return split_messages(data) or [data]
    return [data]


def render_declaration(
    decl: DUA | OE, fmt: WireFormat, *, prepared_at: datetime | None = None
) -> bytes:
    """``decl`` in canonical ``fmt``; parse_declaration reads it back to an equal model.

    ``prepared_at``: when the sender's software prepared it, as its local time (an
    EDIFACT interchange's UNB says so; the other formats carry no such date). Left out, a
    fixed date keeps the output canonical: no clock is read here.
    """
    if fmt is WireFormat.FLAT:
        return render_flat(decl)
    if fmt is WireFormat.JSON:
        return render_json(decl)
    return render_cusdec(decl, prepared_at=prepared_at)


def render_response(
    resp: DeclarationResponse, fmt: WireFormat, request: bytes | None = None
) -> bytes:
    """The office's answer in the format the agent used (a CUSDEC is answered with CUSRES).

    ``request``, the document answered, addresses a CUSRES to its sender and refers back to
    its interchange and message, however little of it could be read.
    """
    if fmt is WireFormat.FLAT:
        return render_records(resp, RESPONSE_LAYOUT)
    if fmt is WireFormat.JSON:
        return resp.model_dump_json(indent=2).encode("utf-8") + b"\n"
    references = request_references(request) if request is not None else None
    return render_cusres(resp, request=references)


def render_response_channels(
    resp: DeclarationResponse, fmt: WireFormat, request: bytes | None = None
) -> dict[Channel, bytes]:
    """``render_response`` of the accepted ``resp`` with each channel, byte for byte.

    An acceptance is composed before its channel is chosen, so its response is rendered for
    every channel. A flat file is rendered once: the channels' files differ only in the
    channel's field of the response record, written for each (``render_records_varying``).
    A CUSRES's interchange reference digests the whole response, so each is rendered whole
    (the request's references read once).
    """
    if resp.channel is None:
        raise ValueError("only an accepted response has a channel")
    if fmt is WireFormat.FLAT:
        return _flat_channels(resp)
    variants = {channel: _with_channel(resp, channel) for channel in _CHANNELS}
    if fmt is WireFormat.JSON:
        return {channel: render_response(each, fmt) for channel, each in variants.items()}
    references = request_references(request) if request is not None else None
    return {channel: render_cusres(each, request=references) for channel, each in variants.items()}


def _with_channel(resp: DeclarationResponse, channel: Channel) -> DeclarationResponse:
    """``resp`` with another channel: validating it again would check only what it checked
    (a member of ``Channel``, on an accepted response)."""
    assert isinstance(channel, Channel) and resp.channel is not None
    return resp if channel is resp.channel else resp.model_copy(update={"channel": channel})


_CHANNELS: Final = tuple(Channel)
_CHANNEL_TEXTS: Final = tuple(
    format_value(channel, spec.kind)
    for channel in _CHANNELS
    for spec in RESPONSE_LAYOUT.records[0].fields
    if spec.attr == "channel"
)
"""Each channel as the response record's field writes it."""


def _flat_channels(resp: DeclarationResponse) -> dict[Channel, bytes]:
    files = render_records_varying(resp, RESPONSE_LAYOUT, "channel", _CHANNEL_TEXTS)
    return dict(zip(_CHANNELS, files, strict=True))


def render_syntax_report(
    error: DeclarationSyntaxError, resp: DeclarationResponse, request: bytes
) -> bytes | None:
    """A CONTRL for an EDIFACT interchange rejected for its syntax; None for anything else."""
    if not is_syntax_error(error):
        return None
    return render_contrl(
        error,
        request_references(request),
        office=resp.office,
        prepared=resp.received_at.astimezone(UTC).replace(tzinfo=None, microsecond=0),
        control_reference=f"C{abs(hash_reference(request)) % 10**13:013d}",
    )


def parse_response(data: bytes, fmt: WireFormat | None = None) -> DeclarationResponse:
    """A response read back (the agents' reference client files numbers with it)."""
    if fmt is None:
        head = strip_preamble(data[:16])
        if head.startswith(b"{"):
            fmt = WireFormat.JSON
        elif detect_format(data) is WireFormat.EDIFACT:
            fmt = WireFormat.EDIFACT
        else:
            fmt = WireFormat.FLAT
    if fmt is WireFormat.FLAT:
        return read_flat(data, {"RES": RESPONSE_LAYOUT}, {"RES": DeclarationResponse})
    if fmt is WireFormat.JSON:
        try:
            return DeclarationResponse.model_validate_json(strip_preamble(data))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raise DeclarationSyntaxError(
                "FMT-VALUE", describe_error(error), json_path(error["loc"])
            ) from None
    return parse_cusres(data)


@dataclass(frozen=True)
class DeclarationIdentity:
    """Who sent which declaration, as far as it can be told from a document that may not parse.

    A value is None when it is absent or would not pass the model (so it is safe to quote in
    a reply header or to key a rejection by).
    """

    document_type: Literal["DUA", "OE"] | None = None
    office: str | None = None
    agent_code: str | None = None
    agent_reference: str | None = None


_CHECKS: Final[dict[str, TypeAdapter[str]]] = {
    "office": TypeAdapter(OfficeCode),
    "agent_code": TypeAdapter(AgentCode),
    "agent_reference": TypeAdapter(AgentReference),
}


def _checked(name: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return _CHECKS[name].validate_python(value)
    except ValidationError:
        return None


def _flat_identity(data: bytes) -> dict[str, Any]:
    lines = data.decode("latin-1").splitlines()
    found: dict[str, Any] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        envelope = read_envelope(line.strip())
        layout = LAYOUTS.get(envelope.document_type) if envelope else None
        if layout is None:
            return found
        found["document_type"] = layout.document_type
        header = layout.records[0]
        for candidate in lines[index + 1 : index + 50]:
            if not candidate.startswith(header.code + "|"):
                continue
            try:
                fields = split_fields(candidate.rstrip("\r"))
            except ValueError:
                return found
            for position, spec in enumerate(header.fields, start=1):
                if spec.name in _CHECKS and position < len(fields):
                    found[spec.name] = fields[position].strip()
            return found
        return found
    return found


def peek_identity(data: bytes, fmt: WireFormat | None = None) -> DeclarationIdentity:
    """Document type, office, agent code and reference of ``data``, best effort; never raises.

    For the answer to a declaration that cannot be read: the reply can still quote the
    agent's reference when the header record (flat), the top-level keys (JSON) or the BGM,
    LOC+22 and NAD+AE segments (EDIFACT) hold it.
    """
    try:
        fmt = fmt or detect_format(data)
        found: dict[str, Any] = {}
        if fmt is WireFormat.FLAT:
            found = _flat_identity(data)
        elif fmt is WireFormat.JSON and over_json_limits(data) is None:
            loaded = json.loads(strip_preamble(data).decode("utf-8", "replace"))
            found = loaded if isinstance(loaded, dict) else {}
        elif fmt is WireFormat.EDIFACT:
            found = edifact_identity(data)
    except (ValueError, RecursionError):
        return DeclarationIdentity()
    document_type = found.get("document_type")
    return DeclarationIdentity(
        document_type=document_type if document_type in ("DUA", "OE") else None,
        office=_checked("office", found.get("office")),
        agent_code=_checked("agent_code", found.get("agent_code")),
        agent_reference=_checked("agent_reference", found.get("agent_reference")),
    )


def identify(data: bytes) -> tuple[WireFormat | None, DeclarationIdentity]:
    """The format ``data`` is written in and what ``peek_identity`` finds in it; (None, an
    empty identity) when it is no declaration we know."""
    fmt = detect_format(data)
    return fmt, peek_identity(data, fmt) if fmt is not None else DeclarationIdentity()
