"""Local fixes to pymap's command parsing, its response formatting and its reading of header
fields, installed before pymap parses anything.

``install()`` runs when ``gateway.imap`` is imported (the package's first statement), so no
IMAP connection of this node ever meets the unpatched code. Each fix says what the upstream
fix is; drop it when pymap ships that fix (checked against pymap 0.36.7).

1. **Modified UTF-7 (RFC 3501 section 5.1.3).** ``pymap.parsing.modutf7.modutf7_decode``
   loops forever on a ``&`` shift that no ``-`` closes (``SELECT "Bad&Jjo"``, before login):
   its inner ``for`` loop finds no ``-``, leaves the buffer as it was, and the outer
   ``while buf`` starts over. It also accepts what RFC 3501 forbids (8-bit bytes, printable
   ASCII inside a shift, bad base64). Upstream fix: end the shift at the end of the input
   by raising, and validate the base64 and the UTF-16 it carries, as ``decode_modutf7``
   below does. Invalid names are refused with ``BAD`` (pymap answers ``NotParseable`` so).
2. **Modified UTF-7, the other way.** ``modutf7_encode`` writes an ``&`` that directly follows
   non-ASCII characters as a bare ``&`` (``"á&"`` becomes ``&AOE-&``), which no client, nor
   the decoder above, can read back. Upstream fix: write ``&-`` there too, as
   ``encode_modutf7`` does.
3. **SEARCH strings without CHARSET.** ``SearchKey._parse_astring_filter`` decodes them as
   ASCII and lets the ``UnicodeDecodeError`` of 8-bit bytes escape the parser, which drops the
   connection. Upstream fix: turn a decoding failure into ``NotParseable``. We also do as
   Dovecot does and read a string without CHARSET as UTF-8 (US-ASCII is a subset of it);
   bytes that are not valid in the charset get ``BAD``.
4. **Response formatting speed.** ``BytesFormat.__mod__`` (``b"%b" % value`` for every piece
   of every response) decides whether it got one value or many with ``isinstance`` against
   ``typing.SupportsIndex`` and ``SupportsBytes``: runtime protocol checks that walk the
   protocol's attributes on each call, tens of microseconds apiece, a fifth of a single
   ``UID FETCH``'s cost. Upstream fix: test for ``__index__``/``__bytes__`` (what those
   protocol checks mean) with ``hasattr``, as ``_format_mod`` below does.
5. **Header fields nested too deeply, or too long.** ``ParsedHeaders`` parses each field
   with the standard library's header registry. Its parser recurses once per level of an
   RFC 5322 comment: a ``From:`` of 3 000 parentheses, mailed by anyone, raised
   ``RecursionError`` and ended every session that fetched the message's ENVELOPE. And its
   time grows faster than a field's length: a ``Content-Type`` of 100 KB of parameters took
   0.35 s, a ``Subject:`` of 320 KB of words 3.9 s, and a field of 19 MB (an APPEND may
   carry one) held the interpreter 0.2 s in single calls of its C code, the event loop
   waiting even while the parse ran in a thread. Here such a field is left out of the
   parsed view, as a field that is not there (its bytes stay in the message,
   ``BODY[HEADER]`` still returns them). What reads the parsed view now is the MIME
   structure (``Content-Type`` and the like) and the date SEARCH compares; ENVELOPE and
   SEARCH's text keys read the fields as sent (``gateway.imap.shape``), so a long ``To:``
   is still found. ``MAX_PARSED_FIELD`` is far above such fields as clients write them
   (RFC 5322 lines end by 998 characters). Upstream fix (CPython's
   ``email._header_value_parser``): read comments with a loop and a depth count instead of
   recursing, as ``_parse_headers`` cannot; pymap could bound a field's length the same way.
6. **SEARCH matching in quadratic time.** ``SearchCriteria._in`` (FROM, TO, CC, BCC, SUBJECT
   and HEADER keys) matched with a case-insensitive regular expression, tried in full at
   each position of the text: a header of a megabyte of ``a`` searched for 3 000 ``a`` and a
   ``b`` held the event loop 2.6 s. Here it folds both sides and uses ``in``
   (``gateway.imap.folding``; BODY and TEXT are matched the same way in
   ``gateway.imap.shape``). Upstream fix: the same in ``_in`` and ``MessageContent``'s
   ``contains``.
7. **LIST patterns in exponential time.** ``ListTree.list_matching`` turned a pattern into
   a regular expression that backtracks through every placing of its wildcards: a
   logged-in ``LIST "" "*a*a*a*a*a*a*a*a*b"`` against a folder named with 40 ``a`` (which
   the client may create) held the event loop 3.8 s, and each two more ``*`` ten times as
   long. Here the pattern is matched by ``gateway.imap.wildcards``, without backtracking;
   ``INBOX`` is matched in any case, as before. Upstream fix: the same matcher in
   ``ListTree``.
8. **SEARCH by a sequence set of many ranges.** ``SequenceSetSearchCriteria`` made a set
   of every number each range names, range after range: ``UID SEARCH UID 1:*,1:*,...``
   (6 000 copies, 24 KB) over UIDs up to 10 000 built from 60 million numbers and held
   the event loop 1.7 s, and one ``1:*`` over a mailbox whose UIDs have grown large made
   a set of all of them. Here the set is kept as its merged spans (``gateway.imap.spans``)
   and a message is looked up by bisection. Upstream fix: the same in
   ``SequenceSetSearchCriteria``, or a ``SequenceSet.__contains__`` that does it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Sequence
from email.headerregistry import BaseHeader
from email.policy import SMTP
from typing import Any, Final

import pymap.bytes
import pymap.mime.parsed
import pymap.parsing.command.auth
import pymap.parsing.modutf7
import pymap.parsing.response.specials
import pymap.parsing.specials.mailbox
from pymap.listtree import ListEntry, ListTree
from pymap.parsing import Params
from pymap.parsing.exceptions import InvalidContent, NotParseable
from pymap.parsing.specials import SequenceSet
from pymap.parsing.specials.astring import AString
from pymap.parsing.specials.searchkey import SearchKey
from pymap.search import SearchCriteria, SearchParams, SequenceSetSearchCriteria

from gateway.imap.folding import contains_text
from gateway.imap.spans import Spans
from gateway.imap.wildcards import ListPattern

__all__ = ["MAX_PARSED_FIELD", "InvalidModifiedUtf7", "decode_modutf7", "encode_modutf7", "install"]

MAX_PARSED_FIELD: Final = 16 * 1024
"""Longest header field, in bytes with its name and folds, that is parsed (fix 5): up to
about 0.05 s of the header parser."""

_B64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"
_B64_VALUE: Final = {char: value for value, char in enumerate(_B64_ALPHABET)}
_SHIFTED: Final = re.compile(rb"[A-Za-z0-9+,]+")


class InvalidModifiedUtf7(InvalidContent):
    """Not valid modified UTF-7; a ``NotParseable`` (pymap answers ``BAD``) and a ValueError."""

    def __init__(self, data: bytes, reason: str) -> None:
        super().__init__(memoryview(data))
        self.data = data
        self.reason = reason

    def __str__(self) -> str:
        return f"invalid modified UTF-7 ({self.reason}): {self.data!r}"


def _decode_shift(shifted: bytes, data: bytes) -> str:
    """The characters a ``&...-`` run carries: modified base64 of UTF-16BE, nothing to spare."""
    if _SHIFTED.fullmatch(shifted) is None:
        raise InvalidModifiedUtf7(data, "character outside modified base64")
    octets = bytearray()
    bits = 0
    count = 0
    for char in shifted:
        bits = (bits << 6) | _B64_VALUE[char]
        count += 6
        if count >= 8:
            count -= 8
            octets.append(bits >> count)
            bits &= (1 << count) - 1
    if count >= 6 or bits or len(octets) % 2:
        raise InvalidModifiedUtf7(data, "base64 does not end on a UTF-16 character")
    try:
        text = octets.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise InvalidModifiedUtf7(data, "unpaired UTF-16 surrogate") from exc
    if any(0x20 <= ord(char) <= 0x7E for char in text):
        raise InvalidModifiedUtf7(data, "printable ASCII must not be encoded")
    return text


def decode_modutf7(data: bytes) -> str:
    """Decode a mailbox name in modified UTF-7, refusing invalid input (never loops)."""
    parts: list[str] = []
    position = 0
    while position < len(data):
        byte = data[position]
        if byte == 0x26:  # "&"
            end = data.find(b"-", position + 1)
            if end < 0:
                raise InvalidModifiedUtf7(data, "'&' without a closing '-'")
            if end == position + 1:
                parts.append("&")
            else:
                parts.append(_decode_shift(data[position + 1 : end], data))
            position = end + 1
        elif 0x20 <= byte <= 0x7E:
            parts.append(chr(byte))
            position += 1
        else:
            raise InvalidModifiedUtf7(data, "8-bit or control byte")
    return "".join(parts)


def encode_modutf7(data: str) -> bytes:
    """Encode a mailbox name in modified UTF-7 (RFC 3501 section 5.1.3)."""
    out = bytearray()
    shifted: list[str] = []

    def flush() -> None:
        if shifted:
            utf16 = "".join(shifted).encode("utf-16-be")
            encoded = base64.b64encode(utf16).rstrip(b"=").replace(b"/", b",")
            out.extend(b"&%b-" % encoded)
            shifted.clear()

    for char in data:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.extend(b"&-" if char == "&" else char.encode("ascii"))
        else:
            shifted.append(char)
    flush()
    return bytes(out)


def _modutf7_decode(data: bytes | memoryview) -> str:
    return decode_modutf7(bytes(data))


@classmethod  # type: ignore[misc]
def _parse_astring_filter(
    cls: type[SearchKey], buf: memoryview, params: Params
) -> tuple[str, memoryview]:
    ret, after = AString.parse(buf, params)
    charset = params.charset or "utf-8"
    try:
        return ret.value.decode(charset), after
    except UnicodeDecodeError as exc:
        raise NotParseable(buf) from exc


def _format_mod(self: pymap.bytes.BytesFormat, other: Any) -> bytes:
    """``BytesFormat.__mod__``: one value (an index or bytes-like) or an iterable of them."""
    if hasattr(other, "__index__") or isinstance(other, bytes) or hasattr(other, "__bytes__"):
        return self.format([other])
    if isinstance(other, Iterable):
        return self.format(other)
    raise NotImplementedError()


@classmethod  # type: ignore[misc]
def _parse_headers(
    cls: type[pymap.mime.parsed.ParsedHeaders], values: Sequence[Sequence[bytes]]
) -> Iterator[BaseHeader]:
    """``ParsedHeaders._parse``, leaving out a field nested deeper than the parser can go
    or longer than ``MAX_PARSED_FIELD``."""
    for value in values:
        if sum(len(line) for line in value) > MAX_PARSED_FIELD:
            continue
        name, text = SMTP.header_source_parse(
            [line.decode("ascii", "surrogateescape") for line in value]
        )
        try:
            yield cls._registry(name, text)
        except RecursionError:
            continue


@classmethod  # type: ignore[misc]
def _in(cls: type[SearchCriteria], substr: str, data: str) -> bool:
    """``SearchCriteria._in``: ``substr`` in ``data`` in either case, in linear time."""
    return contains_text(substr, data)


def _list_matching(self: ListTree, ref_name: str, filter_: str) -> Iterator[ListEntry]:
    """``ListTree.list_matching``: the entries whose names match the pattern, ``INBOX`` in
    any case."""
    joined = ref_name + filter_
    pattern = ListPattern(joined, self._delimiter)
    inbox = ListPattern(joined.upper(), self._delimiter).matches("INBOX")
    for entry in self.list():
        if entry.name == "INBOX":
            if inbox:
                yield entry
        elif pattern.matches(entry.name):
            yield entry


def _sequence_set_criteria(
    self: SequenceSetSearchCriteria, seq_set: SequenceSet, params: SearchParams
) -> None:
    """``SequenceSetSearchCriteria.__init__``: ``flat`` as spans, not every number."""
    SearchCriteria.__init__(self, params)
    self.seq_set = seq_set
    self.flat = Spans(seq_set, params.max_uid if seq_set.uid else params.max_seq)  # type: ignore[assignment]


def install() -> None:
    """Put the fixes in place (idempotent). Modules that imported the decoder by name get it too."""
    pymap.parsing.modutf7.modutf7_decode = _modutf7_decode
    pymap.parsing.modutf7.modutf7_encode = encode_modutf7
    pymap.parsing.specials.mailbox.modutf7_encode = encode_modutf7  # type: ignore[attr-defined]
    pymap.parsing.response.specials.modutf7_encode = encode_modutf7  # type: ignore[attr-defined]
    pymap.parsing.specials.mailbox.modutf7_decode = _modutf7_decode  # type: ignore[attr-defined]
    pymap.parsing.command.auth.modutf7_decode = _modutf7_decode  # type: ignore[attr-defined]
    SearchKey._parse_astring_filter = _parse_astring_filter  # type: ignore[method-assign,assignment]
    pymap.bytes.BytesFormat.__mod__ = _format_mod  # type: ignore[method-assign]
    pymap.mime.parsed.ParsedHeaders._parse = _parse_headers  # type: ignore[method-assign,assignment]
    SearchCriteria._in = _in  # type: ignore[method-assign,assignment]
    ListTree.list_matching = _list_matching  # type: ignore[method-assign]
    SequenceSetSearchCriteria.__init__ = _sequence_set_criteria  # type: ignore[method-assign]
