"""A CUSDEC mailed to an office over SMTP comes back answered with a CUSRES, read over POP3."""

from __future__ import annotations

from edi_formats.codec import WireFormat, parse_response, render_declaration
from gateway.node import Node
from tests.gateway.pipeline.helpers import attachments, body_text, declaration, submission
from tests.node_clients import AGENT, submit_and_wait


def _cusdec(reference: str) -> bytes:
    made = declaration(reference=reference, agent_code=AGENT.agent_code)
    return render_declaration(made, WireFormat.EDIFACT)


async def test_a_cusdec_is_answered_with_a_cusres_attachment(node: Node) -> None:
    raw = submission(_cusdec("EDI-E2E-1"), sender=AGENT.address, filenames=["DUA.DAT"])
    (reply,) = await submit_and_wait(node, raw, 1)
    assert reply["Subject"].startswith("ACEPTADA DUA ")
    (part,) = list(reply.iter_attachments())
    assert part.get_content_type() == "application/edifact"
    ((name, data),) = attachments(reply)
    assert name == f"respuesta-{reply['X-Teledespacho-Number']}.edi"
    response = parse_response(data)
    assert response.status == "accepted" and response.agent_reference == "EDI-E2E-1"
    assert response.number == reply["X-Teledespacho-Number"]
    assert response.channel == reply["X-Teledespacho-Channel"]
    assert "UN/EDIFACT (CUSRES)" in body_text(reply)


async def test_a_cusdec_with_a_wrong_unt_count_is_rejected_naming_the_segment(node: Node) -> None:
    good = _cusdec("EDI-E2E-2")
    count = good.split(b"UNT+")[1].split(b"+")[0]
    bad = good.replace(b"UNT+" + count + b"+", b"UNT+" + str(int(count) - 1).encode() + b"+")
    (reply,) = await submit_and_wait(node, submission(bad, sender=AGENT.address), 1)
    assert reply["Subject"].startswith("RECHAZADA")
    assert reply["X-Teledespacho-Status"] == "rejected"
    text = body_text(reply)
    position = f"segmento {int(count)} del mensaje (UNT), elemento 1"
    assert "EDI-COUNT" in text and position in " ".join(text.split())
    (name, data), (report_name, report) = attachments(reply)
    assert name.endswith(".edi") and report_name == "contrl.edi"
    (finding,) = parse_response(data).findings
    assert (finding.rule_id, finding.field) == ("EDI-COUNT", position)
    assert b"+ADUANA118:ZZ+4821:ZZ+" in data  # addressed to the sender of the CUSDEC
    assert b"UNH+1+CONTRL:2:2:UN'" in report and f"UCS+{int(count)}+29'".encode() in report
