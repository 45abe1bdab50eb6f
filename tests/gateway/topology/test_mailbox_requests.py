"""Mailbox requests across nodes: the answers to a requester homed on another node take the
relay path, as replies to its declarations do."""

from __future__ import annotations

import asyncio

from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from gateway.registration.decisions import RegistrationOffice
from mailboxes.registrations import MailboxRequests
from tests.gateway.registration.helpers import (
    FOR_NEW_MAILBOX,
    REGISTRATION,
    mail_without_auth,
    request_mail,
)
from tests.gateway.topology.conftest import CALLAO, HQ, Cluster
from tests.gateway.topology.helpers import wait_for_mail

AGENT = DEMO_AGENTS[0].address  # homed at Headquarters


async def test_answers_to_a_requester_homed_elsewhere_are_relayed_there(
    cluster: Cluster,
) -> None:
    callao: Node = cluster[CALLAO]
    assert callao.store is not None
    raw = request_mail(AGENT, FOR_NEW_MAILBOX)
    await asyncio.to_thread(mail_without_auth, callao, AGENT, [REGISTRATION], raw)
    [ack] = await wait_for_mail(cluster[HQ], AGENT)
    assert ack["X-Teledespacho-Request-Status"] == "pending"
    assert await callao.store.list_messages(AGENT) == []  # not kept at Callao
    [request] = await MailboxRequests(callao.store).listing()
    assert callao.router is not None
    office = RegistrationOffice(
        callao.store,
        registration_address=REGISTRATION,
        domain=callao.settings.domain,
        registry=callao.offices,
        clock=cluster.clock,
        hosted_elsewhere=callao.router.remote_node,
    )
    approved = await office.approve(request.number, by="of118")
    assert approved.letter_to == f"relayed to node {HQ} for {AGENT}" and approved.reachable
    _ack, letter = await wait_for_mail(cluster[HQ], AGENT, count=2)
    assert letter["X-Teledespacho-Request-Status"] == "approved"
