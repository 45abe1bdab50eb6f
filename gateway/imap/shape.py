"""What IMAP clients parse, shaped as RFC 3501 says and Dovecot sends: a documented local
layer over pymap 0.36.7, with the upstream fix each patch stands for.

``LoadedMessage`` (our backend's loaded message) builds ENVELOPE and BODYSTRUCTURE itself:

- ENVELOPE gives the header strings as sent: the ``Date:`` string, not the parsed date
  reformatted as an internal date; ``Subject:`` and display names with their RFC 2047
  encoded words, not decoded into UTF-8 literals a client without ``UTF8=ACCEPT`` cannot
  take. (Upstream: ``EnvelopeStructure`` should take the unstructured raw values.)
- BODYSTRUCTURE sizes and line counts are each part's body, not part header plus body, and
  the disposition is ``("attachment" ("filename" "DUA.TXT"))``, not one string.
  (Upstream: ``_get_size_with_lines`` should measure ``msg.body``; ``BodyStructure.extended``
  should render ``body-fld-dsp`` as a list.)

``install()`` patches two pymap functions in place, once:

- ``MessageBody._find_parts``: the CRLF before a boundary belongs to the boundary
  (RFC 2046 §5.1.1), so ``BODY[1]`` ends before it. (Upstream: end each part's last line at
  its content, not after its line break.)
- ``FetchAttribute.raw``: ``BINARY.PEEK[2]`` is answered as ``BINARY[2]`` (RFC 3516 §4.2,
  as ``BODY.PEEK`` already is), and ``HEADER.FIELDS (FROM SUBJECT DATE)`` is echoed in the
  client's order, not sorted (clients match the echo to their request). (Upstream: keep the
  header list's order in ``FetchAttribute.Section``.)
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from email.headerregistry import DateHeader, UnstructuredHeader
from typing import Any, Final, cast

from pymap.bytes import Writeable
from pymap.mailbox import MailboxSnapshot
from pymap.message import BaseLoadedMessage
from pymap.mime import MessageBody, MessageContent
from pymap.mime.cte import MessageDecoder
from pymap.parsing.primitives import List, Nil, String
from pymap.parsing.response.fetch import (
    BodyStructure,
    ContentBodyStructure,
    EnvelopeStructure,
    MessageBodyStructure,
    MultipartBodyStructure,
    TextBodyStructure,
)
from pymap.parsing.specials.fetchattr import FetchAttribute
from pymap.parsing.specials.flag import Flag, Wildcard

from gateway.imap.folding import contains_bytes, contains_text
from gateway.mail.reading import addresses, decode_words

__all__ = ["LoadedMessage", "Snapshot", "install"]

_ADDRESS_FIELDS: Final = (b"FROM", b"SENDER", b"REPLY-TO", b"TO", b"CC", b"BCC")


# --- ENVELOPE ------------------------------------------------------------------------------


def raw_headers(msg: MessageContent, name: bytes) -> list[str]:
    """Each ``name`` field's value as sent: unfolded, trimmed, undecoded."""
    values = []
    for key, value in msg.header.folded:
        if key.upper() == name:
            text = bytes(value).split(b":", 1)[1].replace(b"\r\n", b"").replace(b"\n", b"")
            values.append(text.strip().decode("utf-8", "replace"))
    return values


def decoded_headers(msg: MessageContent, name: bytes) -> list[str]:
    """Each ``name`` field's value as sent, its RFC 2047 encoded words decoded: what SEARCH
    compares (linear in the field's length, where the standard library's header parser,
    which pymap used, takes time growing with its square)."""
    return [decode_words(value) for value in raw_headers(msg, name)]


def raw_header(msg: MessageContent, name: bytes) -> str | None:
    """The first ``name`` field's value as sent: unfolded, trimmed, undecoded."""
    values = raw_headers(msg, name)
    return values[0] if values else None


