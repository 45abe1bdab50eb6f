"""Finding declarations in agents' mails: attachments, bodies, uuencode, several per mail."""

from __future__ import annotations

import base64
import binascii
import json
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_formats.detect import WireFormat, detect_format
from edi_formats.extract import MAX_DOCUMENTS, _filename, _Params, extract_documents

FLAT = "TDH|TELEDESPACHO|01|DUA|CP850\r\nDEC|118|10\r\nIMP|RUC|20100070970|ÑANDÚ SAC\r\nTRL|4\r\n"
FLAT_CP850 = FLAT.encode("cp850")
JSON_DOC = json.dumps({"document_type": "OE", "office": "235", "name": "Perú"}, ensure_ascii=False)
EDIFACT = "UNA:+.? 'UNB+UNOC:3+4821+ADUANA118+970303:1200+R1'UNZ+0+R1'"


def _mail(body: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "agente@example.pe"
    message["To"] = "aduana-118@aduanas.gob.pe"
    message["Subject"] = "Declaraciones"
    if body is not None:
        message.set_content(body)
    return message


def _uuencode(name: str, data: bytes) -> bytes:
    lines = [f"begin 644 {name}\n".encode()]
    for start in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[start : start + 45]))
    lines.append(b"`\nend\n")
    return b"".join(lines)


def test_attachment_found_by_content_whatever_its_type_and_name() -> None:
    message = _mail("Adjunto la declaración.")
    message.add_attachment(FLAT_CP850, maintype="image", subtype="gif", filename="FOTO.GIF")
    result = extract_documents(message.as_bytes())
    assert [(d.source, d.format, d.data) for d in result.documents] == [
        ("adjunto FOTO.GIF", WireFormat.FLAT, FLAT_CP850)
    ]
    assert result.notes == ["cuerpo: texto sin declaración (25 bytes)"]


def test_text_attachment_keeps_its_bytes_untouched() -> None:
    message = _mail("ver adjunto")
    message.add_attachment(
        FLAT_CP850, maintype="text", subtype="plain", filename="DUA.TXT", cte="quoted-printable"
    )
    (document,) = extract_documents(message.as_bytes()).documents
    assert document.data == FLAT_CP850


def test_several_declarations_in_the_body_between_greeting_and_signature() -> None:
    body = f"Señores:\n\n{FLAT}\n{JSON_DOC}\n\n{EDIFACT}\n\nAtentamente,\n-- \nJuan Pérez\n"
    result = extract_documents(_mail(body).as_bytes())
    assert [(d.source, d.format) for d in result.documents] == [
        ("cuerpo, declaración 1", WireFormat.FLAT),
        ("cuerpo, declaración 2", WireFormat.JSON),
        ("cuerpo, declaración 3", WireFormat.EDIFACT),
    ]
    flat, js, edi = (d.data for d in result.documents)
    assert flat.endswith(b"TRL|4\n")
    assert b"Atentamente" not in flat
    assert json.loads(js) == json.loads(JSON_DOC)
    assert edi.decode() == EDIFACT
    assert result.notes == []


def test_body_declaration_is_reencoded_in_the_encoding_its_envelope_declares() -> None:
    # The mail client sent the pasted text in UTF-8; the envelope says CP850.
    result = extract_documents(_mail(FLAT).as_bytes())
    (document,) = result.documents
    assert document.data == FLAT_CP850.replace(b"\r\n", b"\n")


def test_truncated_body_declaration_stops_at_its_last_record() -> None:
    truncated = FLAT.split("TRL")[0]
    (document,) = extract_documents(_mail(truncated + "\nSaludos\n").as_bytes()).documents
    assert document.data.decode("cp850").splitlines()[-1].startswith("IMP|")


def test_uuencoded_block_in_a_1997_style_plain_mail() -> None:
    raw = (
        b"From: agente@example.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nSubject: DUA\r\n\r\n"
        b"Buenos dias\r\n" + _uuencode("DUA.TXT", FLAT_CP850) + b"Gracias\r\n"
    )
    result = extract_documents(raw)
    assert [(d.source, d.format, d.data) for d in result.documents] == [
        ("bloque uuencode 1 (DUA.TXT)", WireFormat.FLAT, FLAT_CP850)
    ]


def test_uuencoded_blocks_in_an_attachment_and_a_non_declaration_block_is_noted() -> None:
    text = _uuencode("FOTO.BMP", b"BM\x00\x01" * 30) + _uuencode("OE.TXT", JSON_DOC.encode())
    message = _mail("hola")
    message.add_attachment(text, maintype="application", subtype="octet-stream", filename="x")
    result = extract_documents(message.as_bytes())
    assert [(d.source, d.format) for d in result.documents] == [
        ("adjunto x, bloque uuencode 2 (OE.TXT)", WireFormat.JSON)
    ]
    assert any("bloque uuencode 1 (FOTO.BMP)" in note for note in result.notes)


