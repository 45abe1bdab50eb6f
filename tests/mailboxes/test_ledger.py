"""The read views the HTTP side uses, and the demo reset, on both backends; on SQLite a
read is one hand-off to the database thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, insert

from mailboxes.ledger import DeclarationFilter, Ledger, RelayDepth, Scope
from mailboxes.records import Change, Recipient
from mailboxes.reset import reset_demo
from mailboxes.schema import DeclarationRow, MessageContentRow
from mailboxes.store import Store
from tests.mailboxes.test_database import hand_offs

__all__ = ["hand_offs"]

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


async def test_a_burst_of_jobs_is_read_in_one_go_as_each_scope_sees_them(store: Store) -> None:
    """What a live feed asks after a burst of arrivals: those of the ids its scope sees."""
    mine = [
        (await store.deliver(AGENT, [INTAKE_118], b"Subject: %d\r\n\r\nx\r\n" % n))[0]
        for n in range(3)
    ]
    (theirs,) = await store.deliver("otro@agencias.pe", [INTAKE_172], b"Subject: 9\r\n\r\n")
    ledger = Ledger(store)
    wanted = {*mine, theirs, theirs + 100}
    assert [j.id for j in await ledger.jobs(Scope(office_code="118"), wanted)] == mine
    agent = Scope(agent_address=AGENT, agent_code="4821")
    assert [j.id for j in await ledger.jobs(agent, wanted)] == mine
    assert [j.id for j in await ledger.jobs(Scope(everything=True), wanted)] == [*mine, theirs]
    assert await ledger.jobs(Scope(), wanted) == []


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


async def _answered(
    store: Store,
    job_id: int,
    reference: str,
    *,
    number: str | None,
    channel: str | None,
    received_at: datetime | None = None,
    took: timedelta = timedelta(seconds=30),
) -> int:
    """A declaration answered for ``job_id`` (as the pipeline writes it), with its reply:
    received ``took`` before now, or at ``received_at`` and answered ``took`` later."""
    now = store.clock.now()
    received = now - took if received_at is None else received_at

    def write(connection: Connection) -> int:
        reply = connection.execute(
            insert(MessageContentRow)
            .values(raw=b"Subject: respuesta " + reference.encode(), size=20, created_at=now)
            .returning(MessageContentRow.id)
        ).scalar_one()
        return connection.execute(
            insert(DeclarationRow)
            .values(
                agent_code="4821",
                agent_reference=reference,
                document_type="DUA",
                regime="10",
                office_code="118",
                status="accepted" if number else "rejected",
                number=number,
                channel=channel,
                reply_content_id=reply,
                job_id=job_id,
                received_at=received,
                answered_at=received + took,
            )
            .returning(DeclarationRow.id)
        ).scalar_one()

    return await store.database.run(write, write=True)


async def test_answered_declarations_as_each_scope_sees_them(store: Store) -> None:
    (job,) = await store.deliver(AGENT, [INTAKE_118], b"Subject: uno\r\n\r\nx\r\n")
    accepted = await _answered(store, job, "REF-1", number="118-1997-10-000001", channel="rojo")
    rejected = await _answered(store, job, "REF-2", number=None, channel=None)
    ledger = Ledger(store)
    office = Scope(office_code="118")
    assert [d.id for d in await ledger.declarations(office)] == [rejected, accepted]
    assert await ledger.declarations(Scope(office_code="172")) == []
    assert [d.id for d in await ledger.of_job(Scope(agent_code="4821"), job)] == [
        accepted,
        rejected,
    ]
    found = await ledger.find(office, "118-1997-10-000001")
    assert found is not None and (found.agent_reference, found.channel) == ("REF-1", "rojo")
    assert found.answered_at == store.clock.now()
    only = await ledger.declarations(office, DeclarationFilter(status="rejected"))
    assert [d.agent_reference for d in only] == ["REF-2"]
    assert await ledger.reply(accepted) == b"Subject: respuesta REF-1"
    stats = await ledger.statistics(office, store.clock.now() - timedelta(days=1), (1, 29, 30))
    day = store.clock.now().date().isoformat()
    assert (stats.per_day[day], stats.rejected_per_day[day]) == (2, 1)
    assert stats.channels == {(store.clock.now().strftime("%Y-%m"), "rojo"): 1}
    assert stats.answers_within == [0, 0, 2, 0]  # 30 s exactly: within "at most 30 s"


async def test_chart_counts_are_grouped_by_utc_day_month_and_answer_time(store: Store) -> None:
    """The database groups them: by the UTC day and month a declaration came in (a time
    just before midnight in Lima is already the next day in UTC), and by the first bucket
    whose edge its answer time does not pass, edges included."""
    (job,) = await store.deliver(AGENT, [INTAKE_118], b"Subject: uno\r\n\r\nx\r\n")
    lima = timezone(timedelta(hours=-5))
    seen = [
        (datetime(2026, 10, 31, 20, 0, tzinfo=lima), timedelta(seconds=0.5), "verde"),
        (datetime(2026, 11, 1, 1, 0, tzinfo=UTC), timedelta(seconds=1), "rojo"),
        (datetime(2026, 11, 1, 2, 0, tzinfo=UTC), timedelta(seconds=1.001), None),
        (datetime(2026, 10, 31, 9, 0, tzinfo=UTC), timedelta(hours=2), "verde"),
    ]
    for n, (received, took, channel) in enumerate(seen):
        number = None if channel is None else f"118-2026-10-{n:06d}"
        await _answered(
            store, job, f"R{n}", number=number, channel=channel, received_at=received, took=took
        )
    stats = await Ledger(store).statistics(
        Scope(office_code="118"), datetime(2026, 10, 1, tzinfo=UTC), (1, 60)
    )
    assert stats.per_day == {"2026-10-31": 1, "2026-11-01": 3}
    assert stats.rejected_per_day == {"2026-11-01": 1}
    assert stats.channels == {
        ("2026-10", "verde"): 1,
        ("2026-11", "verde"): 1,
        ("2026-11", "rojo"): 1,
    }
    assert stats.answers_within == [2, 1, 1]
    later = await Ledger(store).statistics(
        Scope(office_code="118"), datetime(2026, 11, 1, 1, 30, tzinfo=UTC), (1, 60)
    )
    assert later.per_day == {"2026-11-01": 1} and later.answers_within == [0, 1, 0]
    assert (
        await Ledger(store).statistics(
            Scope(office_code="172"), datetime(2026, 1, 1, tzinfo=UTC), (1,)
        )
    ).answers_within == [0, 0]


async def test_the_relay_queue_per_peer(store: Store) -> None:
    tacna = [Recipient(f"a{n}@tacna.pe", relay_to="tacna") for n in range(3)]
    await store.deliver(AGENT, [*tacna, Recipient("b@callao.pe", relay_to="callao")], b"x")
    depths = await Ledger(store).relay_queue()
    now = store.clock.now()
    assert depths == [RelayDepth("callao", 1, now, 0), RelayDepth("tacna", 3, now, 0)]


async def test_a_ledger_read_is_one_hand_off(store: Store, hand_offs: list[int]) -> None:
    if not store.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")
    (job,) = await store.deliver(AGENT, [INTAKE_118], b"Subject: uno\r\n\r\nx\r\n")
    await _answered(store, job, "REF-1", number="118-1997-10-000001", channel="verde")
    ledger = Ledger(store)
    scope = Scope(office_code="118")
    await ledger.declarations(scope)  # connections opened, statements compiled
    hand_offs[0] = 0
    assert len(await ledger.declarations(scope)) == 1
    assert hand_offs[0] == 1  # was 8
    hand_offs[0] = 0
    assert (await ledger.queue_depth(scope))[0] == 1
    assert hand_offs[0] == 1
