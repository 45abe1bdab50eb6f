"""The pipeline's side of the store: claiming jobs and answering them in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from config.clock import FixedClock
from gateway.directory import INTAKE_FOLDER
from mailboxes import ledgers
from mailboxes.answer_facts import read_facts
from mailboxes.folders import Folders
from mailboxes.jobs import CLAIM_PAGE, Answering, JobQueue
from mailboxes.records import Recipient
from mailboxes.routing import FixedRouting
from mailboxes.schema import DeclarationStatus, JobState
from mailboxes.store import Change, Store

AGENT = "agente1@agencias.pe"
OTHER_AGENT = "agente2@agencias.pe"
OFFICE = "aduana-118@aduanas.gob.pe"
INTAKE = Recipient(OFFICE, INTAKE_FOLDER, "118")


async def queue_job(store: Store, raw: bytes = b"Subject: x\r\n\r\nDUA\r\n") -> int:
    (job_id,) = await store.deliver(AGENT, [INTAKE], raw)
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


async def test_a_claim_excluding_more_ids_than_a_statement_can_bind_still_claims(store: Store):
    """Jobs waiting out a retry delay are excluded from every claim, and a pass's failures
    with them: however many there are, a claim binds a fixed few parameters (PostgreSQL
    takes at most 32 767 in one statement) and still finds the jobs that may be taken."""
    ids = [await queue_job(store) for _ in range(3 * CLAIM_PAGE)]
    queue = JobQueue(store)
    far_away = range(10**6, 10**6 + 40_000)  # no such jobs: they cost the claim nothing
    with statements_run() as run:
        claimed = await queue.claim(4, exclude=[*ids[:-5], ids[-3], *far_away])
    assert [c.id for c in claimed] == [*ids[-5:-3], *ids[-2:]]
    assert len(run) == 4  # three pages of pending jobs, then the jobs taken


async def test_one_senders_backlog_does_not_hold_another_senders_job(store: Store):
    """Claimed oldest first, a single job waited for every job another sender had queued
    before it. Taken in turn, it comes within the first turns of the backlog (here first:
    a small mail counts less than one of the backlog's), once the jobs in hand are read,
    not once the whole backlog is."""
    flood = [await queue_job(store, b"x" * 60_000) for _ in range(40)]
    (newcomer,) = await store.deliver(OTHER_AGENT, [INTAKE], b"Subject: y\r\n\r\nDUA\r\n")
    queue = JobQueue(store)
    first = await queue.claim(4)
    assert [c.id for c in first] == [newcomer, *flood[:3]]
    (later,) = await store.deliver(OTHER_AGENT, [INTAKE], b"Subject: z\r\n\r\nDUA\r\n")
    second = await queue.claim(3, exclude=[c.id for c in first])
    assert [c.id for c in second] == [later, *flood[3:5]]


async def test_a_reopened_store_keeps_the_turns_of_the_jobs_it_finds_pending(
    store: Store, clock: FixedClock
):
    """As a restarted node finds it: the head at the lowest pending turn (the backlog's
    first, taken first), each sender's last turn read back, so a newcomer comes right
    after the head and the backlog's sender after its backlog."""
    flood = [await queue_job(store, b"x" * 60_000) for _ in range(10)]
    reopened = await Store.open(store.database.url, clock=clock, hasher=store.hasher)
    try:
        (newcomer,) = await reopened.deliver(OTHER_AGENT, [INTAKE], b"Subject: y\r\n\r\n")
        (more,) = await reopened.deliver(AGENT, [INTAKE], b"x" * 60_000)
        claimed = await JobQueue(reopened).claim(20)
    finally:
        await reopened.close()
    assert [c.id for c in claimed] == [flood[0], newcomer, *flood[1:], more]


@dataclass(frozen=True)
class _Holding:
    """Routes with offices moved in whose numbering is not handed over yet."""

    held_offices: frozenset[str]

    def remote_node(self, address: str) -> str | None:
        return None


async def test_a_claim_leaves_the_jobs_of_held_offices_however_many_come_first(
    store: Store, clock: FixedClock
):
    other = Recipient("aduana-235@aduanas.gob.pe", INTAKE_FOLDER, "235")
    held = [await queue_job(store) for _ in range(CLAIM_PAGE + 3)]
    (free,) = await store.deliver(AGENT, [other], b"Subject: y\r\n\r\nDUA\r\n")
    holding = await Store.open(
        store.database.url,
        clock=clock,
        hasher=store.hasher,
        migrate=False,
        routing=FixedRouting(_Holding(frozenset({"118"}))),
    )
    try:
        (claimed,) = await JobQueue(holding).claim(10, exclude=held[:2])
    finally:
        await holding.close()
    assert claimed.id == free


async def test_claims_of_other_sizes_run_the_same_statements(store: Store):
    """A claim comes every time half the jobs in hand are read, excluding and taking lists
    of ids of every length. The excluded are skipped as the pending jobs are read, and the
    ids taken are padded (``fixed_lists``): the same two statements, each compiled once, not
    SQL rendered anew for every length."""
    ids = [await queue_job(store) for _ in range(8)]
    queue = JobQueue(store)
    with statements_run() as three:
        first = await queue.claim(3, exclude=ids[:3])
    with statements_run() as four:
        second = await queue.claim(4, exclude=ids[:4])
    assert [c.id for c in first] == ids[3:6]
    assert [c.id for c in second] == ids[4:8]
    assert len(three) == 2 and three == four


async def test_an_answer_is_visible_only_after_its_commit(store: Store, clock: FixedClock):
    job_id = await queue_job(store)
    queue = JobQueue(store)
    (claimed,) = await queue.claim(1)
    changes: list[Change] = []
    store.subscribe(changes.append)

    class Abort(Exception):
        pass

    def aborted(answering: Answering) -> None:
        answering.deliver(AGENT, "INBOX", b"reply")
        answering.mark_done(job_id)
        raise Abort

    with pytest.raises(Abort):
        await queue.answer(clock.now(), aborted)
    assert await store.list_messages(AGENT) == []
    assert (await queue.job(job_id))[0].state == JobState.PENDING.value
    assert changes == []

    def answered(answering: Answering) -> set[int]:
        pending = answering.pending_among([job_id, 999])
        content_id = answering.deliver(AGENT, "INBOX", b"reply 1")
        answering.deliver(AGENT, "INBOX", b"reply 2")
        answering.redeliver(OFFICE, "INBOX", content_id)
        answering.mark_done(claimed.id)
        return pending

    assert await queue.answer(clock.now(), answered) == {job_id}
    assert [m.uid for m in await store.list_messages(AGENT)] == [1, 2]
    assert await store.read_message(OFFICE, "INBOX", 1) == b"reply 1"
    assert (await queue.job(job_id))[0].state == JobState.DONE.value
    assert changes == [Change(frozenset({(AGENT, "INBOX"), (OFFICE, "INBOX")}))]


async def test_an_answering_transaction_is_one_hand_off_to_the_database_thread(
    store: Store, clock: FixedClock, hand_offs: list[int]
):
    """However many jobs and statements: number, month, mails, answers, jobs done."""
    if not store.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")
    job_ids = [await queue_job(store) for _ in range(3)]
    claimed = await JobQueue(store).claim(3)
    month = ledgers.MonthKey("118", 2026, 11, "10")
    window = (clock.now(), clock.now())

    def answer_all(answering: Answering) -> list[int]:
        pending = answering.pending_among(job_ids)
        answering.prefetch_answers([("4821", f"R-{job.id}") for job in claimed])
        numbers = []
        for job in claimed:
            numbers.append(answering.next_correlative("118", 2026, "10"))
            answering.take_channel_month(month, previous=window, limit_from=str)
            answering.count_channel(month, base=1)
            reply, _ = answering.deliver_all(
                [(AGENT, "INBOX", b"aceptada"), (OFFICE, "Verde", b"copia")]
            )
            answering.record_answer(
                job=job.job,
                agent_code="4821",
                agent_reference=f"R-{job.id}",
                document_type="DUA",
                regime="10",
                office_code="118",
                status=DeclarationStatus.ACCEPTED,
                reply_content_id=reply,
                number=f"118-2026-10-{numbers[-1]:06d}",
                channel="verde",
            )
            answering.mark_done(job.id)
        assert pending == set(job_ids)
        return numbers

    queue = JobQueue(store)
    hand_offs[0] = 0
    assert await queue.answer(clock.now(), answer_all) == [1, 2, 3]
    assert hand_offs[0] == 1
    assert [m.uid for m in await store.list_messages(AGENT)] == [1, 2, 3]
    states = [(await queue.job(job_id))[0].state for job_id in job_ids]
    assert states == [JobState.DONE.value] * 3


async def test_a_rejection_on_file_may_be_replaced_but_not_an_acceptance(
    store: Store, clock: FixedClock
):
    await queue_job(store)
    (claimed,) = await JobQueue(store).claim(1)
    common: dict[str, Any] = {
        "job": claimed.job,
        "agent_code": "4821",
        "agent_reference": "R-1",
        "document_type": "DUA",
        "regime": "10",
        "office_code": "118",
    }

    def reject(answering: Answering) -> int:
        first = answering.deliver(AGENT, "INBOX", b"rechazada")
        answering.record_answer(**common, status=DeclarationStatus.REJECTED, reply_content_id=first)
        return first

    def accept(answering: Answering) -> int:
        rejected = answering.recorded_answer("4821", "R-1")
        assert rejected is not None and rejected.status is DeclarationStatus.REJECTED
        second = answering.deliver(AGENT, "INBOX", b"aceptada")
        answering.record_answer(
            **common,
            status=DeclarationStatus.ACCEPTED,
            reply_content_id=second,
            number="118-2026-10-000001",
            channel="verde",
        )
        return second

    first = await JobQueue(store).answer(clock.now(), reject)
    second = await JobQueue(store).answer(clock.now(), accept)

    def replace_acceptance(answering: Answering) -> None:
        answering.prefetch_answers([("4821", "R-1"), ("4821", "R-2")])
        on_file = answering.recorded_answer("4821", "R-1")
        assert on_file is not None
        assert (on_file.number, on_file.reply_content_id) == ("118-2026-10-000001", second)
        assert answering.recorded_answer("4821", "R-2") is None
        answering.record_answer(**common, status=DeclarationStatus.REJECTED, reply_content_id=first)

    with pytest.raises(ValueError, match="already accepted"):
        await JobQueue(store).answer(clock.now(), replace_acceptance)


async def test_uids_stay_consecutive_across_intake_and_answers(store: Store, clock: FixedClock):
    await store.deliver("otro@agencias.pe", [AGENT], b"hola")

    def three(answering: Answering) -> None:
        for n in range(3):
            answering.deliver(AGENT, "INBOX", f"r{n}".encode())

    await JobQueue(store).answer(datetime(2026, 11, 2, tzinfo=UTC), three)
    await store.deliver("otro@agencias.pe", [AGENT], b"chau")
    assert [m.uid for m in await store.list_messages(AGENT)] == [1, 2, 3, 4, 5]


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL sent by every engine meanwhile (a unit of work on SQLite runs on an engine of
    its own, in the database's thread)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    had_events = Engine._has_events
    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)
        # SQLAlchemy leaves the flag set; the store's fixed statements would then all go the
        # way that fires events (``mailboxes.fixed_statements``) in every later test
        Engine._has_events = had_events  # type: ignore[misc]


async def test_numbers_and_month_counts_taken_several_in_one_transaction(
    store: Store, clock: FixedClock
):
    """A series' row and a month's row are written once per transaction, however many
    declarations it numbers; what the next declaration sees is counted all the same."""
    month = ledgers.MonthKey("118", 2026, 11, "10")
    window = (clock.now(), clock.now())
    seen = []

    def several(answering: Answering) -> list[int]:
        numbers = [answering.next_correlative("118", 2026, "10") for _ in range(3)]
        numbers.append(answering.next_correlative("118", 2026, "40"))
        for base, red in ((1, 0), (0, 1), (1, 0)):
            seen.append(answering.take_channel_month(month, previous=window, limit_from=str))
            answering.count_channel(month, base=base, red=red)
        return numbers

    with statements_run() as statements:
        numbers = await JobQueue(store).answer(clock.now(), several)
    assert numbers == [1, 2, 3, 1]
    # Series 10: its first number, then the last one written; series 40: one number.
    assert sum("declaration_counters" in s for s in statements) == 3
    # The month: its first declaration (update, then create the row and update it), the rest
    # written once at the end; not two statements per declaration.
    assert sum("INTO channel_months" in s or "UPDATE channel_months" in s for s in statements) == 4
    assert [(m.numbered, m.base, m.red) for m in seen] == [(0, 0, 0), (1, 1, 0), (2, 1, 1)]

    def one_more(answering: Answering) -> tuple[int, ledgers.ChannelMonth]:
        number = answering.next_correlative("118", 2026, "10")
        after = answering.take_channel_month(month, previous=window, limit_from=str)
        answering.count_channel(month, mandatory_red=1)
        return number, after

    number, after = await JobQueue(store).answer(clock.now(), one_more)
    assert number == 4
    assert (after.numbered, after.base, after.red, after.mandatory_red) == (3, 2, 1, 0)
    stored = await store.channel_month(month)
    assert stored is not None
    assert (stored.numbered, stored.base, stored.red, stored.mandatory_red) == (4, 2, 1, 1)


async def test_a_reply_and_its_office_copy_are_written_with_one_statement(
    store: Store, clock: FixedClock
):
    def both(answering: Answering) -> list[int]:
        return answering.deliver_all(
            [
                (AGENT, "INBOX", b"Subject: respuesta\n\nA\n"),
                (OFFICE, "Rojo", b"Subject: copia\r\n\r\nB\r\n"),
            ]
        )

    with statements_run() as statements:
        ids = await JobQueue(store).answer(clock.now(), both)
    assert sum("INSERT INTO message_contents" in s for s in statements) == 1
    assert len(set(ids)) == 2
    (reply,) = await store.list_messages(AGENT)
    (copy,) = await store.list_messages(OFFICE, "Rojo")
    assert await store.read_message(AGENT, "INBOX", reply.uid) == b"Subject: respuesta\r\n\r\nA\r\n"
    assert await store.read_message(OFFICE, "Rojo", copy.uid) == b"Subject: copia\r\n\r\nB\r\n"


async def test_the_replies_of_a_whole_transaction_are_written_with_one_statement(
    store: Store, clock: FixedClock
):
    """The content ids are taken in the transaction (SQLite: one look at the highest id, its
    one writer being the transaction's; PostgreSQL: a few dozen from the sequence at once)
    and every reply and copy of it goes in one statement, not two per acceptance."""

    def batch(answering: Answering) -> list[int]:
        ids: list[int] = []
        for n in range(4):
            ids += answering.deliver_all(
                [(AGENT, "INBOX", f"respuesta {n}".encode()), (OFFICE, "Verde", b"copia")]
            )
        ids.append(answering.deliver(AGENT, "INBOX", b"rechazo"))
        answering.redeliver(AGENT, "INBOX", ids[0])
        return ids

    await store.deliver("otro@agencias.pe", [AGENT], b"hola")
    with statements_run() as statements:
        ids = await JobQueue(store).answer(clock.now(), batch)
    assert sum("INSERT INTO message_contents" in s for s in statements) == 1
    assert sum("max(message_contents.id)" in s or "nextval" in s for s in statements) == 1
    assert len(set(ids)) == 9

    def many(answering: Answering) -> list[int]:  # more than are taken at once
        return [answering.deliver(OFFICE, "Rojo", f"copia {n}".encode()) for n in range(40)]

    more = await JobQueue(store).answer(clock.now(), many)
    assert len(set(more)) == 40 and not set(more) & set(ids)
    rojo = await store.list_messages(OFFICE, "Rojo")
    assert [await store.read_message(OFFICE, "Rojo", m.uid) for m in rojo] == [
        f"copia {n}".encode() for n in range(40)
    ]
    listed = await store.list_messages(AGENT)
    assert [m.uid for m in listed] == list(range(1, 8))
    bodies = [await store.read_message(AGENT, "INBOX", m.uid) for m in listed]
    assert bodies == [
        b"hola",
        *(f"respuesta {n}".encode() for n in range(4)),
        b"rechazo",
        b"respuesta 0",
    ]
    assert len(await store.list_messages(OFFICE, "Verde")) == 4


async def test_answers_on_file_are_looked_up_by_exact_pair_through_the_key(
    store: Store, clock: FixedClock
):
    """Asked for many (agent code, reference) pairs at once, the store answers each pair and
    only it (another agent's answer for the same reference is not this one's), and on SQLite
    through the table's key, not by scanning every declaration on file."""
    await queue_job(store)
    (claimed,) = await JobQueue(store).claim(1)

    def record(answering: Answering) -> None:
        for code, reference in (("4821", "R-1"), ("5307", "R-2")):
            reply = answering.deliver(AGENT, "INBOX", f"rechazo {reference}".encode())
            answering.record_answer(
                job=claimed.job,
                agent_code=code,
                agent_reference=reference,
                document_type="DUA",
                regime="10",
                office_code="118",
                status=DeclarationStatus.REJECTED,
                reply_content_id=reply,
            )

    await JobQueue(store).answer(clock.now(), record)
    asked = [("4821", "R-1"), ("4821", "R-2"), ("5307", "R-1"), ("5307", "R-2"), ("9999", "R-1")]
    with statements_run() as statements:
        found = await read_facts(store, lambda reader: reader.recorded_answers(asked))
    assert {key for key, answer in found.items() if answer is not None} == {
        ("4821", "R-1"),
        ("5307", "R-2"),
    }
    assert set(found) == set(asked)
    many = [(f"{n:04d}", f"R-{n}") for n in range(300)] + [("5307", "R-2")]  # two statements
    found = await read_facts(store, lambda reader: reader.recorded_answers(many))
    assert set(found) == set(many)
    assert [key for key, answer in found.items() if answer is not None] == [("5307", "R-2")]
    (lookup,) = [s for s in statements if "FROM declarations" in s]
    if store.database.is_sqlite:

        def plan(connection: Connection) -> list[str]:
            blanks = ("",) * lookup.count("?")
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + lookup, blanks)
            return [str(row[-1]) for row in rows]

        steps = await store.database.run(plan)
        assert not [step for step in steps if step.startswith("SCAN declarations")], steps


