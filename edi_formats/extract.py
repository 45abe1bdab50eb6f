"""Finding the declarations in an agent's mail.

Agents used whatever client they had: declarations arrive as MIME attachments of any content
type and file name, pasted into the text body (several per mail, between a greeting and a
signature), or as 1997-style ``begin 644 NAME`` uuencoded blocks inside the text. This module
walks the MIME tree, finds every declaration by its content (see ``detect``) and keeps a
note of everything else, so that a mail with nothing readable gets an answer that says what
was found. It never raises: a broken part becomes a note, not a crash.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.header
import email.policy
import email.utils
import html
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from edi_formats.detect import FLAT_SIGNATURE, WireFormat
from edi_formats.edifact.scan import declared_codec, interchange_end
from edi_formats.flatfile.envelope import python_codec, read_envelope
from edi_formats.flowed import unflow
from edi_formats.json_limits import over_json_limits
from edi_formats.mimetree import well_formed_tree

__all__ = [
    "MAX_DOCUMENTS",
    "ExtractedDocument",
    "ExtractionResult",
    "extract_documents",
]

MAX_DOCUMENTS: Final = 100
"""Declarations answered per mail; more are reported in a note, not processed."""

_MAX_MIME_DEPTH: Final = 12
_MAX_UU_DEPTH: Final = 2
_MAX_JSON_ATTEMPTS: Final = 50
_MAX_UU_BLOCKS: Final = 100
_MAX_NOTES: Final = 50

_FLAT_START: Final = re.compile(rb"^[ \t]*(?:\xef\xbb\xbf)?" + re.escape(FLAT_SIGNATURE), re.M)
_FLAT_RECORD_LINE: Final = re.compile(rb"^[A-Z0-9]{3}\|[^\r\n]*(?:\r?\n)?", re.M)
_FLAT_TRAILER: Final = re.compile(rb"^TRL\|[^\r\n]*(?:\r?\n)?", re.M)
_EDIFACT_START: Final = re.compile(rb"^[ \t]*(?:UNA[^\r\n]{6}|UNB[^A-Za-z0-9\r\n])", re.M)
_JSON_START: Final = re.compile(rb"^[ \t]*\{", re.M)
_JSON_DISCRIMINATOR: Final = b'"document_type"'
_UU_BEGIN: Final = re.compile(rb"^begin[ \t]+([0-7]{3,4})[ \t]+([^\r\n]*?)[ \t]*\r?$", re.M)
_UU_END: Final = re.compile(rb"^end[ \t]*\r?$", re.M)
_HTML_BREAK: Final = re.compile(r"<\s*(?:br|/p|/div|/pre|/tr|/li)\b[^>]*>", re.I)
_HTML_TAG: Final = re.compile(r"<[^>]*>")
_HTML_HIDDEN: Final = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)
_UNPRINTABLE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UU_TRANSFER_ENCODINGS: Final = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})


@dataclass(frozen=True)
class ExtractedDocument:
    """One declaration found in a mail: its bytes, where it was found, and its format."""

    data: bytes
    source: str
    format: WireFormat | None


@dataclass(frozen=True)
class ExtractionResult:
    """The declarations of a mail, and notes on every part that held none."""

    documents: list[ExtractedDocument] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    format: WireFormat


class _Collector:
    """Accumulates documents and notes; enforces MAX_DOCUMENTS."""

    def __init__(self) -> None:
        self.documents: list[ExtractedDocument] = []
        self.notes: list[str] = []
        self.dropped = 0
        self.more_than_counted = False
        self.unnoted = 0

    def add(self, document: ExtractedDocument) -> None:
        if len(self.documents) >= MAX_DOCUMENTS:
            self.dropped += 1
        else:
            self.documents.append(document)

    def note(self, text: str) -> None:
        if len(self.notes) >= _MAX_NOTES:
            self.unnoted += 1
        else:
            self.notes.append(text)

    def result(self) -> ExtractionResult:
        notes = list(self.notes)
        if self.unnoted:
            notes.append(f"(se omiten {self.unnoted} avisos más)")
        if self.dropped:
            at_least = "al menos " if self.more_than_counted else ""
            notes.append(
                f"se ignoraron {at_least}{self.dropped} declaraciones más allá del máximo de "
                f"{MAX_DOCUMENTS} por mensaje; envíelas en otro mensaje"
            )
        return ExtractionResult(documents=list(self.documents), notes=notes)


def extract_documents(raw_mail: bytes) -> ExtractionResult:
    """Every declaration in ``raw_mail`` (RFC 5322 bytes), in the order they appear.

    Never raises but ``MemoryError``: the mail is then beyond the memory its reader may
    take, which its caller answers. A mail without declarations gives no documents and
    notes that say what the mail held instead.
    """
    collector = _Collector()
    try:
        # compat32: the modern policy builds a header object for every header of every part,
        # about eight times the cost; extraction needs only types, parameters and payloads.
        # A well-formed mail's tree is split without the feed parser (``mimetree``).
        message = well_formed_tree(raw_mail) or email.message_from_bytes(
            raw_mail, policy=email.policy.compat32
        )
        too_deep: list[Message] = []
        leaves = list(_leaf_parts(message, 0, too_deep))
    except MemoryError:
        raise
    except Exception as exc:  # the stdlib parser is lenient; this is a last resort
        collector.note(f"mensaje ilegible ({type(exc).__name__}); se examina como texto")
        _scan(raw_mail, "mensaje", collector, uu_depth=0, transcode_from=None)
        return collector.result()
    body_seen = False
    for number, part in enumerate(leaves, start=1):
        label = f"parte {number}"
        try:
            params = _Params(part)
            label, is_body = _describe(part, params, body_seen)
            body_seen = body_seen or is_body
            _process_part(part, params, label, is_body, collector)
        except MemoryError:
            raise
        except Exception as exc:  # one broken part must not hide the others
            collector.note(f"{label}: ilegible ({type(exc).__name__})")
    if too_deep:
        collector.note(
            f"{len(too_deep)} parte(s) multipart anidada(s) a más de {_MAX_MIME_DEPTH} niveles "
            "no se examinaron; adjunte la declaración directamente al mensaje"
        )
    return collector.result()


def _leaf_parts(part: Message, depth: int, too_deep: list[Message]) -> Iterator[Message]:
    """Leaves of the MIME tree; of a multipart/alternative, only the plain-text choice.

    Containers below ``_MAX_MIME_DEPTH`` are not opened; they are added to ``too_deep``
    so that the answer can say what was skipped.
    """
    if not part.is_multipart():
        yield part
        return
    if depth >= _MAX_MIME_DEPTH:
        too_deep.append(part)
        return
    payload = part.get_payload()
    children = [child for child in payload if isinstance(child, Message)]
    if part.get_content_type() == "multipart/alternative" and children:
        plain = [child for child in children if child.get_content_type() == "text/plain"]
        children = plain[:1] or children[:1]
    for child in children:
        yield from _leaf_parts(child, depth + 1, too_deep)


def _clean_name(name: str) -> str:
    return _UNPRINTABLE.sub("?", name)[:80]


def _decoded(name: str) -> str:
    """A file name as the client wrote it, RFC 2047 encoded words decoded (compat32 does not)."""
    if "=?" not in name:
        return name
    try:
        return str(email.header.make_header(email.header.decode_header(name)))
    except (ValueError, LookupError, UnicodeError):  # a broken encoded word stays as sent
        return name


_ParamValue = str | tuple[str, str, str]


def _field_params(part: Message, header: str) -> Mapping[str, _ParamValue] | None:
    """``part.get_params(header=header)`` by lower-cased name, the first of each name kept
    (what ``part.get_param`` finds); None when the part has no such field."""
    value = part.get(header)
    if isinstance(value, str):
        return _params_of(header, value)
    if value is None:
        return None
    return _first_of_each(part.get_params(header=header))  # a field the policy sanitized


@lru_cache(maxsize=256)
def _params_of(header: str, value: str) -> Mapping[str, _ParamValue] | None:
    """The parameters of a field, parsed by the email package as it parses a part's.

    Parts' fields recur from mail to mail (``text/plain; charset="utf-8"``, the agent's
    software's ``attachment; filename="DUA.TXT"``), and the email package parses the whole
    field for every parameter asked. A malformed field raises on every call, as it does.
    """
    probe = Message(policy=email.policy.compat32)
    probe[header] = value
    return _first_of_each(probe.get_params(header=header))


def _first_of_each(
    params: Sequence[tuple[str, _ParamValue]] | None,
) -> Mapping[str, _ParamValue] | None:
    if params is None:
        return None
    found: dict[str, _ParamValue] = {}
    for key, value in params:
        found.setdefault(key.lower(), value)
    return MappingProxyType(found)  # shared by every part with the same field


class _Params:
    """A part's Content-Type parameters, parsed on first use and then kept: ``get_param``
    parses the whole field again for every parameter asked (charset, format, name...)."""

    __slots__ = ("_found", "_part")

    def __init__(self, part: Message) -> None:
        self._part = part
        self._found: Mapping[str, _ParamValue] | None = None

    def get(self, name: str) -> _ParamValue | None:
        """What ``part.get_param(name)`` gives (the first parameter of that name, unquoted);
        None when absent. A malformed field raises as ``get_param`` does, on every call."""
        if self._found is None:
            self._found = _field_params(self._part, "content-type") or {}
        return self._found.get(name)


def _filename(part: Message, params: _Params) -> str | None:
    """``part.get_filename()``: the Content-Disposition's filename, else the Content-Type's
    name (from ``params``, parsed once)."""
    disposition = _field_params(part, "content-disposition")
    filename: _ParamValue | None = None if disposition is None else disposition.get("filename")
    if filename is None:
        filename = params.get("name")
        if filename is None:
            return None
    assert isinstance(filename, str | tuple)
    return email.utils.collapse_rfc2231_value(filename).strip()


def _describe(part: Message, params: _Params, body_seen: bool) -> tuple[str, bool]:
    """A Spanish label for the part ("adjunto DUA.TXT", "cuerpo"), and whether it is the body."""
    try:
        filename = _filename(part, params)
    except MemoryError:
        raise
    except Exception:  # malformed RFC 2231 parameters
        filename = None
    if filename:
        return f"adjunto {_clean_name(_decoded(filename))}", False
    disposition = (part.get_content_disposition() or "").lower()
    if part.get_content_maintype() == "text" and disposition != "attachment" and not body_seen:
        return "cuerpo", True
    return f"adjunto sin nombre ({_clean_name(part.get_content_type())})", False


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _param(params: _Params, name: str) -> str | None:
    """A Content-Type parameter, lower-cased; None when absent or malformed."""
    value = params.get(name)
    return value.strip().lower() if isinstance(value, str) else None


def _declared_charset(params: _Params) -> str | None:
    """The part's charset parameter when Python knows it; None otherwise."""
    charset = params.get("charset")
    if not isinstance(charset, str):
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _process_part(
    part: Message, params: _Params, label: str, is_body: bool, collector: _Collector
) -> None:
    data = _payload_bytes(part)
    content_type = part.get_content_type()
    transcode_from = _declared_charset(params) if is_body else None
    if content_type == "text/html" and is_body:
        data = _html_to_text(data, transcode_from)
        transcode_from = "utf-8"
    elif content_type == "text/plain" and _param(params, "format") == "flowed":
        data = unflow(data, delsp=_param(params, "delsp") == "yes")
    found = _scan(data, label, collector, uu_depth=0, transcode_from=transcode_from)
    if not found:
        _note_nothing(data, label, content_type, collector)


