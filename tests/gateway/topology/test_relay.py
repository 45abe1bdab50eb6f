"""Three nodes on loopback: relay between them, retry while a peer is down, DSN on failure."""

from __future__ import annotations

import functools
from datetime import timedelta

import aiosmtplib
import pytest

from gateway.demo import DEMO_AGENTS
from mailboxes.relay import RelayQueue
from tests.gateway.pipeline.helpers import declaration, flat, submission
from tests.gateway.topology.conftest import CALLAO, HQ, SECRET, TACNA, Cluster
from tests.gateway.topology.helpers import eventually, send, wait_for_mail

AGENT = DEMO_AGENTS[0].address
CALLAO_INTAKE = "aduana-118@aduanas.gob.pe"


def dua(reference: str) -> bytes:
    return submission(
        flat(declaration(reference=reference, agent_code=DEMO_AGENTS[0].agent_code)),
        sender=AGENT,
        to=CALLAO_INTAKE,
        message_id=f"<{reference}@agencias.pe>",
    )


async def test_a_dua_sent_at_headquarters_is_answered_by_callao_into_the_agents_mailbox(
    cluster: Cluster,
) -> None:
    await send(cluster[HQ], AGENT, CALLAO_INTAKE, dua("TOPO-1"))

    (reply,) = await wait_for_mail(cluster[HQ], AGENT)
    assert "118-2026-10-000001" in str(reply["Subject"]) + reply.get_body().get_content()
    callao = cluster[CALLAO].store
    assert callao is not None
    assert len(await callao.list_messages(CALLAO_INTAKE, "Recibidos")) == 1
    assert await callao.list_messages(AGENT) == []  # the reply was not kept at Callao
    for name in (HQ, CALLAO):
        relay, store = cluster[name].relay, cluster[name].store
        assert relay is not None and store is not None
        # The sender removes its row once the peer answered 250, which comes after the peer
        # committed the message: the reply may be read here a moment before.
        await eventually(store, functools.partial(_drained, relay.queue))


async def _drained(queue: RelayQueue) -> bool:
    return await queue.pending() == []


async def test_only_configured_peers_may_relay_into_a_node(cluster: Cluster) -> None:
    port = cluster[CALLAO].port("smtp")
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await client.login("intruso", SECRET)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await client.login(HQ, "no es el secreto")
    # A peer hands over mail for what Callao hosts, never for a third node (one hop).
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10) as client:
        await client.login(HQ, SECRET)
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await client.sendmail(AGENT, ["aduana-172@aduanas.gob.pe"], dua("X"))
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await client.sendmail(AGENT, ["alguien@otro-dominio.pe"], dua("X"))


async def test_a_message_for_a_peer_that_is_down_waits_and_goes_when_it_returns(
    cluster: Cluster,
) -> None:
    await cluster.stop(CALLAO)
    await send(cluster[HQ], AGENT, CALLAO_INTAKE, dua("TOPO-2"))
    relay = cluster[HQ].relay
    assert relay is not None
    report = await relay.run_once()
    assert report.sent == [] and report.bounced == []
    (waiting,) = await relay.queue.pending()
    assert waiting.attempts >= 1 and waiting.last_error

    await cluster.start(CALLAO)
    assert (await relay.run_once()).sent == []  # not before its retry time
    cluster.clock.advance(timedelta(minutes=15))
    (reply,) = await wait_for_mail(cluster[HQ], AGENT)
    assert "118-2026-10-000001" in reply.get_body().get_content()
    assert await relay.queue.pending() == []


async def test_a_peer_down_past_the_give_up_time_earns_the_sender_a_dsn(cluster: Cluster) -> None:
    await cluster.stop(TACNA)
    tacna = "aduana-172@aduanas.gob.pe"
    await send(cluster[HQ], AGENT, tacna, dua("TOPO-3"))
    relay = cluster[HQ].relay
    assert relay is not None
    await relay.run_once()
    cluster.clock.advance(timedelta(hours=3))
    report = await relay.run_once()
    assert len(report.bounced) == 1
    (dsn,) = await wait_for_mail(cluster[HQ], AGENT)
    assert dsn.get_content_type() == "multipart/report"
    assert dsn.get_param("report-type") == "delivery-status"
    status = [p for p in dsn.walk() if p.get_content_type() == "message/delivery-status"]
    assert status, "no machine-readable part"
    text = dsn.as_string()
    assert "Final-Recipient: rfc822; aduana-172@aduanas.gob.pe" in text
    assert "Status: 4.4.7" in text
    assert await relay.queue.pending() == []


async def test_a_permanent_refusal_earns_a_dsn_at_once(cluster: Cluster) -> None:
    # Tacna's registry says it hosts 172, but HQ believes an office exists there that
    # Tacna does not know: Tacna answers 550 and HQ tells the agent at once.
    relay = cluster[HQ].relay
    assert relay is not None
    unknown = "nadie@tacna.aduanas.gob.pe"
    cluster[HQ].router.topology.agent_homes[unknown] = TACNA  # type: ignore[union-attr]
    await send(cluster[HQ], AGENT, unknown, b"Subject: hola\r\n\r\nPrueba\r\n")
    (dsn,) = await wait_for_mail(cluster[HQ], AGENT)
    assert "Status: 5.0.0" in dsn.as_string()
    assert "550" in dsn.as_string()