async def test_the_uids_of_every_mailbox_of_a_transaction_are_taken_with_one_statement(
    store: Store, clock: FixedClock
):
    """Replies to several agents: one ``UPDATE`` takes the UIDs of all their mailboxes, each
    by its own count; a mailbox that does not exist yet is created as before."""
    other = "agente2@agencias.pe"
    await store.deliver("otro@agencias.pe", [AGENT, other], b"hola")

    def replies(answering: Answering) -> None:
        for n in range(3):
            answering.deliver(AGENT, "INBOX", f"a{n}".encode())
        answering.deliver(other, "INBOX", b"b0")
        answering.deliver(OFFICE, "Verde", b"copia")  # its first message

    with statements_run() as statements:
        await JobQueue(store).answer(clock.now(), replies)
    taking = [s for s in statements if s.lstrip().startswith("UPDATE mailboxes")]
    if store.database.is_sqlite:
        assert len(taking) == 2  # the two agents' at once; then the office's, found missing
    else:  # the agents' in the transaction's last statement; the office's tried, then created
        (last,) = [s for s in statements if s.lstrip().startswith("WITH content")]
        assert "UPDATE mailboxes" in last
        assert len(taking) == 1
    assert [m.uid for m in await store.list_messages(AGENT)] == [1, 2, 3, 4]
    assert [m.uid for m in await store.list_messages(other)] == [1, 2]
    assert [m.uid for m in await store.list_messages(OFFICE, "Verde")] == [1]
    mine = await store.list_messages(AGENT)
    assert [await store.read_message(AGENT, "INBOX", m.uid) for m in mine] == [
        b"hola",
        b"a0",
        b"a1",
        b"a2",
    ]
    folders = Folders(store)
    for owner, messages in ((AGENT, 4), (other, 2)):
        inbox = await folders.get(owner, "INBOX")
        assert inbox is not None
        state = await folders.state(inbox.id)
        assert state is not None
        assert (state.messages, state.unseen, state.uid_next) == (messages, messages, messages + 1)