def test_uuencode_transfer_encoding() -> None:
    raw = (
        b"From: a@example.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: application/octet-stream; name="DUA.TXT"\r\n'
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + _uuencode("DUA.TXT", FLAT_CP850)
    )
    (document,) = extract_documents(raw).documents
    assert document.data == FLAT_CP850


def test_base64_attachment_without_headers_we_trust() -> None:
    encoded = base64.encodebytes(FLAT_CP850)
    raw = (
        b"From: a@example.pe\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=bogus-charset\r\n\r\nAdjunto\r\n"
        b"--XX\r\nContent-Type: application/x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + encoded
        + b"--XX--\r\n"
    )
    result = extract_documents(raw)
    assert [(d.source, d.data) for d in result.documents] == [
        ("adjunto sin nombre (application/x-unknown)", FLAT_CP850)
    ]


def test_multipart_alternative_is_read_once() -> None:
    message = _mail(FLAT)
    message.add_alternative(f"<html><body><pre>{FLAT}</pre></body></html>", subtype="html")
    result = extract_documents(message.as_bytes())
    assert len(result.documents) == 1


def test_html_only_body() -> None:
    message = _mail()
    lines = "<br>".join(FLAT.splitlines())
    message.set_content(f"<html><body><p>Hola</p><p>{lines}</p></body></html>", subtype="html")
    (document,) = extract_documents(message.as_bytes()).documents
    assert document.data.decode("cp850").splitlines()[0] == "TDH|TELEDESPACHO|01|DUA|CP850"


def test_forwarded_message_is_searched() -> None:
    inner = _mail("reenvío")
    inner.add_attachment(FLAT_CP850, maintype="application", subtype="octet-stream", filename="A")
    outer = _mail("ver mensaje reenviado")
    outer.add_attachment(inner)
    (document,) = extract_documents(outer.as_bytes()).documents
    assert document.data == FLAT_CP850


def test_mail_without_declarations_says_what_it_held() -> None:
    message = _mail("Buenos días, ¿recibieron mi declaración?")
    pdf = b"%PDF-1.2\x00\x01"
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="a.pdf")
    result = extract_documents(message.as_bytes())
    assert result.documents == []
    assert result.notes[0].startswith("cuerpo: texto sin declaración")
    assert result.notes[1].startswith("adjunto a.pdf (application/pdf, 10 bytes)")


def test_broken_json_declaration_is_still_returned_for_a_syntax_rejection() -> None:
    broken = '{"document_type": "DUA", "office": "118",, }'
    (document,) = extract_documents(_mail(f"hola\n{broken}\nchau\n").as_bytes()).documents
    assert document.format is WireFormat.JSON
    assert document.data == broken.encode()


def test_json_object_without_discriminator_is_not_a_declaration() -> None:
    result = extract_documents(_mail('{"a": 1}\n"document_type" appears in prose').as_bytes())
    assert result.documents == []


def test_too_many_declarations_are_cut_with_a_note() -> None:
    message = _mail("muchas")
    for index in range(MAX_DOCUMENTS + 3):
        message.add_attachment(
            FLAT_CP850, maintype="application", subtype="octet-stream", filename=f"D{index}"
        )
    result = extract_documents(message.as_bytes())
    assert len(result.documents) == MAX_DOCUMENTS
    assert any("se ignoraron 3 declaraciones" in note for note in result.notes)


@pytest.mark.parametrize(
    "payload",
    [
        b"TDH|TELEDESPACHO|\n" * 400_000,
        b'{"a": 1}\n' * 800_000 + b'"document_type"',
        b"{\n" * 3_000_000 + b'"document_type"',
        b"UNB+x\n" * 1_000_000,
        (b"begin 644 X\nM" + b"A" * 60 + b"\nend\n") * 100_000,
    ],
    ids=["envelopes", "json-objects", "json-openings", "unb", "uu-blocks"],
)
def test_hostile_attachments_are_read_in_linear_time(payload: bytes) -> None:
    message = _mail("adjunto")
    message.add_attachment(payload, maintype="text", subtype="plain", filename="X.TXT")
    started = time.perf_counter()
    result = extract_documents(message.as_bytes())
    assert time.perf_counter() - started < 10.0
    assert len(result.documents) <= MAX_DOCUMENTS
    assert len(result.notes) <= 52


def test_ten_megabyte_attachment_is_handled_fast() -> None:
    message = _mail("adjunto grande")
    message.add_attachment(
        bytes(range(256)) * 40960, maintype="application", subtype="zip", filename="BIG.ZIP"
    )
    message.add_attachment(FLAT_CP850, maintype="text", subtype="plain", filename="DUA.TXT")
    raw = message.as_bytes()
    started = time.perf_counter()
    result = extract_documents(raw)
    elapsed = time.perf_counter() - started
    assert [d.source for d in result.documents] == ["adjunto DUA.TXT"]
    assert elapsed < 5.0


