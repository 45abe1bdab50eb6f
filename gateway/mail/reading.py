"""Reading a few header fields of a received mail from its bytes, without the email package.

Answering a submission needs its Message-ID, References, Subject and the fields that say a
program sent it; parsing the whole header with ``email.policy.default`` costs more than the
rest of reading it. Here the header section is cut at the first empty line, unfolded
(RFC 5322 §2.2.3), the wanted fields taken by name (the first occurrence), and RFC 2047
encoded words decoded where asked. Malformed input never raises: what cannot be read is left
out or kept as it is.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Collection
from typing import Final

__all__ = ["decode_words", "header_values"]

MAX_HEADER: Final = 256 * 1024
"""Header bytes looked at: a submission's header section is never this long."""
_FOLD: Final = re.compile(rb"\r?\n(?=[ \t])")
_FIELD: Final = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$", re.DOTALL)
_ENCODED: Final = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")
_BETWEEN_WORDS: Final = re.compile(r"(\?=)\s+(=\?)")


def _head(raw: bytes) -> bytes:
    raw = raw[:MAX_HEADER]
    ends = [at for at in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if at >= 0]
    return raw[: min(ends)] if ends else raw


def header_values(raw: bytes, names: Collection[str]) -> dict[str, str]:
    """The first value of each of ``names`` (lower case) in the mail's header, unfolded.

    Bytes outside ASCII are read as UTF-8 (RFC 6532), replaced where they are not.
    """
    wanted = {name.lower() for name in names}
    found: dict[str, str] = {}
    for line in _FOLD.sub(b"", _head(raw)).splitlines():
        match = _FIELD.match(line)
        if match is None:
            continue
        name = match[1].decode("ascii").lower()
        if name in wanted and name not in found:
            found[name] = match[2].decode("utf-8", "replace").strip()
            if len(found) == len(wanted):
                break
    return found


def _decoded(match: re.Match[str]) -> str:
    charset, encoding, text = match[1].split("*", 1)[0], match[2].lower(), match[3]
    try:
        if encoding == "q":
            data = binascii.a2b_qp(text.replace("_", " ").encode("ascii"), header=True)
        else:
            data = binascii.a2b_base64(text.encode("ascii") + b"==")
    except (ValueError, binascii.Error):
        return match[0]
    try:
        return data.decode(charset, "replace")
    except LookupError:  # a charset Python does not know: its ASCII still reads
        return data.decode("utf-8", "replace")


def decode_words(value: str) -> str:
    """``value`` with its RFC 2047 encoded words decoded (space between two of them is not
    part of the text, §6.2)."""
    if "=?" not in value:
        return value
    return _ENCODED.sub(_decoded, _BETWEEN_WORDS.sub(r"\1\2", value))
