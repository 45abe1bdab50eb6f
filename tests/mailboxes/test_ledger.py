"""The read views the HTTP side uses, and the demo reset, on both backends."""

from __future__ import annotations

import pytest

from mailboxes.ledger import Ledger, Scope
from mailboxes.records import Change, Recipient
from mailboxes.reset import reset_demo
from mailboxes.store import Store

INTAKE_118 = Recipient("aduana-118@aduanas.gob.pe", "INBOX", intake_office="118")
INTAKE_172 = Recipient("aduana-172@aduanas.gob.pe", "INBOX", intake_office="172")
AGENT = "agente1@agencias.pe"


async def test_queued_jobs_as_each_scope_sees_them(store: Store) -> None:
    (first,) = await store.deliver(AGENT, [INTAKE_118], b"Subject: uno\r\n\r\nx\r\n")
    (second,) = await store.deliver("otro@agencias.pe", [INTAKE_172], b"Subject: dos\r\n\r\nx\r\n")
    ledger = Ledger(store)
    everything = [job.id for job in await ledger.pending_jobs(Scope(everything=True))]
    assert everything == [first, second]
    office = await ledger.pending_jobs(Scope(office_code="118"))
    assert [job.id for job in office] == [first]
    agent = await ledger.pending_jobs(Scope(agent_address=AGENT, agent_code="4821"))
    assert [job.id for job in agent] == [first]
    assert await ledger.pending_jobs(Scope()) == []  # a scope naming nobody sees nothing
    count, oldest = await ledger.queue_depth(Scope(office_code="172"))
    assert count == 1
    assert oldest == store.clock.now()
    assert await ledger.job(Scope(office_code="172"), first) is None
    assert await ledger.submission(first) == b"Subject: uno\r\n\r\nx\r\n"
    with pytest.raises(KeyError):
        await ledger.submission(second + 1)
    with pytest.raises(KeyError):
        await ledger.reply(1)  # no declaration answered yet


async def test_reset_empties_mail_and_jobs_and_keeps_accounts(store: Store) -> None:
    await store.create_account(AGENT, "clave", role="agent", agent_code="4821")
    await store.deliver(AGENT, [INTAKE_118, Recipient(AGENT)], b"Subject: uno\r\n\r\nx\r\n")
    removed = await reset_demo(store)
    assert removed == 2
    assert await store.list_messages(AGENT) == []
    assert await Ledger(store).pending_jobs(Scope(everything=True)) == []
    assert await store.count_contents() == 0
    assert await store.get_account(AGENT) is not None
    (again,) = await store.deliver(AGENT, [INTAKE_118], b"Subject: dos\r\n\r\nx\r\n")
    assert again >= 1


async def test_a_reset_tells_the_listeners_which_mailboxes_went(store: Store) -> None:
    """An IMAP session idling on a mailbox hears that it was emptied."""
    heard: list[Change] = []
    store.subscribe(heard.append)
    await store.deliver(AGENT, [INTAKE_118, Recipient(AGENT, "Archivo")], b"Subject: uno\r\n\r\n")
    heard.clear()
    assert await reset_demo(store) == 2
    (change,) = heard
    assert change.mailboxes == {("aduana-118@aduanas.gob.pe", "INBOX"), (AGENT, "Archivo")}