def _addresses(raw: str | None) -> List | Nil:
    """RFC 3501 ``env-from`` etc.: ``((name NIL mailbox host) ...)`` from the raw field."""
    if not raw:
        return Nil()
    parsed = [(name, address) for name, address in addresses([raw]) if address]
    if not parsed:
        return Nil()
    entries = []
    for name, address in parsed:
        mailbox, _, host = address.rpartition("@") if "@" in address else (address, "", "")
        entries.append(
            List([String.build(name or None), Nil(), String.build(mailbox), String.build(host)])
        )
    return List(entries)


class RawEnvelope(EnvelopeStructure):
    """ENVELOPE from the header fields as they were sent.

    What SEARCH compares (FROM, TO, CC, BCC, SUBJECT: one string per field, as pymap's
    ``str()`` of its parsed fields) is each field's value with its encoded words decoded,
    read only when a SEARCH asks. pymap parsed every address field of the message with the
    standard library's header parser for each ENVELOPE: its time grows with the square of
    a field's length (a ``To:`` of 4 000 addresses, 150 KB: 1.9 s on the event loop).
    (Upstream: ``EnvelopeStructure`` should take the raw values, and SEARCH match them.)
    """

    def __init__(self, msg: MessageContent) -> None:
        Writeable.__init__(self)  # not EnvelopeStructure's, which takes every field parsed
        self._msg = msg

    def _decoded(self, name: bytes) -> list[str]:
        return decoded_headers(self._msg, name)

    @property
    def from_(self) -> list[str]:  # type: ignore[override]
        return self._decoded(b"FROM")

    @property
    def sender(self) -> list[str]:  # type: ignore[override]
        return self._decoded(b"SENDER")

    @property
    def reply_to(self) -> list[str]:  # type: ignore[override]
        return self._decoded(b"REPLY-TO")

    @property
    def to(self) -> list[str]:  # type: ignore[override]
        return self._decoded(b"TO")

    @property
    def cc(self) -> list[str]:  # type: ignore[override]
        return self._decoded(b"CC")

    @property
    def bcc(self) -> list[str]:  # type: ignore[override]
        return self._decoded(b"BCC")

    @property
    def subject(self) -> str | None:  # type: ignore[override]
        values = self._decoded(b"SUBJECT")
        return values[0] if values else None

    @property
    def date(self) -> DateHeader | None:  # type: ignore[override]
        return self._msg.header.parsed.date  # SENTBEFORE and the like: one short field

    @property
    def in_reply_to(self) -> UnstructuredHeader | None:  # type: ignore[override]
        return self._msg.header.parsed.in_reply_to

    @property
    def message_id(self) -> UnstructuredHeader | None:  # type: ignore[override]
        return self._msg.header.parsed.message_id

    @property
    def _value(self) -> List:
        msg = self._msg
        fields = {name: raw_header(msg, name) for name in _ADDRESS_FIELDS}
        sender = fields[b"SENDER"] or fields[b"FROM"]
        reply_to = fields[b"REPLY-TO"] or fields[b"FROM"]
        return List(
            [
                String.build(raw_header(msg, b"DATE")),
                String.build(raw_header(msg, b"SUBJECT")),
                _addresses(fields[b"FROM"]),
                _addresses(sender),
                _addresses(reply_to),
                _addresses(fields[b"TO"]),
                _addresses(fields[b"CC"]),
                _addresses(fields[b"BCC"]),
                String.build(raw_header(msg, b"IN-REPLY-TO")),
                String.build(raw_header(msg, b"MESSAGE-ID")),
            ]
        )


# --- BODYSTRUCTURE -------------------------------------------------------------------------


def _disposition(header: Any) -> List | Nil:
    """RFC 3501 ``body-fld-dsp``: ``("attachment" ("filename" "DUA.TXT"))`` or NIL."""
    if header is None:
        return Nil()
    params = dict(header.params)
    values = [String.build(item) for key, value in params.items() for item in (key, value)]
    return List([String.build(header.content_disposition), List(values) if values else Nil()])


