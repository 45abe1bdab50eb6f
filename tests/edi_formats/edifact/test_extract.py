"""Finding CUSDECs in mails by content, whatever the attachment is called or how it is encoded."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import pytest

from edi_formats.codec import WireFormat, parse_declaration, render_declaration
from edi_formats.extract import extract_documents
from edi_formats.models import DUA
from tests.edi_formats.edifact.builders import sample
from tests.edi_formats.factories import full_dua

CUSDEC = render_declaration(full_dua(), WireFormat.EDIFACT)


def _mail(*, body: str = "Adjunto.\n", charset: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "agente1@agencias.pe"
    message["To"] = "aduana-118@aduanas.gob.pe"
    message["Subject"] = "DUA"
    if charset is None:
        message.set_content(body)
    else:
        message.set_content(body, charset=charset, cte="8bit" if charset == "utf-8" else None)
    return message


@pytest.mark.parametrize(
    ("filename", "maintype", "subtype"),
    [
        ("DUA.EDI", "application", "EDIFACT"),
        ("FOTO.JPG", "image", "jpeg"),
        (None, "application", "octet-stream"),
        ("dua.txt", "text", "plain"),
    ],
)
def test_an_attachment_is_recognised_by_content(
    filename: str | None, maintype: str, subtype: str
) -> None:
    message = _mail()
    message.add_attachment(CUSDEC, maintype=maintype, subtype=subtype, filename=filename)
    (document,) = extract_documents(message.as_bytes(policy=SMTP)).documents
    assert document.format is WireFormat.EDIFACT
    assert document.data == CUSDEC.rstrip()  # the interchange ends after UNZ's terminator
    assert parse_declaration(document.data) == full_dua()


def test_an_interchange_pasted_in_the_body_is_cut_from_the_greetings() -> None:
    text = render_declaration(sample(), WireFormat.EDIFACT).decode("ascii")
    body = f"Señores:\n\nSirvanse encontrar la DUA.\n\n{text}\nAtentamente,\nJuan\n"
    (document,) = extract_documents(_mail(body=body).as_bytes(policy=SMTP)).documents
    assert document.source == "cuerpo" and document.format is WireFormat.EDIFACT
    assert parse_declaration(document.data) == sample()


def test_unz_inside_a_value_does_not_end_the_interchange() -> None:
    importer = full_dua().importer.model_copy(update={"name": "FUNZAL S.A. 'UNZ"})
    declaration = full_dua().model_copy(update={"importer": importer})
    data = render_declaration(declaration, WireFormat.EDIFACT)
    body = f"Adjunto:\n{data.decode('latin-1')}\n-- \nfirma\n"
    (document,) = extract_documents(_mail(body=body, charset="latin-1").as_bytes()).documents
    assert parse_declaration(document.data) == declaration


def test_a_body_re_encoded_by_the_mail_client_is_restored_to_the_declared_level() -> None:
    text = CUSDEC.decode("latin-1")  # UNOC: ISO 8859-1, with Ñ, Ú, ü...
    (document,) = extract_documents(_mail(body=text, charset="utf-8").as_bytes()).documents
    assert "Ñ".encode() not in document.data and "Ñ".encode("latin-1") in document.data
    declaration = parse_declaration(document.data)
    assert (
        isinstance(declaration, DUA) and declaration.importer.name == "IMPORTACIONES ÑANDÚ S.A.C."
    )
