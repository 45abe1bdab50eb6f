"""Mail written as bytes parses back with the email package, folded and encoded per RFC."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi_formats.responses import Channel
from gateway.mail import (
    address_field,
    attachment,
    field,
    headers,
    ids_field,
    message,
    multipart,
    text_part,
)
from gateway.mail.template import (
    Attachment,
    ByChannel,
    Field,
    Filling,
    Slot,
    Template,
    TextPart,
    Wrapped,
    fill,
    number_slots,
)
from tests.gateway.mail.checks import without_defects


def head_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def test_a_short_ascii_field_is_written_as_is():
    assert field("Subject", "ACEPTADA DUA") == b"Subject: ACEPTADA DUA\r\n"


@pytest.mark.parametrize(
    "value",
    [
        "RECHAZADA DUA ref. " + "REFERENCIA-MUY-LARGA " * 8,
        "Solicitud de buzón N° 12 recibida",
        "Declaración ñandú — “comillas” 日本語 " * 4,
        "un-solo-token-sin-espacios-" * 5,
        "=?utf-8?q?parece_codificado?= pero no lo es",
    ],
)
def test_fields_fold_at_78_and_decode_to_what_was_given(value: str):
    raw = message([field("Subject", value)], text_part("x\n"))
    for line in head_lines(raw):
        assert line.isascii()
        words = line.removeprefix(b"Subject:").strip()
        if b" " in words:  # a line with a place to fold is folded there
            assert len(line) <= 78, line
        if b"=?" in line:  # RFC 2047 §2: a line with encoded words is at most 76
            assert len(line) <= 76, line
    assert without_defects(raw)["Subject"] == " ".join(value.split())


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["Subject", "X-Teledespacho-Reference", "X" * 70]),
    st.lists(
        st.sampled_from([" ", "a", "ref.:", "=", "?", "-", "x" * 30, "y" * 90]), max_size=40
    ).map("".join),
)
def test_a_long_ascii_field_folds_as_the_general_folding_does(name: str, value: str):
    """Printable ASCII (an acceptance's subject with a long reference) takes a shorter way
    to the same lines as any other value."""
    words = " ".join(value.split())
    assert field(name, value) == headers._fold(name, headers._tokens(words))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(" \t\n=?aZ09-\x7f\x1fñ€\u2028"), max_size=60))
def test_a_field_is_written_as_is_exactly_when_no_word_needs_encoding(value: str):
    words = value.split()
    plain = all(re.fullmatch(r"[\x21-\x7e]*", word) and "=?" not in word for word in words)
    as_is = f"Subject: {' '.join(words)}\r\n".encode()
    assert (field("Subject", value) == as_is) == plain


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=300))
def test_any_text_survives_a_field(value: str):
    parsed = without_defects(message([field("Subject", value)], text_part("x\n")))
    assert parsed["Subject"] == " ".join(value.split())


def test_addresses_with_and_without_display_names():
    raw = message(
        [
            address_field("From", "registro@aduanas.gob.pe", "Teledespacho - Registro de buzones"),
            address_field("To", "agente1@agencias.pe"),
            address_field("Cc", "a@b.pe", "Oficina de Aduanas, Callao"),
            address_field("Reply-To", "c@d.pe", "Aduana Marítima"),
        ],
        text_part("x\n"),
    )
    parsed = without_defects(raw)
    assert parsed["From"].addresses[0].display_name == "Teledespacho - Registro de buzones"
    assert parsed["To"] == "agente1@agencias.pe"
    assert parsed["Cc"].addresses[0].display_name == "Oficina de Aduanas, Callao"
    assert parsed["Reply-To"].addresses[0].display_name == "Aduana Marítima"
    assert parsed["Reply-To"].addresses[0].addr_spec == "c@d.pe"


def test_an_address_outside_ascii_goes_in_utf_8():
    raw = message([address_field("To", "josé@agencias.pe")], text_part("x\n"))
    assert "To: josé@agencias.pe\r\n".encode() in raw  # RFC 6532
    without_defects(raw)  # no defects (the email package keeps 8-bit header bytes as escapes)


def test_message_ids_are_never_encoded():
    long_id = "<" + "x" * 76 + "@exchange.example>"
    raw = message([ids_field("References", f"<a@b> {long_id}")], text_part("x\n"))
    assert f"References: <a@b>\r\n {long_id}\r\n".encode() in raw
    assert without_defects(raw)["References"] == f"<a@b> {long_id}"


@pytest.mark.parametrize(
    ("text", "charset"),
    [("año y línea\n" * 40, "iso-8859-1"), ("€uro\n" + "x" * 200 + "\n", "utf-8")],
)
def test_text_parts_are_quoted_printable_in_the_narrowest_charset(text: str, charset: str):
    raw = message([field("Subject", "t")], text_part(text))
    parsed = without_defects(raw)
    assert parsed.get_content_charset() == charset
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert parsed.get_content().replace("\r\n", "\n") == text
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_a_multipart_with_attachments_round_trips():
    data = bytes(range(256)) * 20
    raw = message(
        [field("Subject", "adjuntos")],
        multipart(
            "mixed",
            [
                text_part("cuerpo\n"),
                attachment(data, "application/EDIFACT", "respuesta.edi"),
                attachment(b"TDH|x\n", "text/plain", "r\u00e9sum\u00e9.txt", {"charset": "utf-8"}),
            ],
        ),
    )
    parsed = without_defects(raw)
    assert parsed.get_content_type() == "multipart/mixed"
    found = [(p.get_filename(), p.get_content()) for p in parsed.iter_attachments()]
    assert found[0] == ("respuesta.edi", data)
    assert found[1] == ("r\u00e9sum\u00e9.txt", "TDH|x\n")


def render(number: str, channel: Channel) -> bytes:
    return f'{{"ref": "118-2026-10-000000", "number": "{number}", "channel": "{channel}"}}'.encode()


def test_a_filled_template_is_the_mail_composed_whole():
    slots = number_slots(render, "118-2026-10-")
    meaning = ByChannel(tuple((c, f"significa {c.value} ñ") for c in Channel))
    boundary = "=_tdprueba"
    template = Template(
        (
            b"From: a@b.pe\r\n",
            Field("Subject", ("ACEPTADA DUA ", Slot.NUMBER, " canal ", Slot.CHANNEL_UPPER)),
            Field("X-Teledespacho-Channel", (Slot.CHANNEL,)),
            f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\n".encode(),
            TextPart(
                (
                    "Número: ",
                    Slot.NUMBER,
                    "\n",
                    meaning,
                    "\n",
                    Wrapped(("Motivo: ", Slot.REASON), 40, "    "),
                    "\n",
                )
            ),
            f"--{boundary}\r\n".encode(),
            Attachment("application/json", (), ("respuesta-", Slot.NUMBER, ".json"), slots),
            f"--{boundary}--\r\n".encode(),
        )
    )
    assert pickle.loads(pickle.dumps(template)) == template
    number = "118-2026-10-000042"
    reason = "selección por riesgo " * 5
    raw = fill(template, Filling(number, Channel.NARANJA, reason))
    parsed = without_defects(raw)
    assert parsed["Subject"] == f"ACEPTADA DUA {number} canal NARANJA"
    assert parsed["X-Teledespacho-Channel"] == "naranja"
    body = parsed.get_body(("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    assert f"Número: {number}\nsignifica naranja ñ\n    Motivo:" in text
    assert " ".join(text.split()).endswith(" ".join(reason.split()))
    ((name, data),) = [(p.get_filename(), p.get_content()) for p in parsed.iter_attachments()]
    assert name == f"respuesta-{number}.json"
    assert data == render(number, Channel.NARANJA)  # the reference's look-alike is kept
