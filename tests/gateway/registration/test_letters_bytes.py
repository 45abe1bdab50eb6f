"""The registration desk's letters, written with gateway.mail: valid MIME, threaded only to
a real message identifier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.registration import letters
from mailboxes.registrations import MailboxRequest, RequestState
from tests.gateway.mail.checks import without_defects

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
REQUEST = MailboxRequest(
    number=12,
    requester="gerencia@piscosur.com.pe",
    client="127.0.0.1",
    mailbox="despachos@piscosur.com.pe",
    agent_code="7710",
    agency="Agencia de Aduanas Piscosur Señor de Luren S.A.C. " * 2,
    ruc="20123456789",
    contact="Ñuflo Pérez, 056-123456",
    offices=("118", "145"),
    state=RequestState.PENDING,
    received_at=NOW,
)


@pytest.mark.parametrize(
    ("in_reply_to", "threaded"),
    [("<solicitud.1@piscosur.com.pe>", True), ("no es un identificador", False), (None, False)],
)
def test_letters_parse_back_and_thread_only_to_an_identifier(
    in_reply_to: str | None, threaded: bool
) -> None:
    origin = letters.Origin("registro@aduanas.gob.pe", "aduanas.gob.pe", NOW, in_reply_to)
    written = [
        letters.acknowledgement(origin, REQUEST),
        letters.incomplete(origin, to=REQUEST.requester, problems=["falta el RUC"]),
        letters.approval(origin, REQUEST, password="clave-ñ-123", server="mail.aduanas.gob.pe"),
        letters.rejection(origin, REQUEST, reason="El RUC no corresponde a una agencia."),
    ]
    for raw in written:
        message = without_defects(raw)
        assert message["From"].addresses[0].display_name == "Teledespacho - Registro de buzones"
        assert message["In-Reply-To"] == (in_reply_to if threaded else None)
        assert (message["References"] is not None) is threaded
    approved = without_defects(written[2])
    body = approved.get_body(("plain",))
    assert body is not None and "clave-ñ-123" in body.get_content()
    assert approved["Subject"] == "Solicitud de buzón N° 12 aprobada"