def test_garbage_is_not_a_mail_but_does_not_raise() -> None:
    result = extract_documents(b"\x00\xff" * 1000)
    assert result.documents == []


def test_detect_format_by_content() -> None:
    assert detect_format(b"\xef\xbb\xbf\r\n" + FLAT_CP850) is WireFormat.FLAT
    assert detect_format(EDIFACT.encode()) is WireFormat.EDIFACT
    assert detect_format(b"UNB+UNOA:1+X'") is WireFormat.EDIFACT
    assert detect_format(b'  {"document_type": "DUA"}') is WireFormat.JSON
    assert detect_format(b'{"other": 1}') is None
    assert detect_format(b"UNBELIEVABLE") is None
    assert detect_format(b"") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_extractor_never_raises_on_bytes(data: bytes) -> None:
    result = extract_documents(data)
    assert all(isinstance(d.data, bytes) for d in result.documents)


_MAILISH = st.lists(
    st.sampled_from(
        [
            b"From: a@b\r\n",
            b"Content-Type: multipart/mixed; boundary=B\r\n",
            b"Content-Type: text/plain; charset=x-unknown\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: x-uuencode\r\n",
            b"Content-Disposition: attachment; filename*=utf-8''%FF%00\r\n",
            b"\r\n",
            b"--B\r\n",
            b"--B--\r\n",
            b"begin 644 A.TXT\r\n",
            b'M5$1(?%1%3$5$15-004-(3WPP,7Q$54%\\0U`X-3`-"D1%0WPQ,3A\\,3`-"@``\r\n',
            b"end\r\n",
            FLAT_CP850,
            b"TDH|TELEDESPACHO|",
            b'{"document_type": ',
            b"UNA:+.? 'UNB+",
            b"\x00\xff\xfe",
        ]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_MAILISH)
def test_fuzz_extractor_never_raises_on_mail_like_input(data: bytes) -> None:
    result = extract_documents(data)
    for document in result.documents:
        assert document.format is not None
        assert detect_format(document.data) in (document.format, None)


def test_a_declaration_nested_too_deep_is_reported_not_silently_dropped() -> None:
    inner = _mail("ver adjunto")
    inner.add_attachment(FLAT_CP850, maintype="text", subtype="plain", filename="DUA.TXT")
    for _ in range(13):
        outer = EmailMessage()
        outer.make_mixed()
        outer.attach(inner)
        inner = outer
    result = extract_documents(inner.as_bytes())
    assert result.documents == []
    assert any("más de 12 niveles" in note for note in result.notes), result.notes


@pytest.mark.parametrize(
    "disposition",
    [
        'attachment; filename="=?iso-8859-1?Q?A=D1O97.TXT?="',  # Outlook-era encoded word
        "attachment; filename*=iso-8859-1''A%D1O97.TXT",  # RFC 2231
    ],
)
def test_a_non_ascii_file_name_is_named_as_the_client_wrote_it(disposition: str) -> None:
    raw = (
        "From: agente@example.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain\r\n\r\nver adjunto\r\n--b\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Disposition: {disposition}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(FLAT_CP850).decode()
        + "--b--\r\n"
    ).encode()
    (document,) = extract_documents(raw).documents
    assert document.source == "adjunto AÑO97.TXT"
    assert document.data == FLAT_CP850


@pytest.mark.parametrize(
    ("content_type", "disposition"),
    [
        ('text/plain; charset="utf-8"', None),
        ("application/octet-stream; name=DUA.TXT", 'attachment; filename="OTRO.TXT"'),
        ("application/octet-stream; name=DUA.TXT", "attachment"),
        ("application/octet-stream; NAME=uno.txt; name=dos.txt", "inline; filename="),
        ("text/plain", "attachment; filename*=iso-8859-1''a%F1o.txt"),
        ("text/plain", 'attachment; filename*0="DU"; filename*1="A.TXT"'),
        ('text/plain; charset="iso-8859-1"; format=flowed; delsp=yes', None),
        ('text/plain; name="a\\"b.txt"', 'attachment; FileName="MAY.TXT"'),
    ],
)
def test_a_parts_parameters_are_what_the_email_package_reads(
    content_type: str, disposition: str | None
) -> None:
    """Fields that recur from mail to mail are parsed once per process; each part still gets
    what ``get_param`` and ``get_filename`` give it, the first time and again."""
    head = f"Content-Type: {content_type}\r\n"
    if disposition is not None:
        head += f"Content-Disposition: {disposition}\r\n"
    for _ in range(2):
        part = message_from_bytes(head.encode() + b"\r\nx\r\n", policy=policy.compat32)
        params = _Params(part)
        for name in ("charset", "name", "format", "delsp", "missing"):
            assert params.get(name) == part.get_param(name)
        assert _filename(part, params) == part.get_filename()
