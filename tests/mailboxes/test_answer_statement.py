"""The end of an answering transaction: one statement on PostgreSQL, the same rows as the
separate statements SQLite runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from config.clock import FixedClock
from gateway.directory import INTAKE_FOLDER
from mailboxes import ledgers
from mailboxes.jobs import Answering, ClaimedJob, JobQueue
from mailboxes.records import Recipient
from mailboxes.routing import FixedRouting
from mailboxes.schema import (
    ChannelMonthRow,
    DeclarationCounterRow,
    DeclarationRow,
    DeclarationStatus,
    IntakeJobRow,
    MessageContentRow,
    RelayRow,
)
from mailboxes.store import Store
from tests.conftest import FAST_HASHER
from tests.mailboxes.observed import Observed
from tests.mailboxes.stored import FILED_ROWS, MAILBOX_ROWS, stored
from tests.postgres import fresh_database_url

AGENT = "agente1@agencias.pe"
NEWCOMER = "agente2@agencias.pe"
OFFICE = "aduana-118@aduanas.gob.pe"
MONTH = ledgers.MonthKey("118", 2026, 11, "10")


async def three_jobs(store: Store) -> list[ClaimedJob]:
    """Three DUAs queued for the office and claimed; the agent's inbox and the office's
    green folder exist already, with a message each."""
    await store.deliver("otro@agencias.pe", [AGENT, Recipient(OFFICE, "Verde")], b"hola")
    for n in range(3):
        raw = f"Subject: DUA {n}\r\n\r\nDUA\r\n".encode()
        await store.deliver(AGENT, [Recipient(OFFICE, INTAKE_FOLDER, "118")], raw)
    return await JobQueue(store).claim(3)


def accept(answering: Answering, job: ClaimedJob, reference: str, copy_folder: str) -> None:
    """An acceptance as the pipeline commits one: a number, the month, the reply and the
    office's copy, the answer, the job done."""
    number = answering.next_correlative("118", 2026, "10")
    answering.take_channel_month(MONTH, previous=(answering.now, answering.now), limit_from=str)
    red = copy_folder == "Rojo"
    answering.count_channel(MONTH, base=int(not red), red=int(red))
    reply, _ = answering.deliver_all(
        [
            (AGENT, "INBOX", f"aceptada {reference}".encode()),
            (OFFICE, copy_folder, f"copia {reference}".encode()),
        ]
    )
    number_text = f"118-2026-10-{number:06d}"
    channel = "rojo" if red else "verde"
    record(answering, job, reference, reply, number_text, channel, f"digest {reference}")
    answering.mark_done(job.id)


def reject(answering: Answering, job: ClaimedJob, reference: str, to: str = AGENT) -> None:
    reply = answering.deliver(to, "INBOX", f"rechazada {reference}".encode())
    record(answering, job, reference, reply)


def record(
    answering: Answering,
    job: ClaimedJob,
    reference: str,
    reply: int,
    number: str | None = None,
    channel: str | None = None,
    digest: str | None = None,
) -> None:
    """An answer of the agent 4821 for a DUA of office 118: accepted when numbered."""
    answering.record_answer(
        job=job.job,
        agent_code="4821",
        agent_reference=reference,
        document_type="DUA",
        regime="10",
        office_code="118",
        status=DeclarationStatus.REJECTED if number is None else DeclarationStatus.ACCEPTED,
        reply_content_id=reply,
        number=number,
        channel=channel,
        document_digest=digest,
    )


async def answer_three(store: Store, clock: FixedClock, copies: tuple[str, str, str]) -> None:
    """A rejection on file for R-2, then one transaction that answers the three jobs: R-0
    and R-1 accepted, R-2 accepted over its rejection, a rejection to a newcomer, and a
    second series whose only number needs no write at the end."""
    claimed = await three_jobs(store)
    queue = JobQueue(store)
    await queue.answer(clock.now(), lambda answering: reject(answering, claimed[2], "R-2"))

    def answer_all(answering: Answering) -> None:
        assert answering.pending_among([job.id for job in claimed]) == {j.id for j in claimed}
        for n, (job, folder) in enumerate(zip(claimed, copies, strict=True)):
            accept(answering, job, f"R-{n}", folder)
        reject(answering, claimed[0], "R-9", to=NEWCOMER)
        assert answering.next_correlative("118", 2026, "40") == 1

    await queue.answer(clock.now(), answer_all)


async def rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """What answering writes, with contents named by their bytes rather than by id."""
    reply = aliased(MessageContentRow)
    submission = aliased(MessageContentRow)
    queries = {
        "mailboxes": MAILBOX_ROWS,
        "filed": FILED_ROWS,
        "declarations": select(
            DeclarationRow.agent_reference,
            DeclarationRow.status,
            DeclarationRow.number,
            DeclarationRow.channel,
            reply.raw,
            submission.raw,
            DeclarationRow.received_at,
            DeclarationRow.answered_at,
            DeclarationRow.document_digest,
        )
        .join(reply, reply.id == DeclarationRow.reply_content_id)
        .join(IntakeJobRow, IntakeJobRow.id == DeclarationRow.job_id)
        .join(submission, submission.id == IntakeJobRow.content_id)
        .order_by(DeclarationRow.agent_reference),
        "series": select(DeclarationCounterRow.regime, DeclarationCounterRow.last).order_by(
            DeclarationCounterRow.regime
        ),
        "months": select(
            ChannelMonthRow.numbered,
            ChannelMonthRow.base,
            ChannelMonthRow.red,
            ChannelMonthRow.mandatory_red,
        ),
        "jobs": select(
            MessageContentRow.raw, IntakeJobRow.state, IntakeJobRow.finished_at, IntakeJobRow.error
        )
        .join(MessageContentRow, MessageContentRow.id == IntakeJobRow.content_id)
        .order_by(IntakeJobRow.id),
    }
    return await stored(store, queries)


