"""The local fixes to pymap's parser (``gateway.imap.pymap_fixes``), without a server."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymap.mime import MessageContent
from pymap.parsing import Params
from pymap.parsing.command.auth import ListCommand, SelectCommand
from pymap.parsing.command.select import SearchCommand
from pymap.parsing.commands import Commands, InvalidCommand
from pymap.parsing.exceptions import NotParseable
from pymap.parsing.modutf7 import modutf7_encode
from pymap.parsing.specials import Mailbox

import gateway.imap  # noqa: F401  (installs the fixes, as the node does)
from gateway.imap.pymap_fixes import (
    MAX_PARSED_FIELD,
    InvalidModifiedUtf7,
    decode_modutf7,
    encode_modutf7,
)


@given(st.text())  # every character but lone surrogates
def test_decoding_inverts_encoding(name: str) -> None:
    assert decode_modutf7(encode_modutf7(name)) == name


def test_encoder_as_rfc_3501_spells_it() -> None:
    assert encode_modutf7("~peter/mail/台北/日本語") == b"~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert encode_modutf7("á&") == b"&AOE-&-"  # pymap wrote b"&AOE-&"


def test_pymap_encodes_with_the_fixed_encoder() -> None:
    assert modutf7_encode("Año & más") == encode_modutf7("Año & más")
    assert bytes(Mailbox("á&")) == b"&AOE-&-"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"Bad&Jjo", "without a closing"),  # the input that made pymap loop forever
        (b"&", "without a closing"),
        (b"&AGE-", "printable ASCII"),  # "a" must be written as itself
        (b"&AO-", "UTF-16"),  # 12 bits: not a whole UTF-16 unit
        (b"&AOF-", "UTF-16"),  # non-zero bits left over
        (b"&2D0-", "UTF-16"),  # half a surrogate pair
        (b"&A*E-", "modified base64"),
        (b"A\xc3\xb1o", "8-bit"),  # raw UTF-8 is not modified UTF-7
        (b"a\tb", "control"),
    ],
)
def test_invalid_names_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidModifiedUtf7, match=reason):
        decode_modutf7(raw)


def test_refusal_is_a_parse_error_and_a_value_error() -> None:
    with pytest.raises(NotParseable):
        decode_modutf7(b"x&y")
    with pytest.raises(ValueError):
        decode_modutf7(b"x&y")


def parse(line: bytes) -> object:
    """Parse in a thread with a deadline: pymap's own decoder never returned on some input."""
    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(Commands().parse(memoryview(line), Params())[0]),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=5)
    assert result, f"parsing {line!r} did not finish"
    return result[0]


def test_select_of_an_unclosed_shift_is_an_invalid_command() -> None:
    assert isinstance(parse(b'a1 SELECT "Bad&Jjo"\r\n'), InvalidCommand)
    assert isinstance(parse(b'a1 LIST "" "Bad&Jjo"\r\n'), InvalidCommand)
    assert isinstance(parse(b"a1 LIST &Jjo *\r\n"), InvalidCommand)


def test_valid_names_still_parse() -> None:
    select = parse(b'a1 SELECT "Canal &AO0-mbar"\r\n')
    assert isinstance(select, SelectCommand) and select.mailbox == "Canal ímbar"
    listing = parse(b'a1 LIST "" "A&APE-o/*"\r\n')
    assert isinstance(listing, ListCommand) and listing.filter == "Año/*"


def test_search_string_without_charset_is_read_as_utf8() -> None:
    command = parse(b'a1 SEARCH SUBJECT "A\xc3\xb1o"\r\n')
    assert isinstance(command, SearchCommand)
    [key] = command.keys
    assert key.filter == "Año"


def test_search_string_not_in_its_charset_is_invalid() -> None:
    assert isinstance(parse(b"a1 SEARCH SUBJECT {3+}\r\n\xff\xfe\xfd\r\n"), InvalidCommand)
    line = b"a1 SEARCH CHARSET US-ASCII SUBJECT {2+}\r\n\xc3\xb1\r\n"
    assert isinstance(parse(line), InvalidCommand)


@pytest.mark.parametrize(
    "long_field",
    [
        b"X-Nota: " + b"a" * MAX_PARSED_FIELD + b"\r\n",
        # 2 000 parameters (17 KB) took the parser 0.07 s, 8 000 (100 KB) 0.35 s.
        b"Content-Type: text/plain; " + b"; ".join(b"p%d=v" % n for n in range(2000)) + b"\r\n",
    ],
    ids=["one-word", "parameters"],
)
def test_a_header_field_too_long_to_parse_is_left_out(long_field: bytes) -> None:
    header = b"Subject: corta\r\n" + long_field + b"X-Nota: breve\r\n\r\n"
    parsed = MessageContent.parse(header + b"cuerpo\r\n").header.parsed
    assert [str(value) for value in parsed[b"x-nota"]] == ["breve"]
    assert [str(value) for value in parsed[b"subject"]] == ["corta"]
    assert b"content-type" not in parsed or not parsed[b"content-type"]
