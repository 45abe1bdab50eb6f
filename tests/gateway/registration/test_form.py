"""The request form, read without any I/O: flat or JSON, in the body or attached."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.policy import SMTP

from config.offices import load_offices
from gateway.registration.form import (
    UNREADABLE,
    IncompleteRequest,
    MailboxRequestForm,
    read_request,
)
from tests.gateway.registration.helpers import FORM, request_mail

REGISTRY = load_offices()
SENDER = "despacho@piscosur.com.pe"


def _read(raw: bytes) -> MailboxRequestForm | IncompleteRequest:
    return read_request(raw, sender=SENDER, registry=REGISTRY, domain="aduanas.gob.pe")


def test_a_flat_form_in_the_body_among_other_text() -> None:
    assert _read(request_mail(SENDER)) == MailboxRequestForm(
        agent_code="6120",
        agency="Agencia de Aduanas Pisco Sur S.A.",
        ruc="20100070970",
        contact="María Quispe, teléfono 034-532100",
        offices=("127", "118"),
        mailbox=SENDER,
    )


def test_keys_ignore_case_accents_and_language() -> None:
    body = (
        "AGENTE = 6120\nAgency: Sur\nRUC: 20100070970\nContacto: Ana\nAduanas: pisco\n"
        "Buzón: Otro@PiscoSur.com.pe\n"
    )
    read = _read(request_mail(SENDER, body))
    assert isinstance(read, MailboxRequestForm)
    assert read.mailbox == "otro@piscosur.com.pe" and read.offices == ("127",)


def test_a_json_form_as_an_attachment() -> None:
    message = EmailMessage()
    message["From"] = SENDER
    message.set_content("Adjunto.")
    message.add_attachment(
        b'{"agente": "6120", "agencia": "Sur", "ruc": "20100070970", "contacto": "Ana",'
        b' "aduanas": ["118"]}',
        maintype="application",
        subtype="json",
        filename="solicitud.json",
    )
    read = _read(message.as_bytes(policy=SMTP))
    assert isinstance(read, MailboxRequestForm) and read.offices == ("118",)


def test_every_problem_is_named() -> None:
    body = "agente: 61-20\nagencia: Sur\nruc: 2010007097\naduanas: Lima, Callao\nagencia: Norte\n"
    read = _read(request_mail(SENDER, body))
    assert isinstance(read, IncompleteRequest)
    problems = "\n".join(read.problems)
    assert "«agencia» aparece más de una vez" in problems
    assert "falta el campo «contacto»" in problems
    assert "código de agente «61-20» no es válido" in problems
    assert "debe tener 11 dígitos" in problems
    assert "no hay una aduana «Lima»" in problems
    assert "«Callao» puede ser cualquiera de estas aduanas: 118 Marítima del Callao" in problems


def test_a_mail_without_a_form_is_told_what_a_form_is() -> None:
    read = _read(request_mail(SENDER, "Quisiera un buzón, por favor.\n"))
    assert isinstance(read, IncompleteRequest)
    assert "no contiene el formulario" in read.problems[0]


def test_a_mailbox_in_the_customs_domain_is_not_given() -> None:
    read = _read(request_mail(SENDER, FORM + "buzon: aduana-999@aduanas.gob.pe\n"))
    assert isinstance(read, IncompleteRequest)
    assert "dominio de la aduana" in read.problems[0]


def test_a_header_nested_deeply_does_not_keep_the_form_from_being_read() -> None:
    # The email package's default policy recursed once per nested comment of the
    # Content-Type: the node answered 451 (try again, forever) to anyone who mailed this.
    deep = "(" * 3000 + ")" * 3000
    raw = request_mail(SENDER).replace(
        b"Content-Type: text/plain;", b"Content-Type: text/plain; " + deep.encode() + b";"
    )
    assert deep.encode() in raw
    assert isinstance(_read(raw), MailboxRequestForm)


def test_a_header_of_many_parameters_is_read_in_linear_time() -> None:
    # The default policy's header parser took 1.5 s of a core for these 53 KB, mailed by
    # anyone without logging in (20 times an hour from each client address).
    many = b"; ".join(b"p%d=v" % n for n in range(6000))
    raw = request_mail(SENDER).replace(
        b"Content-Type: text/plain;", b"Content-Type: text/plain; " + many + b";"
    )
    started = time.process_time()
    assert isinstance(_read(raw), MailboxRequestForm)
    assert time.process_time() - started < 0.3


def test_parts_nested_past_reading_are_an_incomplete_request() -> None:
    nested = b"".join(
        b"Content-Type: multipart/mixed; boundary=%d\r\n\r\n--%d\r\n" % (n, n) for n in range(1200)
    )
    raw = b"From: %s\r\nSubject: solicitud\r\n" % SENDER.encode() + nested + FORM.encode()
    assert len(raw) < 64 * 1024  # within the registration address's size limit
    assert _read(raw) == IncompleteRequest((UNREADABLE,))
