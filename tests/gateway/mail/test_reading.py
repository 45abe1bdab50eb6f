"""Header fields read from bytes agree with the email package's reading (policy.default)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.mail import field, message, text_part
from gateway.mail.reading import MAX_HEADER, addresses, decode_words, header_values
from gateway.pipeline.process import read_headers

SAMPLES = [
    b"Subject: =?iso-8859-1?q?Declaraci=F3n?= de =?utf-8?b?w7FhbmTDug==?=\r\n\r\nx",
    b"subject: plegado\r\n   en dos\r\n\tl\xc3\xadneas\r\nMessage-ID:  <a@b>  \r\n\r\n",
    b"Subject: =?utf-8?q?uno?= =?utf-8?q?_dos?=\nFrom: x\n\nSubject: del cuerpo\n",
    b"X: sin asunto\r\n\r\nSubject: del cuerpo\r\n",
    b"Subject: =?desconocido?q?raro?= y =?utf-8?q?roto\r\n\r\n",
]


@pytest.mark.parametrize("raw", SAMPLES)
def test_subjects_read_as_the_email_package_reads_them(raw: bytes) -> None:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    expected = " ".join(str(parsed["Subject"] or "").split()) or None
    assert read_headers(raw).subject == expected


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=200))
def test_a_subject_written_here_reads_back(value: str) -> None:
    raw = message([field("Subject", value)], text_part("x\n"))
    assert read_headers(raw).subject == (" ".join(value.split()) or None)


def test_the_first_occurrence_counts_and_the_body_is_not_read() -> None:
    raw = b"List-Id: <l.x>\r\nlist-id: otra\r\n\r\nPrecedence: bulk\r\n"
    assert header_values(raw, ["list-id", "precedence"]) == {"list-id": "<l.x>"}
    assert read_headers(raw).automatic


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\x00\xff" * 50, b":\r\n\r\n", b"=?x?q?" * 100):
        read_headers(raw)
    assert decode_words("=?utf-8?q?=ZZ?= sin codificar").endswith(" sin codificar")


def _regex_reading(raw: bytes, names: list[str]) -> dict[str, str]:
    """The reading as a regular expression per line did it (the reference)."""
    raw = raw[:MAX_HEADER]
    ends = [at for at in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if at >= 0]
    head = raw[: min(ends)] if ends else raw
    found: dict[str, str] = {}
    for line in re.sub(rb"\r?\n(?=[ \t])", b"", head).splitlines():
        match = re.match(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$", line, re.DOTALL)
        if match is None:
            continue
        name = match[1].decode("ascii").lower()
        if name in names and name not in found:
            found[name] = match[2].decode("utf-8", "replace").strip()
            if len(found) == len(names):
                break
    return found


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"Subject",
                b"subject",
                b"SUBJECT ",
                b"Message-ID",
                b"list-id",
                b"X-Otro",
                b" ",
                b"\t",
                b":",
                b": ",
                b"valor",
                b"\xc3\xb1",
                b"\xff",
                b"\r\n",
                b"\n",
                b"\r",
                b"\x00",
            ]
        ),
        max_size=40,
    ).map(b"".join)
)
@example(b"Subject: a\n\r\n b\r\n\r\n")  # LF, then CRLF and a blank: not a fold
def test_fields_read_as_a_regular_expression_per_line_read_them(raw: bytes) -> None:
    names = ["subject", "message-id", "list-id"]
    assert header_values(raw, names) == _regex_reading(raw, names)


def test_addresses_are_read_as_the_email_package_reads_them() -> None:
    fields = ["Agente Uno <agente1@agencias.pe>, (nota) otro@agencias.pe", "x@y.pe"]
    assert addresses(fields) == email.utils.getaddresses(fields)


def test_a_field_nested_past_reading_holds_no_address() -> None:
    assert addresses(["(" * 3000 + ")" * 3000 + " <a@b.pe>"]) == []
