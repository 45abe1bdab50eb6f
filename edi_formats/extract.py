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
import email.policy
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Final

from edi_formats.detect import FLAT_SIGNATURE, WireFormat, strip_preamble
from edi_formats.flatfile.envelope import python_codec, read_envelope

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

    def add(self, document: ExtractedDocument) -> None:
        if len(self.documents) >= MAX_DOCUMENTS:
            self.dropped += 1
        else:
            self.documents.append(document)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def result(self) -> ExtractionResult:
        notes = list(self.notes)
        if self.dropped:
            notes.append(
                f"se ignoraron {self.dropped} declaraciones más allá del máximo de "
                f"{MAX_DOCUMENTS} por mensaje; envíelas en otro mensaje"
            )
        return ExtractionResult(documents=list(self.documents), notes=notes)


def extract_documents(raw_mail: bytes) -> ExtractionResult:
    """Every declaration in ``raw_mail`` (RFC 5322 bytes), in the order they appear.

    Never raises. A mail without declarations gives no documents and notes that say what
    the mail held instead.
    """
    collector = _Collector()
    try:
        message = email.message_from_bytes(raw_mail, policy=email.policy.default)
        leaves = list(_leaf_parts(message, 0))
    except Exception as exc:  # the stdlib parser is lenient; this is a last resort
        collector.note(f"mensaje ilegible ({type(exc).__name__}); se examina como texto")
        _scan(raw_mail, "mensaje", collector, uu_depth=0, transcode_from=None)
        return collector.result()
    body_seen = False
    for number, part in enumerate(leaves, start=1):
        label = f"parte {number}"
        try:
            label, is_body = _describe(part, body_seen)
            body_seen = body_seen or is_body
            _process_part(part, label, is_body, collector)
        except Exception as exc:  # one broken part must not hide the others
            collector.note(f"{label}: ilegible ({type(exc).__name__})")
    return collector.result()


def _leaf_parts(part: Message, depth: int) -> Iterator[Message]:
    """Leaves of the MIME tree; of a multipart/alternative, only the plain-text choice."""
    if not part.is_multipart():
        yield part
        return
    if depth >= _MAX_MIME_DEPTH:
        return
    payload = part.get_payload()
    children = [child for child in payload if isinstance(child, Message)]
    if part.get_content_type() == "multipart/alternative" and children:
        plain = [child for child in children if child.get_content_type() == "text/plain"]
        children = plain[:1] or children[:1]
    for child in children:
        yield from _leaf_parts(child, depth + 1)


def _clean_name(name: str) -> str:
    return _UNPRINTABLE.sub("?", name)[:80]


def _describe(part: Message, body_seen: bool) -> tuple[str, bool]:
    """A Spanish label for the part ("adjunto DUA.TXT", "cuerpo"), and whether it is the body."""
    try:
        filename = part.get_filename()
    except Exception:  # malformed RFC 2231 parameters
        filename = None
    if filename:
        return f"adjunto {_clean_name(filename)}", False
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


def _declared_charset(part: Message) -> str | None:
    """The part's charset parameter when Python knows it; None otherwise."""
    charset = part.get_param("charset")
    if not isinstance(charset, str):
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _process_part(part: Message, label: str, is_body: bool, collector: _Collector) -> None:
    data = _payload_bytes(part)
    content_type = part.get_content_type()
    transcode_from = _declared_charset(part) if is_body else None
    if content_type == "text/html" and is_body:
        data = _html_to_text(data, transcode_from)
        transcode_from = "utf-8"
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
    spans = _find_spans(text)
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
    while True:
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


def _find_spans(data: bytes) -> list[_Span]:
    """Where each declaration starts and ends in ``data``, in order."""
    starts: list[tuple[int, WireFormat]] = []
    if FLAT_SIGNATURE in data:
        starts += [(m.start(), WireFormat.FLAT) for m in _FLAT_START.finditer(data)]
    if b"UN" in data:
        starts += [(m.start(), WireFormat.EDIFACT) for m in _EDIFACT_START.finditer(data)]
    last_discriminator = data.rfind(_JSON_DISCRIMINATOR)
    if last_discriminator >= 0:
        starts += [
            (m.start(), WireFormat.JSON) for m in _JSON_START.finditer(data, 0, last_discriminator)
        ]
    starts.sort()
    spans: list[_Span] = []
    covered = 0
    json_attempts = 0
    for index, (start, fmt) in enumerate(starts):
        if start < covered:
            continue
        limit = next((s for s, _ in starts[index + 1 :] if s > start), len(data))
        end: int | None
        if fmt is WireFormat.FLAT:
            end = _flat_end(data, start, limit)
        elif fmt is WireFormat.EDIFACT:
            end = _edifact_end(data, start, limit)
        else:
            if json_attempts >= _MAX_JSON_ATTEMPTS:
                continue
            json_attempts += 1
            end = _json_end(data, start)
        if end is None:
            continue
        spans.append(_Span(start, end, fmt))
        covered = end
    return spans


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
    head = strip_preamble(data[start : start + 16])
    terminator = head[8:9] if head.startswith(b"UNA") and len(head) > 8 else b"'"
    unz = data.find(b"UNZ", start, limit)
    if unz >= 0:
        stop = data.find(terminator, unz, limit)
        if stop >= 0:
            return stop + 1
    return start + len(data[start:limit].rstrip())


def _json_end(data: bytes, start: int) -> int | None:
    """End of the JSON declaration at ``start``; None when it is not one.

    Well-formed JSON ends where the object does. A malformed object that names
    ``document_type`` is still a declaration (its reply must say what is wrong), taken up
    to its last ``}``.
    """
    text = data[start:].decode("utf-8", "surrogateescape")
    offset = len(text) - len(text.lstrip())
    try:
        value, end_char = json.JSONDecoder().raw_decode(text, offset)
    except (ValueError, RecursionError):
        closing = data.rfind(b"}", start)
        if data.find(_JSON_DISCRIMINATOR, start) < 0:
            return None
        return closing + 1 if closing > start else len(data)
    if not isinstance(value, dict) or "document_type" not in value:
        return None
    return start + len(text[:end_char].encode("utf-8", "surrogateescape"))


def _transcode(chunk: bytes, fmt: WireFormat, charset: str) -> bytes:
    """Re-encode a declaration pasted into a text body in the encoding it declares.

    The mail client re-encoded the pasted text in the body's charset; the flat file's
    envelope still names the encoding the agent's software wrote. Decoding with the body's
    charset and encoding back with the declared one restores what the software wrote. JSON
    goes to UTF-8. Anything that does not convert cleanly is left as it came.
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
        return chunk
    try:
        return text.encode(target)
    except (UnicodeEncodeError, LookupError):
        return chunk


def _flat_declared_encoding(text: str) -> str | None:
    """The Python codec of the encoding named in a flat file's envelope record, if any."""
    first_line = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    envelope = read_envelope(first_line)
    return python_codec(envelope.encoding) if envelope else None