async def test_the_end_of_an_answering_transaction_is_one_statement(
    postgres_store: Store, clock: FixedClock
) -> None:
    """Contents, UIDs, filings, the numbers and the month written since their rows were
    locked, new answers and jobs done: one round trip, then COMMIT."""
    store = postgres_store
    claimed = await three_jobs(store)
    await store.deliver("otro@agencias.pe", [Recipient(OFFICE, "Rojo")], b"hola")
    statements_before_end: list[int] = []

    def answer_all(answering: Answering, observed: Observed) -> None:
        for n, (job, folder) in enumerate(zip(claimed, ("Verde", "Rojo", "Verde"), strict=True)):
            accept(answering, job, f"R-{n}", folder)
        statements_before_end.append(len(observed.statements))

    with Observed(store.database) as observed:
        await JobQueue(store).answer(clock.now(), lambda a: answer_all(a, observed))
    (end,) = observed.statements[statements_before_end[0] :]
    assert end.lstrip().startswith("WITH content AS")
    assert observed.commands[-1] == "COMMIT"
    written = await rows(store)
    assert written["series"] == [("10", 3)]
    assert written["months"] == [(3, 2, 1, 0)]
    assert [row[:4] for row in written["declarations"]] == [
        ("R-0", "accepted", "118-2026-10-000001", "verde"),
        ("R-1", "accepted", "118-2026-10-000002", "rojo"),
        ("R-2", "accepted", "118-2026-10-000003", "verde"),
    ]
    assert [state for _, state, _, _ in written["jobs"]] == ["done"] * 3


async def test_it_writes_what_the_separate_statements_write(
    tmp_path: Path, clock: FixedClock
) -> None:
    """The same transaction on SQLite (a statement for each part) and on PostgreSQL (one
    statement): the same rows, UIDs, counts and modseqs. Its red copy is the office's first
    in that folder and the newcomer's rejection its first mail: on PostgreSQL those two
    mailboxes are created and filed after the statement."""
    written = []
    for url in (f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", await fresh_database_url()):
        store = await Store.open(url, clock=clock, hasher=FAST_HASHER)
        try:
            await answer_three(store, clock, ("Verde", "Rojo", "Verde"))
            written.append(await rows(store))
        finally:
            await store.close()
    by_statements, by_one_statement = written
    assert by_one_statement == by_statements
    # uid_next, messages, unseen, highest modseq
    assert [row[1:6] for row in by_one_statement["mailboxes"]] == [
        (INTAKE_FOLDER, 4, 3, 3, 3),
        ("Rojo", 2, 1, 1, 1),
        ("Verde", 4, 3, 3, 2),
        ("INBOX", 6, 5, 5, 3),
        ("INBOX", 2, 1, 1, 1),
    ]
    assert [row[:4] for row in by_one_statement["declarations"]] == [
        ("R-0", "accepted", "118-2026-10-000001", "verde"),
        ("R-1", "accepted", "118-2026-10-000002", "rojo"),
        ("R-2", "accepted", "118-2026-10-000003", "verde"),
        ("R-9", "rejected", None, None),
    ]
    assert by_one_statement["series"] == [("10", 3), ("40", 1)]
    assert by_one_statement["months"] == [(3, 2, 1, 0)]
    assert [state for _, state, _, _ in by_one_statement["jobs"]] == ["done"] * 3
    agent_inbox = [row[2:4] for row in by_one_statement["filed"] if row[0] == AGENT]
    assert agent_inbox == [
        (1, b"hola"),
        (2, b"rechazada R-2"),
        (3, b"aceptada R-0"),
        (4, b"aceptada R-1"),
        (5, b"aceptada R-2"),
    ]


@dataclass(frozen=True)
class _Elsewhere:
    """Routes on which the newcomer is homed on another node."""

    held_offices: frozenset[str] = frozenset()

    def remote_node(self, address: str) -> str | None:
        return "callao-maritima" if address == NEWCOMER else None


async def test_a_reply_to_an_agent_homed_elsewhere_is_relayed_after_its_content(
    store: Store, clock: FixedClock
) -> None:
    """The relay refers to the reply's content, written in the same transaction."""
    routed = await Store.open(
        store.database.url,
        clock=clock,
        hasher=store.hasher,
        migrate=False,
        routing=FixedRouting(_Elsewhere()),
    )
    try:
        claimed = await three_jobs(routed)

        def answer(answering: Answering) -> None:
            reject(answering, claimed[0], "R-0", to=NEWCOMER)
            reject(answering, claimed[1], "R-1")
            for job in claimed[:2]:
                answering.mark_done(job.id)

        await JobQueue(routed).answer(clock.now(), answer)
    finally:
        await routed.close()
    async with store.database.read() as connection:
        relayed = (
            await connection.execute(
                select(RelayRow.recipient, RelayRow.node, MessageContentRow.raw).join(
                    MessageContentRow, MessageContentRow.id == RelayRow.content_id
                )
            )
        ).all()
    assert [tuple(row) for row in relayed] == [(NEWCOMER, "callao-maritima", b"rechazada R-0")]
    assert await store.list_messages(NEWCOMER) == []
    assert [m.uid for m in await store.list_messages(AGENT)] == [1, 2]
