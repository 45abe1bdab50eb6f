"""MIME bodies and skeletons as bytes (RFC 2045, 2046): text, attachments, multiparts.

Text goes out in quoted-printable, ISO-8859-1 when it can be (what the era's clients display
best) and UTF-8 otherwise; attachments in base64. The boundary of a multipart starts with
``=_``, which neither encoding can produce (RFC 2045 §6.7: ``=`` is always followed by two
hex digits or a line break; base64 has no ``_``), and is otherwise derived from the parts, so
the same mail is written the same way.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from gateway.mail.headers import LINE

__all__ = [
    "Part",
    "attachment",
    "base64_body",
    "literal_part",
    "message",
    "multipart",
    "qp_body",
    "structured",
    "text_charset",
    "text_part",
]

_ATTRIBUTE_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_BASE64_LINE: Final = 57
"""Octets per base64 line: 76 characters (RFC 2045 §6.8)."""
_BASE64_CHARS: Final = 76


@dataclass(frozen=True, slots=True)
class Part:
    """A MIME entity: its header fields (each ending in CRLF) and its encoded body."""

    headers: bytes
    body: bytes


def text_charset(text: str) -> str:
    """ISO-8859-1 when the text fits it, else UTF-8."""
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return "utf-8"
    return "iso-8859-1"


def qp_body(text: str, charset: str) -> bytes:
    """``text`` (lines ending in ``\\n``) in quoted-printable with CRLF line ends."""
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode(charset)
    return binascii.b2a_qp(data, istext=True)


def base64_body(data: bytes) -> bytes:
    """``data`` in base64, 76-character lines ending in CRLF."""
    # Encoded whole, then cut: 57 octets (a multiple of 3) are exactly one 76-character line.
    encoded = binascii.b2a_base64(data, newline=False)
    if not encoded:
        return b""
    return (
        b"\r\n".join(
            encoded[start : start + _BASE64_CHARS]
            for start in range(0, len(encoded), _BASE64_CHARS)
        )
        + b"\r\n"
    )


def _param(name: str, value: str) -> str:
    """A parameter of a structured field; quoted (RFC 2045 §5.1), RFC 2231 when not ASCII."""
    if value.isascii():
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{name}="{quoted}"'
    encoded = "".join(
        chr(octet) if chr(octet) in _ATTRIBUTE_CHARS else f"%{octet:02X}"
        for octet in value.encode("utf-8")
    )
    return f"{name}*=utf-8''{encoded}"


def structured(name: str, value: str, params: Mapping[str, str] = {}) -> bytes:
    """``Name: value; p="v"; ...`` folded before a parameter when a line would pass 78."""
    line = f"{name}: {value}"
    lines: list[str] = []
    for key, param in params.items():
        piece = _param(key, param)
        if len(line) + 2 + len(piece) > LINE:
            lines.append(line + ";")
            line = f" {piece}"
        else:
            line += f"; {piece}"
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def text_part(text: str, charset: str | None = None) -> Part:
    """A ``text/plain`` part in quoted-printable."""
    charset = charset or text_charset(text)
    return Part(_text_headers(charset), qp_body(text, charset))


@lru_cache(maxsize=16)  # two charsets in practice; written for every reply
def _text_headers(charset: str) -> bytes:
    headers = structured("Content-Type", "text/plain", {"charset": charset})
    return headers + b"Content-Transfer-Encoding: quoted-printable\r\n"


def literal_part(
    content_type: str, body: bytes, params: Mapping[str, str] = {}, *, encoding: str = "7bit"
) -> Part:
    """A part whose body goes as it is (``message/delivery-status``, ``text/rfc822-headers``
    and other types that may not be encoded, RFC 2046 §5.2.1; short-lined JSON).

    Line ends become CRLF; a line over 998 octets (RFC 5322 §2.1.1) is refused.
    """
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if any(len(line) > 998 for line in body.split(b"\r\n")):
        raise ValueError("a line of the body is longer than 998 octets")
    headers = structured("Content-Type", content_type, params)
    headers += f"Content-Transfer-Encoding: {encoding}\r\n".encode("ascii")
    return Part(headers, body)


def attachment(
    data: bytes, content_type: str, filename: str, params: Mapping[str, str] = {}
) -> Part:
    """An attachment in base64 with its file name."""
    headers = _attachment_type(content_type, tuple(params.items()))
    headers += structured("Content-Disposition", "attachment", {"filename": filename})
    return Part(headers, base64_body(data))


@lru_cache(maxsize=64)  # a few types; written for every reply
def _attachment_type(content_type: str, params: tuple[tuple[str, str], ...]) -> bytes:
    headers = structured("Content-Type", content_type, dict(params))
    return headers + b"Content-Transfer-Encoding: base64\r\n"


def boundary_for(parts: Sequence[Part]) -> str:
    """A boundary no part contains: ``=_`` and a digest of the parts."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.headers)
        digest.update(part.body)
    boundary = f"=_td{digest.hexdigest()[:32]}"
    for part in parts:  # a part in 7bit or 8bit might; never one this package encoded
        if f"--{boundary}".encode() in part.headers + part.body:
            raise ValueError("a part contains the boundary derived from it")
    return boundary


def multipart(
    subtype: str,
    parts: Sequence[Part],
    params: Mapping[str, str] = {},
    *,
    boundary: str | None = None,
) -> Part:
    """A ``multipart/<subtype>`` of ``parts``."""
    boundary = boundary or boundary_for(parts)
    headers = structured("Content-Type", f"multipart/{subtype}", {**params, "boundary": boundary})
    body = b"".join(
        b"--" + boundary.encode() + b"\r\n" + part.headers + b"\r\n" + _ended(part.body)
        for part in parts
    )
    return Part(headers, body + b"--" + boundary.encode() + b"--\r\n")


def _ended(body: bytes) -> bytes:
    """A part's body ends in CRLF before the next delimiter (RFC 2046 §5.1.1)."""
    return body if body.endswith(b"\r\n") or not body else body + b"\r\n"


def message(fields: Sequence[bytes], content: Part) -> bytes:
    """A whole message: header fields, ``MIME-Version``, the content's fields, the body."""
    return b"".join(fields) + b"MIME-Version: 1.0\r\n" + content.headers + b"\r\n" + content.body
