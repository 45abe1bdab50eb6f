"""``prepare_submission``: the trace field, the node's own fields removed, the sender's
header fields held to the authenticated account."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, getaddresses

import pytest

from gateway.smtp.trace import (
    _PLAIN_ADDRESS,
    ForgedSender,
    SubmissionFacts,
    _date_text,
    _split,
    prepare_submission,
    without_node_fields,
)

USER = "agente1@agencias.pe"
FACTS = SubmissionFacts(
    user=USER,
    helo="pc486.agencia.pe",
    client_ip="192.0.2.7",
    node_host="sede-central.aduanas.gob.pe",
    recipients=("agente2@agencias.pe",),
    queue_id="ABC123",
    when=datetime(1997, 3, 3, 14, 5, tzinfo=UTC),
)
BODY = b"\r\nX-Teledespacho-Status: accepted (in the body: kept)\r\n"


def prepared(header: bytes, facts: SubmissionFacts = FACTS) -> bytes:
    return prepare_submission(header + BODY, facts)


def test_the_trace_field_names_client_account_node_and_the_single_recipient() -> None:
    out = prepared(b"From: Agente Uno <agente1@agencias.pe>\r\nSubject: x\r\n")
    assert out == (
        b"Received: from pc486.agencia.pe ([192.0.2.7])\r\n"
        b"\t(Authenticated sender: agente1@agencias.pe)\r\n"
        b"\tby sede-central.aduanas.gob.pe (Teledespacho) with ESMTPA id ABC123\r\n"
        b"\tfor <agente2@agencias.pe>;\r\n"
        b"\tMon, 03 Mar 1997 14:05:00 +0000\r\n"
        b"From: Agente Uno <agente1@agencias.pe>\r\nSubject: x\r\n" + BODY
    )


def test_several_recipients_are_not_listed() -> None:
    facts = replace(FACTS, recipients=("a@b.pe", "c@d.pe"))
    out = prepared(b"From: agente1@agencias.pe\r\n", facts)
    assert b"for <" not in out
    assert b"with ESMTPA id ABC123;\r\n\tMon, 03 Mar 1997" in out


def test_a_helo_that_is_not_a_name_is_not_repeated() -> None:
    facts = replace(FACTS, helo="x (Authenticated sender: a@b)")
    assert prepared(b"From: agente1@agencias.pe\r\n", facts).startswith(
        b"Received: from unknown ([192.0.2.7])\r\n"
    )


def test_the_nodes_own_fields_are_removed_with_their_continuations() -> None:
    out = prepared(
        b"From: agente1@agencias.pe\r\n"
        b"X-Teledespacho-Status: accepted\r\n"
        b"x-teledespacho-number: 118-1997-10-000001\r\n"
        b"X-TELEDESPACHO-Channel:\r\n verde\r\n"
        b"Subject: x\r\n"
    )
    header, _, body = out.partition(b"\r\n\r\n")
    assert b"teledespacho-" not in header.lower()
    assert b"verde" not in header
    assert header.endswith(b"From: agente1@agencias.pe\r\nSubject: x")
    assert body == BODY[2:]  # the body is not the header: kept as it came


@pytest.mark.parametrize(
    "header",
    [
        b"From: Teledespacho Aduana 118 <aduana-118@aduanas.gob.pe>\r\n",
        b"From: agente2@agencias.pe\r\n",
        b"From: agente1@agencias.pe, aduana-118@aduanas.gob.pe\r\n",
        b"From: agente1@agencias.pe\r\nFrom: agente1@agencias.pe\r\n",
        b"From: agente1@agencias.pe\r\nSender: aduana-118@aduanas.gob.pe\r\n",
        b"From: undisclosed-recipients:;\r\n",
        b"From: =?utf-8?q?agente1=40agencias=2Epe?= <aduana-118@aduanas.gob.pe>\r\n",
        b"From:\r\n\taduana-118@aduanas.gob.pe\r\n",
    ],
)
def test_a_header_naming_anyone_else_is_refused(header: bytes) -> None:
    with pytest.raises(ForgedSender):
        prepared(header)


def test_the_users_own_address_in_any_case_or_form_passes_and_a_missing_from_is_added() -> None:
    assert b"From: AGENTE1@Agencias.pe" in prepared(b"From: AGENTE1@Agencias.pe\r\n")
    assert b"Sender: <agente1@agencias.pe>" in prepared(
        b"From: Uno <agente1@agencias.pe>\r\nSender: <agente1@agencias.pe>\r\n"
    )
    out = prepared(b"Subject: sin remitente\r\n")
    assert b"\r\nFrom: <agente1@agencias.pe>\r\nSubject: sin remitente\r\n" in out


def test_bare_lf_messages_get_bare_lf_fields() -> None:
    out = prepare_submission(b"From: agente1@agencias.pe\nSubject: x\n\nbody\n", FACTS)
    assert b"\r" not in out and out.endswith(b"From: agente1@agencias.pe\nSubject: x\n\nbody\n")


def test_mail_entering_otherwise_loses_only_the_nodes_fields() -> None:
    raw = b"From: x@y.pe\r\nX-Teledespacho-Status: accepted\r\n\tmore\r\nSubject: s\r\n" + BODY
    assert without_node_fields(raw) == b"From: x@y.pe\r\nSubject: s\r\n" + BODY
    clean = b"From: x@y.pe\r\n" + BODY
    assert without_node_fields(clean) is clean


PLAIN_SHAPES = [
    "agente1@agencias.pe",
    " <agente1@agencias.pe> ",
    "\tAGENTE1@Agencias.PE",
    "a.b+c@d-e.f.pe",
    "<a@b.pe",
    "a@b.pe>",
    "<<a@b.pe>>",
    ".a@b.pe",
    "a.@b.pe",
    "a..b@c.pe",
    "a@b..pe",
    "a@.b.pe",
    "a@b.pe.",
    "a@[127.0.0.1]",
    '"quoted local"@b.pe',
    "Uno <a@b.pe>",
    "a@b.pe (Uno)",
    "a@b.pe, c@d.pe",
    "a@b.pe;",
    "@relay.pe:a@b.pe",
    "a@b@c.pe",
    "á@b.pe",
    "x" * 330 + "@b.pe",
]
ALPHABET = 'ab.@<>(), \t"[]:;-+=_x1'


def assert_plain_shape_parses_alike(text: str) -> None:
    plain = _PLAIN_ADDRESS.fullmatch(text)
    if plain is not None:
        assert getaddresses([text]) == [("", plain.group(1) or plain.group(2))], text


@pytest.mark.parametrize("text", PLAIN_SHAPES)
def test_the_plain_address_shortcut_finds_what_the_header_parser_finds(text: str) -> None:
    assert_plain_shape_parses_alike(text)


def test_the_plain_address_shortcut_agrees_with_the_parser_on_random_values() -> None:
    draw = random.Random(13)
    for _ in range(5000):
        inner = "".join(draw.choice(ALPHABET) for _ in range(draw.randint(0, 14)))
        assert_plain_shape_parses_alike(inner if draw.random() < 0.5 else f"<{inner}>")


def test_an_address_too_long_to_host_is_refused_by_the_shortcut_as_by_the_parser() -> None:
    with pytest.raises(ForgedSender):
        prepared(b"From: " + b"x" * 330 + b"@agencias.pe\r\n")


def test_a_field_of_many_continuation_lines_is_read_in_time_proportional_to_it() -> None:
    """Each continuation line used to copy the whole field read so far: these 3 MB took
    over a minute (of a thread holding the interpreter). Read once, under a second."""
    header = b"X-Teledespacho-Status: x\r\n" + b" \r\n" * 1_000_000 + b"Subject: s\r\n"
    started = time.monotonic()
    out = prepared(header)
    assert time.monotonic() - started < 10
    head, _, _ = out.partition(b"\r\n\r\n")
    assert b"X-Teledespacho" not in head and head.endswith(b"\r\nSubject: s")


def test_the_trace_date_is_written_as_format_datetime_writes_it() -> None:
    """Made once a second: the same instant in another zone, or a naive time of the same
    wall clock, is written anew."""
    lima = timezone(timedelta(hours=-5))
    instant = datetime(1997, 3, 3, 14, 5, 7, 120, tzinfo=UTC)
    for when in (
        instant,
        instant.replace(microsecond=999_999),
        instant.astimezone(lima),
        instant.replace(tzinfo=None),
        instant,
        instant + timedelta(seconds=1),
    ):
        assert _date_text(when) == format_datetime(when)


def split_line_by_line(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header fields read the plain way, a line at a time: a line that starts with a
    blank continues the field before it; one that is not ``name:`` ends the header."""
    fields: list[tuple[bytes, bytes]] = []
    position = 0
    while position < len(raw):
        end = raw.find(b"\n", position)
        end = len(raw) if end < 0 else end + 1
        line = raw[position:end]
        if line[:1] in (b" ", b"\t") and fields:
            name, field = fields[-1]
            fields[-1] = (name, field + line)
        else:
            name, colon, _ = line.partition(b":")
            name = name.rstrip(b" \t")
            if not colon or not name or any(c < 33 or c > 126 or c == 58 for c in name):
                break
            fields.append((name.lower(), line))
        position = end
    return fields, raw[position:]


def test_the_header_is_read_field_by_field_as_line_by_line() -> None:
    """A field is read with its continuation lines in one step: the same fields and rest
    as reading a line at a time, for every shape of line ends, blanks and names."""
    pieces = [b"a", b"B", b":", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\n ", b"\n\t", b"From",
              b"X-Teledespacho-N", b"\xff", b"-", b"(", b"\x00", b"\x7f", b"\r\n\r\n"]  # fmt: skip
    draw = random.Random(7)
    for _ in range(20_000):
        raw = b"".join(draw.choice(pieces) for _ in range(draw.randint(0, 14)))
        assert _split(raw) == split_line_by_line(raw), raw
