"""An intake batch written on PostgreSQL with one statement, as one round trip.

Each SMTP client waits for its ``250`` until its message is committed, so the time an intake
commit takes is time every submitting client waits. On PostgreSQL the batch's transaction
(``Store._write_rows``) was six round trips from the event loop: ``BEGIN``, the contents,
the mailboxes' UIDs, the filings, the jobs, ``COMMIT``, each waiting its turn on a busy loop.
Here the same rows are written by one statement of data-modifying ``WITH`` queries, which
PostgreSQL runs atomically as its own transaction (``Database.run(..., one_statement=True)``).
Measured end to end (8 agents, one worker, alternated with the transaction): a message's
``DATA`` took 11.8-12.8 ms to its ``250`` on average instead of 15.7-16.6.

It writes what ``_write_rows`` writes for deliveries to mailboxes that exist: one content per
delivery; for each recipient, the next UIDs of its mailbox (taken as ``modseq.reserve`` takes
them: the mailbox row updated, and so locked, before any message is filed in it) and, for an
office's intake, a pending job. A mailbox not created yet leaves its filing without a
mailbox, which the column refuses: the statement is undone, and the caller writes the batch
with the transaction, which creates the mailbox (its first delivery). Relays and deliveries
with more statements of their own (``also``) always take the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import ARRAY, BigInteger, Connection, Integer, LargeBinary, String, bindparam, text

from mailboxes import modseq
from mailboxes.fixed_statements import execute
from mailboxes.records import Recipient
from mailboxes.schema import JobState, UTCDateTime

__all__ = ["Delivered", "write"]

Delivered = tuple[str, bytes, Sequence[Recipient], Sequence[int]]
"""A delivery as written here: its sender, its bytes (line ends already canonical), where
its copies go (none relayed), and the turns of its intake copies, in their order
(``mailboxes.sender_turns``)."""

# ``delivery``: each mail with its content id, taken from the sequence row by row (the CTE is
# materialized: nextval runs once per row). ``target``: each copy, with its place among the
# copies for the same mailbox. ``job``: the intakes' job ids, taken in the order the mails
# came (the window above sorts the copies by mailbox: ids taken there would follow the
# offices' names). ``box``: every mailbox's UIDs taken at once (``modseq``'s query, a
# constant: nothing sent from outside is put in the text). The UPDATE and the INSERTs all
# run, and the constraints are checked at the end of the statement, so the filings and the
# jobs may refer to contents written beside them.
_WRITE: Final = text(f"""
WITH delivery AS MATERIALIZED (
    SELECT d.ord, d.raw, d.sender,
        CAST(nextval(pg_get_serial_sequence('message_contents', 'id')) AS INTEGER) AS content_id
    FROM unnest(CAST(:raws AS BYTEA[]), CAST(:senders AS VARCHAR[]))
        WITH ORDINALITY AS d(raw, sender, ord)
), content AS (
    INSERT INTO message_contents (id, raw, size, created_at)
    SELECT content_id, raw, octet_length(raw), :now FROM delivery
), target AS MATERIALIZED (
    SELECT t.ord, t.delivery, t.owner, t.folder, t.office, t.turn,
        row_number() OVER (PARTITION BY t.owner, t.folder ORDER BY t.ord) AS place
    FROM unnest(
        CAST(:deliveries AS INTEGER[]), CAST(:owners AS VARCHAR[]),
        CAST(:folders AS VARCHAR[]), CAST(:offices AS VARCHAR[]),
        CAST(:turns AS BIGINT[])
    ) WITH ORDINALITY AS t(delivery, owner, folder, office, turn, ord)
), job AS MATERIALIZED (
    SELECT intake.ord,
        CAST(nextval(pg_get_serial_sequence('intake_jobs', 'id')) AS INTEGER) AS job_id
    FROM (SELECT ord FROM target WHERE office IS NOT NULL ORDER BY ord) AS intake
), {modseq.RESERVE_FOR_TARGET}, filed AS (
    INSERT INTO mailbox_messages (mailbox_id, uid, content_id, internal_date, flags, modseq)
    SELECT box.id, box.first_uid + target.place - 1, delivery.content_id, :now, '',
        box.highest_modseq
    FROM target
    JOIN delivery ON delivery.ord = target.delivery
    LEFT JOIN box ON box.owner = target.owner AND box.name = target.folder
), queued AS (
    INSERT INTO intake_jobs
        (id, content_id, office_code, sender, recipient, state, attempts, received_at, turn)
    SELECT job.job_id, delivery.content_id, target.office, delivery.sender, target.owner,
        :pending, 0, :now, target.turn
    FROM job
    JOIN target ON target.ord = job.ord
    JOIN delivery ON delivery.ord = target.delivery
)
SELECT target.delivery, job.job_id FROM job JOIN target ON target.ord = job.ord ORDER BY job.ord
""").bindparams(  # noqa: S608 (the text is made of constants only)
    bindparam("raws", type_=ARRAY(LargeBinary)),
    bindparam("senders", type_=ARRAY(String)),
    bindparam("now", type_=UTCDateTime()),
    bindparam("deliveries", type_=ARRAY(Integer)),
    bindparam("owners", type_=ARRAY(String)),
    bindparam("folders", type_=ARRAY(String)),
    bindparam("offices", type_=ARRAY(String)),
    bindparam("turns", type_=ARRAY(BigInteger)),
    bindparam("pending", type_=String),
)


def write(connection: Connection, batch: Sequence[Delivered], now: datetime) -> list[list[int]]:
    """Write ``batch`` with one statement; for each delivery, the ids of the intake jobs it
    queued (in its recipients' order). Raises ``IntegrityError`` when a mailbox it files in
    does not exist: then nothing was written."""
    deliveries: list[int] = []
    owners: list[str] = []
    folders: list[str] = []
    offices: list[str | None] = []
    turns: list[int | None] = []
    for number, (_, _, recipients, intake_turns) in enumerate(batch, start=1):
        next_turn = iter(intake_turns)
        for recipient in recipients:
            assert recipient.relay_to is None, "a relayed copy takes the transaction"
            deliveries.append(number)
            owners.append(recipient.address)
            folders.append(recipient.folder)
            offices.append(recipient.intake_office)
            turns.append(None if recipient.intake_office is None else next(next_turn))
    rows = execute(
        connection,
        _WRITE,
        {
            "raws": [raw for _, raw, _, _ in batch],
            "senders": [sender for sender, _, _, _ in batch],
            "now": now,
            "deliveries": deliveries,
            "owners": owners,
            "folders": folders,
            "offices": offices,
            "turns": turns,
            "pending": JobState.PENDING.value,
        },
    )
    jobs: list[list[int]] = [[] for _ in batch]
    for delivery, job_id in rows:  # the intakes only, in the order they came
        jobs[delivery - 1].append(job_id)
    return jobs
