"""A whole node on loopback: smtplib submits, the pipeline answers, poplib fetches the reply."""

from __future__ import annotations

import asyncio
import re

from gateway.node import Node
from tests.gateway.pipeline.helpers import (
    attachments,
    body_text,
    declaration,
    flat,
    submission,
)
from tests.node_clients import AGENT, OFFICE, pop3_fetch, submit_and_wait

NUMBER = re.compile(r"^118-\d{4}-10-\d{6}$")


async def test_a_dua_mailed_to_the_office_comes_back_numbered(node: Node):
    document = flat(declaration(reference="E2E-1", agent_code=AGENT.agent_code))
    raw = submission(document, sender=AGENT.address, message_id="<e2e-1@agencias.pe>")
    (reply,) = await submit_and_wait(node, raw, 1)

    assert reply["Subject"].startswith("ACEPTADA DUA ")
    assert reply["X-Teledespacho-Status"] == "accepted"
    assert reply["X-Teledespacho-Reference"] == "E2E-1"
    assert NUMBER.match(reply["X-Teledespacho-Number"])
    assert reply["X-Teledespacho-Channel"] in {"verde", "naranja", "rojo"}
    assert reply["In-Reply-To"] == "<e2e-1@agencias.pe>"
    assert reply["X-Teledespacho-Number"] in reply["Subject"]

    (copy,) = await asyncio.to_thread(pop3_fetch, node, OFFICE)
    assert copy["X-Teledespacho-Number"] == reply["X-Teledespacho-Number"]
    assert attachments(copy)[0][1] == document


async def test_a_broken_dua_comes_back_rejected_with_its_findings(node: Node):
    broken = declaration(reference="E2E-2", agent_code=AGENT.agent_code, breaks="STR-TOTALS")
    raw = submission(flat(broken), sender=AGENT.address)
    (reply,) = await submit_and_wait(node, raw, 1)

    assert reply["Subject"].startswith("RECHAZADA DUA ref. E2E-2")
    assert reply["X-Teledespacho-Status"] == "rejected"
    assert reply["X-Teledespacho-Number"] is None
    text = body_text(reply)
    assert "STR-TOTALS — Total bultos" in text and "totals.packages" not in text
    assert "Casilla Total bultos" in text
    assert "Base legal: Procedimiento INTA-PG.01-A, VII.A.7" in text