class _DispositionAsList:
    """Renders ``extended`` with the disposition as a list (always third from the end:
    it is followed by language and location in every body type)."""

    content_disposition: Any

    @property
    def extended(self) -> List:
        items = list(super().extended.items)  # type: ignore[misc]
        items[-3] = _disposition(self.content_disposition)
        return List(items)


class _Text(_DispositionAsList, TextBodyStructure):
    pass


class _Content(_DispositionAsList, ContentBodyStructure):
    pass


class _Message(_DispositionAsList, MessageBodyStructure):
    pass


class _Multipart(_DispositionAsList, MultipartBodyStructure):
    pass


def _lines(body: MessageBody) -> int:
    """Text lines of a part body, counted as Dovecot does: its line breaks."""
    return bytes(body).count(b"\n")


def body_structure(msg: MessageContent) -> BodyStructure:
    parsed = msg.header.parsed
    maintype = msg.body.content_type.maintype
    subtype = msg.body.content_type.subtype
    params = msg.body.content_type.params
    common = (
        params,
        parsed.content_disposition,
        parsed.content_language,
        parsed.content_location,
    )
    if maintype == "multipart":
        parts = [body_structure(part) for part in msg.body.nested]
        return _Multipart(subtype, *common, parts)
    content_id = parsed.content_id
    description = parsed.content_description
    encoding = parsed.content_transfer_encoding
    size = len(msg.body)
    if maintype == "message" and subtype == "rfc822" and msg.body.has_nested:
        inner = msg.body.nested[0]
        return _Message(
            *common,
            content_id,
            description,
            encoding,
            None,  # body MD5
            size,
            _lines(msg.body),
            RawEnvelope(inner),
            body_structure(inner),
        )
    if maintype == "text":
        return _Text(
            subtype, *common, content_id, description, encoding, None, size, _lines(msg.body)
        )
    return _Content(maintype, subtype, *common, content_id, description, encoding, None, size)


def decoded_text(part: MessageContent) -> str:
    """A text part's body as its reader sees it: transfer encoding and charset undone."""
    raw = bytes(MessageDecoder.of(part.header).decode(part.body))
    charset = str(part.body.content_type.params.get("charset") or "us-ascii")
    try:
        return raw.decode(charset, "replace")
    except LookupError:
        return raw.decode("latin-1")


def decoded_header(part: MessageContent) -> str:
    """The header with RFC 2047 encoded words decoded (the same decoding as SEARCH HEADER's
    ``decoded_headers``)."""
    return "".join(decode_words(bytes(value).decode("latin-1")) for _, value in part.header.folded)


class LoadedMessage(BaseLoadedMessage):
    """pymap's loaded message with ENVELOPE and BODYSTRUCTURE shaped as above, and SEARCH
    BODY/TEXT matching the decoded text too: ``importación`` is found in a
    quoted-printable ISO-8859-1 part, as Dovecot finds it."""

    def get_header(self, name: bytes) -> Sequence[str]:
        """SEARCH HEADER: ``decoded_headers`` (pymap gave its parsed fields)."""
        try:
            content = self.content
        except ValueError:  # no content loaded
            return []
        return decoded_headers(content, name.upper())

    def contains(self, value: bytes) -> bool:
        """SEARCH BODY and TEXT: each part's header and each text part's body, as sent and
        decoded, in linear time (pymap's own ``contains`` used a case-insensitive regular
        expression, quadratic in the worst case: ``gateway.imap.folding``)."""
        try:
            content = self.content
        except ValueError:  # no content loaded
            return False
        text = value.decode("utf-8", "replace")
        for part in content.walk():
            if contains_bytes(value, bytes(part.header)):
                return True
            if contains_text(text, decoded_header(part)):
                return True
            if part.body.content_type.maintype != "text":
                continue
            if contains_bytes(value, bytes(part.body)):
                return True
            if not part.body.has_nested and contains_text(text, decoded_text(part)):
                return True
        return False

    @classmethod
    def _get_envelope_structure(cls, msg: MessageContent) -> EnvelopeStructure:
        return RawEnvelope(msg)

    @classmethod
    def _get_body_structure(cls, msg: MessageContent) -> BodyStructure:
        return body_structure(msg)


