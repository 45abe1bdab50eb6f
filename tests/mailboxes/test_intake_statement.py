"""An intake batch on PostgreSQL: one statement, the same rows as the transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, select

from config.clock import FixedClock
from mailboxes.records import Recipient
from mailboxes.schema import IntakeJobRow, MessageContentRow
from mailboxes.store import JOB_COLUMNS, Store
from tests.conftest import FAST_HASHER
from tests.mailboxes.observed import Observed
from tests.mailboxes.stored import FILED_ROWS, MAILBOX_ROWS, stored
from tests.postgres import fresh_database_url

OFFICE = "aduana-118@aduanas.gob.pe"
OTHER_OFFICE = "aduana-235@aduanas.gob.pe"
AGENT = "agente1@agencias.pe"
INTAKE = Recipient(OFFICE, intake_office="118")
OTHER_INTAKE = Recipient(OTHER_OFFICE, intake_office="235")

Batch = list[tuple[str, list[Recipient], bytes]]
"""Deliveries made together (one group commit): sender, recipients, bytes."""

BATCH: Batch = [
    (AGENT, [INTAKE, Recipient(AGENT, "Sent")], b"Subject: one\r\n\r\nuno\r\n"),
    (AGENT, [Recipient(AGENT)], b"Subject: two\r\n\r\ndos\r\n"),
    ("", [OTHER_INTAKE, Recipient(AGENT)], b"Subject: three\r\n\r\ntres\r\n"),
    (AGENT, [INTAKE], b"Subject: four\r\n\r\ncuatro\r\n"),
]
"""The second office's intake comes before the first office's last: jobs are numbered in
the order the mails came, whichever office they are for."""
MAILBOXES = [(OFFICE, "INBOX"), (OTHER_OFFICE, "INBOX"), (AGENT, "INBOX"), (AGENT, "Sent")]


async def deliver_together(
    store: Store, batch: Batch, also: Callable[[Connection], None] | None = None
) -> list[list[int]]:
    """``batch`` delivered at once, so that it is written as one batch."""
    return list(
        await asyncio.gather(
            *(store.deliver(sender, targets, raw, also=also) for sender, targets, raw in batch)
        )
    )


async def create_mailboxes(store: Store) -> None:
    for owner, folder in MAILBOXES:
        await store.deliver(AGENT, [Recipient(owner, folder)], b"Subject: first\r\n\r\n.\r\n")


async def rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an intake writes, with contents named by their bytes rather than by id."""
    jobs = (
        select(*JOB_COLUMNS, IntakeJobRow.finished_at, IntakeJobRow.error, MessageContentRow.raw)
        .join(MessageContentRow, MessageContentRow.id == IntakeJobRow.content_id)
        .order_by(IntakeJobRow.id)
    )
    contents = select(func.count(MessageContentRow.id))
    return await stored(
        store, {"mailboxes": MAILBOX_ROWS, "filed": FILED_ROWS, "jobs": jobs, "contents": contents}
    )


async def test_a_batch_is_one_statement_outside_a_transaction_block(
    postgres_store: Store,
) -> None:
    """Each intake commit is time the submitting clients wait for their 250: on PostgreSQL
    a batch is one round trip, not BEGIN, four statements and COMMIT."""
    store = postgres_store
    await create_mailboxes(store)
    with Observed(store.database) as by_statement:
        job_ids = await deliver_together(store, BATCH)
    # The way that stays, for what the statement skips:
    with Observed(store.database) as by_transaction:
        await deliver_together(store, BATCH, also=lambda connection: None)
    assert len(by_statement.statements) == 1
    assert by_statement.statements[0].lstrip().startswith("WITH delivery")
    assert by_statement.commands == []
    assert len(by_transaction.statements) > 1
    assert by_transaction.commands[0].startswith("BEGIN")
    assert by_transaction.commands[-1] == "COMMIT"
    first = min(job_ids[0])
    assert job_ids == [[first], [], [first + 1], [first + 2]]
    assert {job.id for job in await store.pending_jobs()} >= {first, first + 1, first + 2}


async def test_it_writes_what_the_transaction_writes(clock: FixedClock) -> None:
    """The same deliveries, one store by the statement and one by the transaction (a
    delivery with statements of its own takes it): the same rows, UIDs and counts."""
    written = []
    for also in (None, lambda connection: None):
        store = await Store.open(await fresh_database_url(), clock=clock, hasher=FAST_HASHER)
        try:
            await create_mailboxes(store)
            job_ids = await deliver_together(store, BATCH, also=also)
            written.append((job_ids, await rows(store)))
        finally:
            await store.close()
    (statement_jobs, by_statement), (transaction_jobs, by_transaction) = written
    assert by_statement == by_transaction
    assert statement_jobs == transaction_jobs
    # uid_next, messages, unseen: each mailbox's first mail and what the batch filed there
    assert [row[2:5] for row in by_statement["mailboxes"]] == [
        (4, 3, 3),
        (3, 2, 2),
        (4, 3, 3),
        (3, 2, 2),
    ]
    first = statement_jobs[0][0]
    assert statement_jobs == [[first], [], [first + 1], [first + 2]]


async def test_a_new_mailbox_in_the_batch_is_created_by_the_transaction(
    postgres_store: Store,
) -> None:
    """The statement cannot create a mailbox: refused whole, the batch is written by the
    transaction, and nothing of the refused statement remains."""
    store = postgres_store
    await create_mailboxes(store)
    newcomer = "agente2@agencias.pe"
    batch: Batch = [
        (AGENT, [INTAKE], b"Subject: a\r\n\r\na\r\n"),
        (AGENT, [Recipient(newcomer), INTAKE], b"Subject: b\r\n\r\nb\r\n"),
    ]
    job_ids = await deliver_together(store, batch)
    written = await rows(store)
    assert written["contents"] == [(len(MAILBOXES) + 2,)]
    assert [(m.uid, m.size) for m in await store.list_messages(newcomer)] == [(1, 17)]
    assert [len(jobs) for jobs in job_ids] == [1, 1]
    assert [row[-1] for row in written["jobs"]] == [
        b"Subject: a\r\n\r\na\r\n",
        b"Subject: b\r\n\r\nb\r\n",
    ]