def _note_nothing(data: bytes, label: str, content_type: str, collector: _Collector) -> None:
    if not data.strip():
        if label != "cuerpo":
            collector.note(f"{label} ({content_type}): vacío")
        return
    if label == "cuerpo":
        collector.note(f"cuerpo: texto sin declaración ({len(data)} bytes)")
    else:
        collector.note(
            f"{label} ({content_type}, {len(data)} bytes): no contiene una declaración"
            " en un formato reconocido"
        )


def _html_to_text(data: bytes, charset: str | None) -> bytes:
    text = data.decode(charset or "latin-1", "replace")
    text = _HTML_HIDDEN.sub("", text)
    text = _HTML_BREAK.sub("\n", text)
    text = html.unescape(_HTML_TAG.sub("", text))
    return text.replace("\xa0", " ").encode("utf-8")


def _scan(
    data: bytes, label: str, collector: _Collector, *, uu_depth: int, transcode_from: str | None
) -> bool:
    """Add every declaration in ``data``, decoding uuencoded blocks; True if any was found."""
    found_any = False
    masked = bytearray()
    cursor = 0
    for block_number, (start, end, name, content) in enumerate(_uu_blocks(data), start=1):
        masked += data[cursor:start]
        masked += b"\n" * data.count(b"\n", start, end)  # keep line structure, drop the block
        cursor = end
        block_label = f"bloque uuencode {block_number} ({_clean_name(name)})"
        if label != "cuerpo":
            block_label = f"{label}, {block_label}"
        if content is None:
            collector.note(f"{block_label}: datos uuencode ilegibles")
            continue
        if uu_depth >= _MAX_UU_DEPTH:
            collector.note(f"{block_label}: bloques uuencode anidados demasiado profundos")
            continue
        if _scan(content, block_label, collector, uu_depth=uu_depth + 1, transcode_from=None):
            found_any = True
        else:
            _note_nothing(content, block_label, "uuencode", collector)
    if cursor:
        masked += data[cursor:]
        text = bytes(masked)
    else:
        text = data
    spans, more = _find_spans(text, MAX_DOCUMENTS + 1)
    if more:
        collector.more_than_counted = True
    for index, span in enumerate(spans, start=1):
        source = label if len(spans) == 1 else f"{label}, declaración {index}"
        chunk = text[span.start : span.end]
        if transcode_from is not None:
            chunk = _transcode(chunk, span.format, transcode_from)
        collector.add(ExtractedDocument(data=chunk, source=source, format=span.format))
    return found_any or bool(spans)


