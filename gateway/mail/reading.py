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
from collections.abc import Collection, Iterable
from email.utils import getaddresses
from functools import lru_cache
from typing import Final

__all__ = ["addresses", "decode_words", "header_values"]

MAX_HEADER: Final = 256 * 1024
"""Header bytes looked at: a submission's header section is never this long."""
_FOLD: Final = re.compile(rb"\r?\n(?=[ \t])")
_CRLF_FOLD: Final = re.compile(rb"\r\n(?=[ \t])")
_LF_FOLD: Final = re.compile(rb"\n(?=[ \t])")
_ENCODED: Final = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")
_BETWEEN_WORDS: Final = re.compile(r"(\?=)\s+(=\?)")


def _head(raw: bytes) -> bytes:
    """The header section: up to the first empty line (CRLF or bare LF), within
    ``MAX_HEADER``. The search for a bare-LF end stops at the CRLF one: in a CRLF mail
    there is none, and looking for it went through the whole message."""
    end = raw.find(b"\r\n\r\n", 0, MAX_HEADER)
    bare = raw.find(b"\n\n", 0, MAX_HEADER if end < 0 else end + 1)
    ends = [at for at in (end, bare) if at >= 0]
    return raw[: min(ends)] if ends else raw[:MAX_HEADER]


def _unfolded(head: bytes) -> bytes:
    """``head`` with each line break before a space or tab taken out (RFC 5322 §2.2.3).

    In two passes, CRLF then bare LF: an expression that starts with a fixed "\\r\\n" or
    "\\n" is searched for several times faster than one with an optional "\\r" first. The
    second pass would also join a bare LF to a line the first one unfolded: a header with
    LF then CRLF before a blank is unfolded in one pass, as such.
    """
    if b"\n\r\n" in head:
        return _FOLD.sub(b"", head)
    return _LF_FOLD.sub(b"", _CRLF_FOLD.sub(b"", head))


@lru_cache(maxsize=16)  # the same few names for every submission
def _as_bytes(names: tuple[str, ...]) -> frozenset[bytes]:
    return frozenset(name.lower().encode("ascii") for name in names)


def header_values(raw: bytes, names: Collection[str]) -> dict[str, str]:
    """The first value of each of ``names`` (lower case) in the mail's header, unfolded.

    Bytes outside ASCII are read as UTF-8 (RFC 6532), replaced where they are not.
    """
    wanted = _as_bytes(tuple(names))
    found: dict[str, str] = {}
    head = _head(raw)
    if b"\n " in head or b"\n\t" in head:  # a folded field
        head = _unfolded(head)
    for line in head.splitlines():
        # A field is ``name: value``, the name printable ASCII but ":" (RFC 5322 §2.2), then
        # optional blanks: what is before the first ":" is the name when it is a wanted one.
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        name = name.rstrip(b" \t").lower()
        if name in wanted:
            key = name.decode("ascii")
            if key not in found:
                found[key] = value.decode("utf-8", "replace").strip()
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


def addresses(fields: Iterable[str]) -> list[tuple[str, str]]:
    """The (display name, address) pairs of address fields' values, as
    ``email.utils.getaddresses`` reads them; none from fields nested deeper than it can read.

    RFC 5322 comments nest, and that parser recurses once a level: a ``From:`` of 3 000
    parentheses, which anyone can write, raised ``RecursionError`` wherever it was read (an
    SMTP ``451`` and a traceback of thousands of lines at each retry; an IMAP session ended).
    Such a field holds no address that can be read. (Upstream, CPython's
    ``email._parseaddr`` would read comments with a loop and a depth count.)
    """
    try:
        return getaddresses(list(fields))
    except RecursionError:
        return []
