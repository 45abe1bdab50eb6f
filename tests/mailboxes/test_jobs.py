"""The pipeline's side of the store: claiming jobs and answering them in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from config.clock import FixedClock
from gateway.directory import INTAKE_FOLDER
from mailboxes import ledgers
from mailboxes.jobs import JobQueue
from mailboxes.records import Recipient
from mailboxes.schema import DeclarationStatus, JobState
from mailboxes.store import Change, Store

AGENT = "agente1@agencias.pe"
OFFICE = "aduana-118@aduanas.gob.pe"


async def queue_job(store: Store, raw: bytes = b"Subject: x\r\n\r\nDUA\r\n") -> int:
    (job_id,) = await store.deliver(AGENT, [Recipient(OFFICE, INTAKE_FOLDER, "118")], raw)
    return job_id


async def test_only_failures_count_attempts_and_a_claim_names_the_senders_agent_code(
    store: Store,
):
    await store.create_account(AGENT, "x", role="agent", agent_code="4821")
    job_id = await queue_job(store)
    queue = JobQueue(store)

    (first,) = await queue.claim(10)
    (second,) = await queue.claim(10)  # taken again (its first taker died): no attempt lost
    assert (first.id, first.job.attempts, second.job.attempts) == (job_id, 1, 1)
    assert first.raw == b"Subject: x\r\n\r\nDUA\r\n"
    assert first.sender_agent_code == "4821"
    await queue.record_error(job_id, "lectura fallida")
    (third,) = await queue.claim(10)
    assert (third.job.attempts, third.last_error) == (2, "lectura fallida")
    assert (await queue.job(job_id))[0].attempts == 1


async def test_an_unknown_sender_has_no_agent_code(store: Store):
    await queue_job(store)
    (claimed,) = await JobQueue(store).claim(1)
    assert claimed.sender_agent_code is None


async def test_claims_skip_excluded_jobs_and_stop_at_the_byte_budget(store: Store):
    ids = [await queue_job(store, b"x" * 1000) for _ in range(4)]
    queue = JobQueue(store)
    claimed = await queue.claim(10, exclude=[ids[0]], max_bytes=2500)
    assert [c.id for c in claimed] == ids[1:3]
    (alone,) = await queue.claim(10, exclude=ids[1:], max_bytes=10)  # one job even if larger
    assert alone.id == ids[0]


async def test_an_answer_is_visible_only_after_its_commit(store: Store, clock: FixedClock):
    job_id = await queue_job(store)
    queue = JobQueue(store)
    (claimed,) = await queue.claim(1)
    changes: list[Change] = []
    store.subscribe(changes.append)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with queue.answering(clock.now()) as answering:
            await answering.deliver(AGENT, "INBOX", b"reply")
            await answering.mark_done(job_id)
            raise Abort
    assert await store.list_messages(AGENT) == []
    assert (await queue.job(job_id))[0].state == JobState.PENDING.value
    assert changes == []

    async with queue.answering(clock.now()) as answering:
        assert await answering.pending_among([job_id, 999]) == {job_id}
        content_id = await answering.deliver(AGENT, "INBOX", b"reply 1")
        await answering.deliver(AGENT, "INBOX", b"reply 2")
        await answering.redeliver(OFFICE, "INBOX", content_id)
        await answering.mark_done(claimed.id)
    assert [m.uid for m in await store.list_messages(AGENT)] == [1, 2]
    assert await store.read_message(OFFICE, "INBOX", 1) == b"reply 1"
    assert (await queue.job(job_id))[0].state == JobState.DONE.value
    assert changes == [Change(frozenset({(AGENT, "INBOX"), (OFFICE, "INBOX")}))]


async def test_a_rejection_on_file_may_be_replaced_but_not_an_acceptance(
    store: Store, clock: FixedClock
):
    await queue_job(store)
    (claimed,) = await JobQueue(store).claim(1)
    common = {
        "job": claimed.job,
        "agent_code": "4821",
        "agent_reference": "R-1",
        "document_type": "DUA",
        "regime": "10",
        "office_code": "118",
    }
    async with JobQueue(store).answering(clock.now()) as answering:
        first = await answering.deliver(AGENT, "INBOX", b"rechazada")
        await answering.record_answer(
            **common, status=DeclarationStatus.REJECTED, reply_content_id=first
        )
    async with JobQueue(store).answering(clock.now()) as answering:
        rejected = await answering.recorded_answer("4821", "R-1")
        assert rejected is not None and rejected.status is DeclarationStatus.REJECTED
        second = await answering.deliver(AGENT, "INBOX", b"aceptada")
        await answering.record_answer(
            **common,
            status=DeclarationStatus.ACCEPTED,
            reply_content_id=second,
            number="118-2026-10-000001",
            channel="verde",
        )
    async with JobQueue(store).answering(clock.now()) as answering:
        await answering.prefetch_answers([("4821", "R-1"), ("4821", "R-2")])
        on_file = await answering.recorded_answer("4821", "R-1")
        assert on_file is not None
        assert (on_file.number, on_file.reply_content_id) == ("118-2026-10-000001", second)
        assert await answering.recorded_answer("4821", "R-2") is None
        with pytest.raises(ValueError, match="already accepted"):
            await answering.record_answer(
                **common, status=DeclarationStatus.REJECTED, reply_content_id=first
            )


async def test_uids_stay_consecutive_across_intake_and_answers(store: Store, clock: FixedClock):
    await store.deliver("otro@agencias.pe", [AGENT], b"hola")
    async with JobQueue(store).answering(datetime(2026, 11, 2, tzinfo=UTC)) as answering:
        for n in range(3):
            await answering.deliver(AGENT, "INBOX", f"r{n}".encode())
    await store.deliver("otro@agencias.pe", [AGENT], b"chau")
    assert [m.uid for m in await store.list_messages(AGENT)] == [1, 2, 3, 4, 5]


async def test_numbers_and_month_counts_taken_several_in_one_transaction(
    store: Store, clock: FixedClock
):
    """A series' row and a month's row are written once per transaction, however many
    declarations it numbers; what the next declaration sees is counted all the same."""
    month = ledgers.MonthKey("118", 2026, 11, "10")
    window = (clock.now(), clock.now())
    seen = []
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.database.writer.sync_engine, "before_cursor_execute", count)
    async with JobQueue(store).answering(clock.now()) as answering:
        numbers = [await answering.next_correlative("118", 2026, "10") for _ in range(3)]
        numbers.append(await answering.next_correlative("118", 2026, "40"))
        for base, red in ((1, 0), (0, 1), (1, 0)):
            seen.append(await answering.take_channel_month(month, previous=window, limit_from=str))
            await answering.count_channel(month, base=base, red=red)
    event.remove(store.database.writer.sync_engine, "before_cursor_execute", count)
    assert numbers == [1, 2, 3, 1]
    # Series 10: its first number, then the last one written; series 40: one number.
    assert sum("declaration_counters" in s for s in statements) == 3
    # The month: its first declaration (update, then create the row and update it), the rest
    # written once at the end; not two statements per declaration.
    assert sum("INTO channel_months" in s or "UPDATE channel_months" in s for s in statements) == 4
    assert [(m.numbered, m.base, m.red) for m in seen] == [(0, 0, 0), (1, 1, 0), (2, 1, 1)]
    async with JobQueue(store).answering(clock.now()) as answering:
        assert await answering.next_correlative("118", 2026, "10") == 4
        after = await answering.take_channel_month(month, previous=window, limit_from=str)
        await answering.count_channel(month, mandatory_red=1)
    assert (after.numbered, after.base, after.red, after.mandatory_red) == (3, 2, 1, 0)
    stored = await store.channel_month(month)
    assert stored is not None
    assert (stored.numbered, stored.base, stored.red, stored.mandatory_red) == (4, 2, 1, 1)


async def test_a_reply_and_its_office_copy_are_written_with_one_statement(
    store: Store, clock: FixedClock
):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.database.writer.sync_engine, "before_cursor_execute", count)
    async with JobQueue(store).answering(clock.now()) as answering:
        ids = await answering.deliver_all(
            [
                (AGENT, "INBOX", b"Subject: respuesta\n\nA\n"),
                (OFFICE, "Rojo", b"Subject: copia\r\n\r\nB\r\n"),
            ]
        )
    event.remove(store.database.writer.sync_engine, "before_cursor_execute", count)
    assert sum("INSERT INTO message_contents" in s for s in statements) == 1
    assert len(set(ids)) == 2
    (reply,) = await store.list_messages(AGENT)
    (copy,) = await store.list_messages(OFFICE, "Rojo")
    assert await store.read_message(AGENT, "INBOX", reply.uid) == b"Subject: respuesta\r\n\r\nA\r\n"
    assert await store.read_message(OFFICE, "Rojo", copy.uid) == b"Subject: copia\r\n\r\nB\r\n"