def _uu_blocks(data: bytes) -> Iterator[tuple[int, int, str, bytes | None]]:
    """``(start, end, file name, decoded bytes or None when unreadable)`` per uuencoded block."""
    if b"begin" not in data:
        return
    position = 0
    for _ in range(_MAX_UU_BLOCKS):
        begin = _UU_BEGIN.search(data, position)
        if begin is None:
            return
        end_match = _UU_END.search(data, begin.end())
        end = end_match.end() if end_match else len(data)
        body_end = end_match.start() if end_match else len(data)
        name = begin.group(2).decode("latin-1")
        yield begin.start(), end, name, _uudecode(data[begin.end() : body_end])
        position = end


def _uudecode(block: bytes) -> bytes | None:
    """Decode uuencoded lines with binascii (tolerating the padding of broken encoders)."""
    out = bytearray()
    for raw_line in block.splitlines():
        line = raw_line.rstrip(b" \t\r") or b""
        if not line:
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            declared = ((line[0] - 32) & 63) * 4 + 5
            try:
                out += binascii.a2b_uu(line[: declared // 3])
            except binascii.Error:
                return None
    return bytes(out)


class _Starts:
    """Where the next declaration may start, per format, searched lazily from a position.

    Searching again only from the end of the last declaration keeps a part with millions of
    candidate lines (``{`` lines, repeated envelopes) linear.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._patterns: dict[WireFormat, tuple[re.Pattern[bytes], int]] = {}
        if FLAT_SIGNATURE in data:
            self._patterns[WireFormat.FLAT] = (_FLAT_START, len(data))
        if b"UN" in data:
            self._patterns[WireFormat.EDIFACT] = (_EDIFACT_START, len(data))
        last_discriminator = data.rfind(_JSON_DISCRIMINATOR)
        if last_discriminator >= 0:
            self._patterns[WireFormat.JSON] = (_JSON_START, last_discriminator)
        self._next: dict[WireFormat, int] = {}
        for fmt in list(self._patterns):
            self._search(fmt, 0)

    def _search(self, fmt: WireFormat, position: int) -> None:
        pattern, stop = self._patterns[fmt]
        found = pattern.search(self._data, position, stop)
        if found is None:
            self.drop(fmt)
        else:
            self._next[fmt] = found.start()

    def drop(self, fmt: WireFormat) -> None:
        self._patterns.pop(fmt, None)
        self._next.pop(fmt, None)

    def first_from(self, position: int) -> tuple[int, WireFormat] | None:
        """The first candidate start at or after ``position``."""
        for fmt, at in list(self._next.items()):
            if at < position:
                self._search(fmt, position)
        if not self._next:
            return None
        fmt = min(self._next, key=self._next.__getitem__)
        return self._next[fmt], fmt


def _find_spans(data: bytes, max_spans: int) -> tuple[list[_Span], bool]:
    """Where each declaration starts and ends in ``data``, in order (at most ``max_spans``).

    Also says whether the search stopped at ``max_spans`` with more candidates left.
    """
    starts = _Starts(data)
    as_text = data.decode("latin-1")  # one character per byte: JSON offsets stay byte offsets
    spans: list[_Span] = []
    position = 0
    json_attempts = 0
    while len(spans) < max_spans:
        found = starts.first_from(position)
        if found is None:
            return spans, False
        start, fmt = found
        following = starts.first_from(start + 1)
        limit = following[0] if following else len(data)
        end: int | None
        if fmt is WireFormat.FLAT:
            end = _flat_end(data, start, limit)
        elif fmt is WireFormat.EDIFACT:
            end = _edifact_end(data, start, limit)
        else:
            json_attempts += 1
            if json_attempts >= _MAX_JSON_ATTEMPTS:
                starts.drop(WireFormat.JSON)
            end = _json_end(data, as_text, start)
        if end is None:
            position = start + 1
            continue
        spans.append(_Span(start, end, fmt))
        position = end
    return spans, starts.first_from(position) is not None


def _flat_end(data: bytes, start: int, limit: int) -> int:
    """End of a flat file: after its trailer record, else after its last record-like line."""
    trailer = _FLAT_TRAILER.search(data, start, limit)
    if trailer is not None:
        return trailer.end()
    position = data.find(b"\n", start, limit)
    end = limit if position < 0 else position + 1
    for record in _FLAT_RECORD_LINE.finditer(data, end, limit):
        if record.start() != end:
            break
        end = record.end()
    return end


def _edifact_end(data: bytes, start: int, limit: int) -> int:
    """End of an interchange: after the ``UNZ`` segment's terminator, else the text's end."""
    return interchange_end(data, start, limit)


def _json_end(data: bytes, as_text: str, start: int) -> int | None:
    """End of the JSON declaration at ``start``; None when it is not one.

    ``as_text`` is ``data`` decoded as ISO-8859-1, so character offsets are byte offsets
    (JSON's structure is ASCII; what strings hold does not matter here). Well-formed JSON ends
    where the object does. A malformed object that names ``document_type`` is still a
    declaration (its reply must say what is wrong), taken up to its last ``}``; so is one too
    large to parse (``json_limits``).
    """
    opening = as_text.index("{", start)
    if over_json_limits(data, opening) is not None:  # the reader refuses it, unparsed
        return _unparsed_json_end(data, start)
    try:
        value, end = json.JSONDecoder().raw_decode(as_text, opening)
    except (ValueError, RecursionError):
        return _unparsed_json_end(data, start)
    if not isinstance(value, dict) or "document_type" not in value:
        return None
    return end


def _unparsed_json_end(data: bytes, start: int) -> int | None:
    """End of a JSON declaration that could not be parsed: its last ``}``; None when it
    names no ``document_type``."""
    if data.find(_JSON_DISCRIMINATOR, start) < 0:
        return None
    closing = data.rfind(b"}", start)
    return closing + 1 if closing > start else len(data)


def _transcode(chunk: bytes, fmt: WireFormat, charset: str) -> bytes:
    """Re-encode a declaration pasted into a text body in the encoding it declares.

    The mail client re-encoded the pasted text in the body's charset; the flat file's
    envelope still names the encoding the agent's software wrote. Decoding with the body's
    charset and encoding back with the declared one restores what the software wrote. An
    EDIFACT interchange goes back to the codec of the syntax level its UNB declares (UNOC:
    ISO 8859-1...), JSON to UTF-8. Anything that does not convert cleanly is left as it came.
    """
    try:
        text = chunk.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return chunk
    target = "utf-8"
    if fmt is WireFormat.FLAT:
        declared = _flat_declared_encoding(text)
        if declared is not None:
            target = declared
    elif fmt is WireFormat.EDIFACT:
        declared_edifact = declared_codec(text)
        if declared_edifact is None:
            return chunk
        target = declared_edifact
    try:
        return text.encode(target)
    except (UnicodeEncodeError, LookupError):
        return chunk


def _flat_declared_encoding(text: str) -> str | None:
    """The Python codec of the encoding named in a flat file's envelope record, if any."""
    first_line = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    envelope = read_envelope(first_line)
    return python_codec(envelope.encoding) if envelope else None