class Snapshot(MailboxSnapshot):
    """A selected mailbox's state. PERMANENTFLAGS may hold ``\\*`` (keywords can be
    created); the FLAGS response lists flags only, never the wildcard (RFC 3501 §7.2.6)."""

    @property
    def flags(self) -> frozenset[Flag]:
        return frozenset(self.permanent_flags - {Wildcard}) | self.session_flags


# --- patches ---------------------------------------------------------------------------------

_Line = tuple[int, int, int]


def without_boundary_line_breaks(parts: Sequence[Sequence[_Line]]) -> list[list[_Line]]:
    """Each part's lines, its last line without the line break: that CRLF belongs to the
    boundary that follows (RFC 2046 §5.1.1), so ``BODY[1]`` and the part's size exclude it."""
    trimmed = []
    for part in parts:
        lines = list(part)
        if lines:
            start, end, _ = lines[-1]
            lines[-1] = (start, end, end)
        trimmed.append(lines)
    return trimmed


def _find_parts(
    cls: type[MessageBody], data: bytes, view: memoryview, lines: Sequence[_Line], boundary: bytes
) -> Sequence[Sequence[_Line]]:
    parts: Sequence[Sequence[_Line]] = _ORIGINAL_FIND_PARTS(data, view, lines, boundary)
    return without_boundary_line_breaks(parts)


_ORIGINAL_FIND_PARTS: Final = MessageBody._find_parts
_ORIGINAL_PARSE_SECTION: Final = FetchAttribute._parse_section
_ORIGINAL_RAW: Final = cast(
    "Callable[[FetchAttribute], bytes]", cast(property, FetchAttribute.__dict__["raw"]).fget
)
_ORDERED_HEADERS: Final[weakref.WeakKeyDictionary[FetchAttribute.Section, list[bytes]]] = (
    weakref.WeakKeyDictionary()
)


def _parse_section(
    cls: type[FetchAttribute], buf: memoryview, params: Any
) -> tuple[FetchAttribute.Section, memoryview]:
    section, after = _ORIGINAL_PARSE_SECTION(buf, params)
    if section.headers:
        consumed = bytes(buf[: len(buf) - len(after)]).upper()
        listed = consumed[consumed.index(b"(") + 1 : consumed.rindex(b")")]
        ordered = [name.strip(b'"') for name in listed.split()]
        _ORDERED_HEADERS[section] = list(dict.fromkeys(n for n in ordered if n in section.headers))
    return section, after


def _raw(self: FetchAttribute) -> bytes:
    if self._raw is not None:
        return bytes(self._raw)
    raw: bytes = _ORIGINAL_RAW(self)
    if self.value == b"BINARY.PEEK":
        raw = b"BINARY" + raw[len(b"BINARY.PEEK") :]
    section = self.section
    ordered = _ORDERED_HEADERS.get(section) if section is not None else None
    if section is not None and section.headers and ordered and len(ordered) == len(section.headers):
        start = raw.index(b" (") + 2
        raw = raw[:start] + b" ".join(ordered) + raw[raw.index(b")", start) :]
    self._raw = raw
    return raw


_installed = False


def install() -> None:
    """Apply the two pymap patches (idempotent; the IMAP server calls it when built)."""
    global _installed
    if _installed:
        return
    MessageBody._find_parts = classmethod(_find_parts)  # type: ignore[method-assign, assignment]
    FetchAttribute._parse_section = classmethod(_parse_section)  # type: ignore[method-assign, assignment]
    FetchAttribute.raw = property(_raw)  # type: ignore[method-assign, assignment]
    _installed = True
