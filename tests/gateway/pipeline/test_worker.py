"""The pipeline worker on a real store: numbers, rejections, duplicates, restarts, failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from functools import partial

import pytest
from sqlalchemy import func, select

from config import OfficeRegistry
from config.clock import FixedClock
from edi_formats.codec import WireFormat, parse_response, render_declaration
from gateway.pipeline import PipelineWorker
from gateway.pipeline.answer import AnswerFacts, read_listed_facts
from gateway.pipeline.process import AnalysedMail
from gateway.pipeline.worker import _FactsReader
from mailboxes.answer_facts import read_facts
from mailboxes.errors import StoreError
from mailboxes.jobs import JobQueue
from mailboxes.schema import DeclarationCounterRow, IntakeJobRow, JobState
from mailboxes.store import Change, Store
from tests.gateway.pipeline.helpers import (
    AGENT,
    AGENT_CODE,
    DOMAIN,
    OFFICE,
    OTHER_AGENT,
    as_json,
    attachments,
    body_text,
    declaration,
    flat,
    mailbox,
    raw_mailbox,
    submission,
    submit,
)
from tests.gateway.pipeline.rigged_rules import dying_rules, exploding_rules
from tests.gateway.pipeline.test_core import analysed
from tests.mailboxes.test_jobs import statements_run
from tests.postgres import database_name, postgres_server
from validators.samples import break_rule, sample_declaration

NUMBER = re.compile(r"^118-2026-10-\d{6}$")


async def counters(store: Store) -> list[tuple[str, int, str, int]]:
    async with store.database.read_session() as session:
        rows = await session.scalars(select(DeclarationCounterRow))
        return sorted((r.office_code, r.year, r.regime, r.last) for r in rows)


async def job_state(store: Store, job_id: int) -> tuple[str, int, str | None]:
    job, error = await JobQueue(store).job(job_id)
    return job.state, job.attempts, error


# -- numbering ---------------------------------------------------------------------------------


async def test_accepted_duas_are_numbered_in_order(worker: PipelineWorker, accounts: Store):
    first = await submit(accounts, submission(flat(declaration(reference="A-1"))))
    second = await submit(
        accounts,
        submission(flat(declaration(reference="A-2")), message_id="<envio-2@agencias.pe>"),
    )
    await worker.run_until_idle()

    # Each job is answered as soon as it is read: two read side by side may be answered in
    # either order. The numbers follow the order of answering, each reply threads its mail.
    replies = await mailbox(accounts, AGENT)
    assert [r["X-Teledespacho-Number"] for r in replies] == [
        "118-2026-10-000001",
        "118-2026-10-000002",
    ]
    assert sorted((r["X-Teledespacho-Reference"], r["In-Reply-To"]) for r in replies) == [
        ("A-1", "<envio-1@agencias.pe>"),
        ("A-2", "<envio-2@agencias.pe>"),
    ]
    for reply in replies:
        assert reply["X-Teledespacho-Status"] == "accepted"
        assert reply["X-Teledespacho-Channel"] in {"verde", "naranja", "rojo"}
        assert reply["Subject"].startswith("ACEPTADA DUA 118-2026-10-")
        assert reply["From"].addresses[0].addr_spec == OFFICE
        assert reply["To"] == AGENT
        assert reply["Message-ID"].endswith(f"@{DOMAIN}>")
    assert await job_state(accounts, first) == (JobState.DONE.value, 0, None)  # no failure
    assert (await job_state(accounts, second))[0] == JobState.DONE.value
    assert await counters(accounts) == [("118", 2026, "10", 2)]


async def test_the_office_copy_carries_number_channel_and_the_declaration(
    worker: PipelineWorker, accounts: Store
):
    document = flat(declaration())
    await submit(accounts, submission(document))
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    (copy,) = await mailbox(accounts, OFFICE)
    assert copy["X-Teledespacho-Number"] == reply["X-Teledespacho-Number"] == "118-2026-10-000001"
    assert copy["X-Teledespacho-Channel"] == reply["X-Teledespacho-Channel"]
    assert attachments(copy) == [("118-2026-10-000001.txt", document)]
    # The raw submission stays in the office's intake folder.
    assert len(await accounts.list_messages(OFFICE, "Recibidos")) == 1
    # A clerk pressing Reply on the copy must not write to the intake.
    assert copy["From"].addresses[0].addr_spec == f"no-responder@{DOMAIN}"
    # RFC 3834: neither is to be answered by an auto-responder.
    assert reply["Auto-Submitted"] == copy["Auto-Submitted"] == "auto-replied"


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated; owner-email=x@agencias.pe",
        "Precedence: bulk",
        "Precedence: junk",
        "List-Id: Despachadores <despachadores.agencias.pe>",
    ],
)
async def test_automatic_mail_is_filed_but_never_answered(
    worker: PipelineWorker, accounts: Store, header: str
):
    """RFC 3834 §2: an answer to an auto-responder's mail could loop for ever."""
    name, value = header.split(": ", 1)
    raw = submission(b"Estoy fuera de la oficina hasta el lunes.\r\n")
    raw = f"{name}: {value}\r\n".encode() + raw
    await submit(accounts, raw)
    await worker.run_until_idle()

    assert await mailbox(accounts, AGENT) == []
    assert len(await accounts.list_messages(OFFICE, "Recibidos")) == 1
    assert await JobQueue(accounts).pending_ids() == []


async def test_a_null_sender_is_never_answered(worker: PipelineWorker, accounts: Store):
    await submit(accounts, submission(flat(declaration())), sender="")
    await worker.run_until_idle()

    assert await counters(accounts) == []
    assert await JobQueue(accounts).pending_ids() == []


async def test_a_long_message_id_is_threaded_as_written(worker: PipelineWorker, accounts: Store):
    """Exchange writes Message-IDs longer than a header line; never encode an identifier."""
    long_id = "<" + "AM6PR0502MB3" * 8 + "@AM6PR0502MB3.eurprd05.prod.outlook.com>"
    earlier = "<" + "x" * 70 + "@agencias.pe>"
    raw = submission(flat(declaration()), message_id=long_id)
    raw = f"References: {earlier}\r\n".encode() + raw
    await submit(accounts, raw)
    await worker.run_until_idle()

    (stored,) = await raw_mailbox(accounts, AGENT)
    assert b"=?" not in stored.split(b"\r\n\r\n", 1)[0]
    (reply,) = await mailbox(accounts, AGENT)
    assert reply["In-Reply-To"] == long_id
    assert reply["References"].split() == [earlier, long_id]


async def test_numbers_run_per_office_year_and_regime(
    worker: PipelineWorker, accounts: Store, clock: FixedClock
):
    await submit(accounts, submission(flat(declaration("dua", reference="D1"))))
    await submit(accounts, submission(flat(declaration("oe", reference="E1"))))
    airport = sample_declaration("dua", office="235", as_of=date(2026, 11, 2), reference="D2")
    await submit(accounts, submission(flat(airport), to="aduana-235@aduanas.gob.pe"), office="235")
    await worker.run_until_idle()

    numbers = {
        r["X-Teledespacho-Reference"]: r["X-Teledespacho-Number"]
        for r in await mailbox(accounts, AGENT)
    }
    assert numbers == {
        "D1": "118-2026-10-000001",
        "E1": "118-2026-40-000001",
        "D2": "235-2026-10-000001",
    }


async def test_the_year_is_the_receipt_year_in_lima(
    worker: PipelineWorker, accounts: Store, clock: FixedClock
):
    # 03:00 UTC on New Year's Day is still 31 December in Lima.
    clock.set(datetime(2027, 1, 1, 3, 0, tzinfo=UTC))
    late = sample_declaration("dua", as_of=date(2026, 12, 31), reference="NOCHEVIEJA")
    await submit(accounts, submission(flat(late)))
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Number"] == "118-2026-10-000001"


# -- rejections --------------------------------------------------------------------------------


async def test_a_rejection_has_no_number_and_lists_every_finding(
    worker: PipelineWorker, accounts: Store
):
    broken = break_rule(declaration(reference="MAL-1", breaks="STR-TOTALS"), "ID-RUC")
    await submit(accounts, submission(flat(broken)))
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Status"] == "rejected"
    assert reply["X-Teledespacho-Reference"] == "MAL-1"
    assert reply["X-Teledespacho-Number"] is None
    assert reply["X-Teledespacho-Channel"] is None
    assert reply["Subject"].startswith("RECHAZADA DUA ref. MAL-1")
    text = body_text(reply)
    assert "STR-TOTALS" in text and "ID-RUC" in text
    assert "STR-TOTALS — Total bultos" in text and "totals.packages" not in text
    assert "Base legal: Procedimiento INTA-PG.01-A, VII.A.7" in text
    ((name, data),) = attachments(reply)
    assert name == "respuesta-MAL-1.txt"
    response = parse_response(data)
    assert response.status == "rejected" and response.number is None
    assert {f.rule_id for f in response.findings} >= {"STR-TOTALS", "ID-RUC"}
    assert await mailbox(accounts, OFFICE) == []
    assert await counters(accounts) == []


async def test_a_rejection_consumes_no_number(worker: PipelineWorker, accounts: Store):
    await submit(accounts, submission(flat(declaration(reference="R-1", breaks="ID-RUC"))))
    await submit(accounts, submission(flat(declaration(reference="R-2"))))
    await worker.run_until_idle()

    replies = await mailbox(accounts, AGENT)  # in the order answered, either one first
    status = {r["X-Teledespacho-Reference"]: r["X-Teledespacho-Status"] for r in replies}
    assert status == {"R-1": "rejected", "R-2": "accepted"}
    assert [r["X-Teledespacho-Number"] for r in replies if r["X-Teledespacho-Number"]] == [
        "118-2026-10-000001"
    ]


async def test_an_unreadable_declaration_is_rejected_naming_the_syntax_error(
    worker: PipelineWorker, accounts: Store
):
    document = flat(declaration(reference="TRUNCA-1"))
    truncated = document[: document.index(b"\nSER|2|") + 1]  # no trailer, one series gone
    await submit(accounts, submission(truncated, filenames=["DUA97.TXT"]))
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Status"] == "rejected"
    # The header record is legible: the rejection names the declaration it answers.
    assert reply["X-Teledespacho-Reference"] == "TRUNCA-1"
    assert "ref. TRUNCA-1" in reply["Subject"]
    assert reply["Subject"].startswith("RECHAZADA declaración ilegible (adjunto DUA97.TXT)")
    text = body_text(reply)
    assert "FMT-TRUNCATED" in text
    assert "TDH|TELEDESPACHO|" in text  # says what is expected
    ((_, data),) = attachments(reply)
    response = parse_response(data)
    assert response.findings[0].rule_id == "FMT-TRUNCATED"
    assert response.agent_reference == "TRUNCA-1"


async def test_a_mail_with_nothing_readable_gets_an_explanation(
    worker: PipelineWorker, accounts: Store
):
    raw = submission(b"\x89PNG\r\n\x1a\nnot a declaration", body="Buenos días, adjunto.\n")
    await submit(accounts, raw)
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Status"] == "rejected"
    assert reply["Subject"] == "RECHAZADA mensaje sin declaraciones"
    assert reply["In-Reply-To"] == "<envio-1@agencias.pe>"
    text = body_text(reply)
    assert "no contiene ninguna declaración legible" in text
    assert "cuerpo: texto sin declaración" in text
    assert "adjunto DECL1.TXT" in text
    assert "TDH|TELEDESPACHO|" in text and '"document_type"' in text


async def test_several_declarations_get_one_reply_each(worker: PipelineWorker, accounts: Store):
    documents = [
        flat(declaration(reference="M-1")),
        flat(declaration(reference="M-2", breaks="STR-SERIES")),
        as_json(declaration("oe", reference="M-3")),
    ]
    await submit(accounts, submission(*documents))
    await worker.run_until_idle()

    replies = await mailbox(accounts, AGENT)
    assert [(r["X-Teledespacho-Reference"], r["X-Teledespacho-Status"]) for r in replies] == [
        ("M-1", "accepted"),
        ("M-2", "rejected"),
        ("M-3", "accepted"),
    ]
    assert replies[0]["X-Teledespacho-Number"] == "118-2026-10-000001"
    assert replies[2]["X-Teledespacho-Number"] == "118-2026-40-000001"
    assert attachments(replies[2])[0][0].endswith(".json")
    assert len(await mailbox(accounts, OFFICE)) == 2


async def test_mail_from_an_office_account_is_filed_but_never_answered(
    worker: PipelineWorker, accounts: Store
):
    """A clerk's mail to an intake (a Reply to an office copy, say) is not a declaration."""
    await submit(accounts, submission(flat(declaration()), sender=OFFICE), sender=OFFICE)
    await worker.run_until_idle()

    assert await mailbox(accounts, OFFICE) == []
    assert len(await mailbox(accounts, OFFICE, "Recibidos")) == 1
    assert await counters(accounts) == []
    assert await JobQueue(accounts).pending_ids() == []


# -- duplicates --------------------------------------------------------------------------------


async def test_the_same_reference_gets_the_same_reply_and_no_second_number(
    worker: PipelineWorker, accounts: Store
):
    document = flat(declaration(reference="DUP-1"))
    await submit(accounts, submission(document))
    await worker.run_until_idle()
    await submit(accounts, submission(document, message_id="<reenvio@agencias.pe>"))
    # The same declaration, as JSON in another mail: documents are compared, not mails.
    await submit(accounts, submission(as_json(declaration(reference="DUP-1"))))
    await worker.run_until_idle()

    first, again, as_other_format = await raw_mailbox(accounts, AGENT)
    assert first == again == as_other_format
    assert await counters(accounts) == [("118", 2026, "10", 1)]
    assert len(await mailbox(accounts, OFFICE)) == 1


async def test_another_declaration_under_an_accepted_reference_is_rejected_under_dup(
    worker: PipelineWorker, accounts: Store
):
    """The README's --break example once brought back the earlier ACEPTADA with no word
    that the new content was ignored."""
    await submit(accounts, submission(flat(declaration(reference="DUP-3"))))
    await worker.run_until_idle()
    changed = declaration(reference="DUP-3", series=3)
    await submit(accounts, submission(flat(changed), message_id="<otra@agencias.pe>"))
    await worker.run_until_idle()

    accepted, conflict = await mailbox(accounts, AGENT)
    number = accepted["X-Teledespacho-Number"]
    assert conflict["X-Teledespacho-Status"] == "rejected"
    assert conflict["X-Teledespacho-Reference"] == "DUP-3"
    assert conflict["In-Reply-To"] == "<otra@agencias.pe>"
    text = " ".join(body_text(conflict).split())
    assert "DUP" in text and number in text and "02/11/2026" in text  # its number and date
    assert "referencia nueva" in text and "puede usar la misma referencia" not in text
    assert await counters(accounts) == [("118", 2026, "10", 1)]
    assert len(await mailbox(accounts, OFFICE)) == 1
    # The accepted answer stands: the same declaration again still gets it.
    await submit(accounts, submission(flat(declaration(reference="DUP-3"))))
    await worker.run_until_idle()
    assert (await raw_mailbox(accounts, AGENT))[-1] == (await raw_mailbox(accounts, AGENT))[0]


async def test_duplicates_in_one_batch_get_one_number(worker: PipelineWorker, accounts: Store):
    document = flat(declaration(reference="DUP-2"))
    await submit(accounts, submission(document, document))
    await submit(accounts, submission(document))
    await worker.run_until_idle()

    replies = await raw_mailbox(accounts, AGENT)
    assert len(replies) == 3 and len(set(replies)) == 1
    assert await counters(accounts) == [("118", 2026, "10", 1)]


async def test_a_rejected_reference_may_come_back_corrected(
    worker: PipelineWorker, accounts: Store
):
    await submit(accounts, submission(flat(declaration(reference="FIX-1", breaks="STR-CIF"))))
    await worker.run_until_idle()
    await submit(accounts, submission(flat(declaration(reference="FIX-1"))))
    await worker.run_until_idle()

    rejected, accepted = await mailbox(accounts, AGENT)
    assert rejected["X-Teledespacho-Status"] == "rejected"
    assert accepted["X-Teledespacho-Status"] == "accepted"
    assert accepted["X-Teledespacho-Number"] == "118-2026-10-000001"


async def test_another_agent_cannot_obtain_an_answer_by_reference(
    worker: PipelineWorker, accounts: Store
):
    document = flat(declaration(reference="AJENA"))
    await submit(accounts, submission(document))
    await worker.run_until_idle()
    await submit(accounts, submission(document, sender=OTHER_AGENT), sender=OTHER_AGENT)
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, OTHER_AGENT)
    assert reply["X-Teledespacho-Status"] == "rejected"
    assert "TD-SENDER" in body_text(reply)
    # The owner's answer is untouched: the owner still gets its number back.
    await submit(accounts, submission(document))
    await worker.run_until_idle()
    first, again = await mailbox(accounts, AGENT)
    assert again["X-Teledespacho-Number"] == first["X-Teledespacho-Number"] == "118-2026-10-000001"


async def test_a_reply_the_agent_deleted_is_still_sent_again(
    worker: PipelineWorker, accounts: Store
):
    document = flat(declaration(reference="BORRADA"))
    await submit(accounts, submission(document))
    await worker.run_until_idle()
    (original,) = await raw_mailbox(accounts, AGENT)
    (info,) = await accounts.list_messages(AGENT)
    await accounts.expunge(AGENT, "INBOX", [info.uid])

    await submit(accounts, submission(document))
    await worker.run_until_idle()
    assert await raw_mailbox(accounts, AGENT) == [original]


# -- restarts and failures ---------------------------------------------------------------------


class Crash(Exception):
    pass


def make_worker(
    store: Store, offices: OfficeRegistry, clock: FixedClock, **kwargs
) -> PipelineWorker:
    return PipelineWorker(
        store, offices=offices, clock=clock, domain=DOMAIN, retry_delay=0.0, **kwargs
    )


async def test_a_crash_at_the_commit_is_redone_without_duplicates_or_gaps(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
):
    calls: list[Sequence[int]] = []

    def crash(job_ids: Sequence[int]) -> None:  # inside the answering transaction
        calls.append(job_ids)
        raise Crash("power cut")

    job_id = await submit(accounts, submission(flat(declaration())))
    crashing = make_worker(accounts, offices, clock, before_commit=crash)
    claimed = await JobQueue(accounts).pending_ids()
    assert claimed == [job_id]
    await crashing.process_available()  # one pass, as far as the commit

    assert calls == [[job_id]]
    assert await raw_mailbox(accounts, AGENT) == []
    assert await mailbox(accounts, OFFICE) == []
    assert await counters(accounts) == []
    state, attempts, error = await job_state(accounts, job_id)
    assert (state, attempts) == (JobState.PENDING.value, 1)
    assert error is not None and "power cut" in error

    await make_worker(accounts, offices, clock).run_until_idle()  # "after the restart"
    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Number"] == "118-2026-10-000001"
    assert len(await mailbox(accounts, OFFICE)) == 1
    assert await job_state(accounts, job_id) == (JobState.DONE.value, 1, None)


def _cut_connections(database: str) -> None:
    """Terminate every connection to ``database`` and wait until they are gone, from a
    thread of its own (a ``before_commit`` hook runs inside the transaction)."""
    cutting = postgres_server().cut_connections(f"datname = '{database}'")
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, cutting).result()


async def test_a_lost_database_connection_charges_no_job_an_attempt(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    """Every answering transaction of a pass loses its connection (the server restarted,
    an administrator cut it): the store's trouble, not the jobs'. The pass fails as a
    whole; no job is charged an attempt, of which it has three before its agent is told of
    an internal error, and the next pass answers them all."""
    if accounts.database.is_sqlite:
        pytest.skip("a connection the server cuts is PostgreSQL's")
    database = database_name(accounts.database.url)
    cutting = True
    cuts: list[Sequence[int]] = []

    def cut(job_ids: Sequence[int]) -> None:
        if cutting:
            cuts.append(job_ids)
            _cut_connections(database)

    jobs = [
        await submit(accounts, submission(flat(declaration(reference=f"CUT-{n}"))))
        for n in range(3)
    ]
    worker = make_worker(accounts, offices, clock, before_commit=cut)
    with contextlib.suppress(*StoreError):
        await worker.process_available()
    cutting = False
    await worker.run_until_idle()

    assert cuts  # the pass did reach its commits
    assert [await job_state(accounts, job) for job in jobs] == [(JobState.DONE.value, 0, None)] * 3
    replies = await mailbox(accounts, AGENT)
    assert sorted(reply["X-Teledespacho-Reference"] for reply in replies) == [
        "CUT-0",
        "CUT-1",
        "CUT-2",
    ]
    assert {reply["X-Teledespacho-Status"] for reply in replies} == {"accepted"}


async def test_jobs_read_meanwhile_are_answered_in_one_transaction(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    """One analysis process finishes one job at a time: the jobs read while the first
    waits its ``gather_seconds`` share its transaction instead of one each."""
    batches: list[int] = []
    for n in range(6):
        raw = submission(flat(declaration(reference=f"G-{n}")), message_id=f"<g-{n}@agencias.pe>")
        await submit(accounts, raw)
    gathering = make_worker(
        accounts,
        offices,
        clock,
        gather_seconds=5.0,
        before_commit=lambda ids: batches.append(len(ids)),
    )
    try:
        await gathering.run_until_idle()
    finally:
        await gathering.stop()
    assert batches == [6]  # without gathering: [1, 5], the first answered alone
    numbers = sorted(r["X-Teledespacho-Number"] for r in await mailbox(accounts, AGENT))
    assert numbers == [f"118-2026-10-{n:06d}" for n in range(1, 7)]


async def test_a_worker_stopped_mid_transaction_loses_nothing_and_repeats_nothing(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
):
    """The worker is stopped (its task cancelled) while its answering transaction is open.
    On SQLite the transaction runs on in the database's thread and commits; on PostgreSQL
    it may be cut short and rolled back. Either way the job is answered exactly once."""
    loop = asyncio.get_running_loop()
    entered = asyncio.Event()
    stopped = threading.Event()

    def stop_meanwhile(job_ids: Sequence[int]) -> None:
        loop.call_soon_threadsafe(entered.set)
        if threading.current_thread() is not threading.main_thread():  # the database's
            stopped.wait(10)  # hold the transaction open until the worker is stopped

    job_id = await submit(accounts, submission(flat(declaration())))
    stuck = make_worker(accounts, offices, clock, before_commit=stop_meanwhile)
    await stuck.start()
    await asyncio.wait_for(entered.wait(), 10)
    await stuck.stop(grace=0.01)  # gives up waiting and cancels the task
    stopped.set()

    restarted = make_worker(accounts, offices, clock)
    await restarted.run_until_idle()
    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Number"] == "118-2026-10-000001"
    assert len(await mailbox(accounts, OFFICE)) == 1
    assert (await job_state(accounts, job_id))[0] == JobState.DONE.value
    assert await counters(accounts) == [("118", 2026, "10", 1)]


async def test_a_job_that_keeps_failing_is_answered_and_marked_failed(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
):
    airport = sample_declaration("dua", office="235", as_of=date(2026, 11, 2), reference="X")
    bad = await submit(
        accounts, submission(flat(airport), to="aduana-235@aduanas.gob.pe"), office="235"
    )
    good = await submit(accounts, submission(flat(declaration())))
    worker = make_worker(accounts, offices, clock, rules=dying_rules, max_attempts=2)
    await worker.run_until_idle()
    await worker.stop()

    state, attempts, error = await job_state(accounts, bad)
    assert (state, attempts) == (JobState.FAILED.value, 2)  # failed twice, then answered
    assert error is not None and "process died" in error
    # The good job, read beside it, was answered on the first pass.
    assert await job_state(accounts, good) == (JobState.DONE.value, 0, None)
    failure, accepted = sorted(
        await mailbox(accounts, AGENT), key=lambda m: m["X-Teledespacho-Status"]
    )[::-1]
    assert accepted["X-Teledespacho-Number"] == "118-2026-10-000001"
    assert failure["X-Teledespacho-Status"] == "rejected"
    assert failure["X-Teledespacho-Error"] == "internal"
    assert failure["Subject"].startswith("RECHAZADA")
    assert "no pudo procesar su mensaje después de 2 intentos" in " ".join(
        body_text(failure).split()
    )
    assert await counters(accounts) == [("118", 2026, "10", 1)]


async def test_a_poisoned_document_is_answered_alone_and_its_neighbour_numbered(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock, caplog: pytest.LogCaptureFixture
):
    """One bad EDIFACT attachment once made its whole mail, with a valid flat-file DUA
    beside it, an internal error after three retries."""
    poisoned = sample_declaration(
        "dua", office="235", as_of=date(2026, 11, 2), agent_code=AGENT_CODE, reference="VENENO"
    )
    raw = submission(
        render_declaration(poisoned, WireFormat.EDIFACT),
        flat(declaration(reference="SANA")),
        filenames=["CUSDEC.EDI", "DUA.TXT"],
    )
    job_id = await submit(accounts, raw)
    worker = make_worker(accounts, offices, clock, rules=exploding_rules)
    with caplog.at_level(logging.ERROR, logger="gateway.pipeline.worker"):
        await worker.run_until_idle()
    await worker.stop()

    rejection, acceptance = await mailbox(accounts, AGENT)
    assert rejection["X-Teledespacho-Status"] == "rejected"
    assert rejection["X-Teledespacho-Reference"] == "VENENO"
    assert rejection["X-Teledespacho-Error"] is None  # its own answer, not an internal error
    assert rejection["Subject"].startswith("RECHAZADA declaración ilegible (adjunto CUSDEC.EDI)")
    assert "FMT-FAILED" in body_text(rejection)
    assert "engine bug" not in body_text(rejection)  # no internals for the broker
    assert acceptance["X-Teledespacho-Reference"] == "SANA"
    assert acceptance["X-Teledespacho-Number"] == "118-2026-10-000001"
    assert await job_state(accounts, job_id) == (JobState.DONE.value, 0, None)  # no retry
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1 and "CUSDEC.EDI" in logged[0] and "engine bug" in logged[0]


async def test_claims_lost_to_crashes_cost_no_attempt(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
):
    job_id = await submit(accounts, submission(flat(declaration())))
    queue = JobQueue(accounts)
    for _ in range(5):  # taken five times, and each time the node died with it in hand
        (claimed,) = await queue.claim(1)
    assert claimed.job.attempts == 1

    await make_worker(accounts, offices, clock, max_attempts=3).run_until_idle()
    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Number"] == "118-2026-10-000001"
    assert reply["X-Teledespacho-Error"] is None
    assert await job_state(accounts, job_id) == (JobState.DONE.value, 0, None)


# -- the running worker ------------------------------------------------------------------------


async def test_a_started_worker_wakes_on_new_jobs(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
):
    left_over = await submit(accounts, submission(flat(declaration(reference="ANTES"))))
    replied = asyncio.Event()

    def listen(change: Change) -> None:
        if (AGENT, "INBOX") in change.mailboxes:
            replied.set()

    unsubscribe = accounts.subscribe(listen)
    worker = make_worker(accounts, offices, clock, poll_interval=3600)
    await worker.start()
    try:
        await submit(accounts, submission(flat(declaration(reference="DESPUES"))))
        async with asyncio.timeout(10):
            while len(await accounts.list_messages(AGENT)) < 2:
                await replied.wait()
                replied.clear()
    finally:
        await worker.stop()
        unsubscribe()
    assert (await job_state(accounts, left_over))[0] == JobState.DONE.value
    references = [r["X-Teledespacho-Reference"] for r in await mailbox(accounts, AGENT)]
    assert sorted(references) == ["ANTES", "DESPUES"]


async def test_every_job_ends_done_or_failed(worker: PipelineWorker, accounts: Store):
    for index in range(5):
        await submit(accounts, submission(flat(declaration(reference=f"L-{index}"))))
    await worker.run_until_idle()
    async with accounts.database.read_session() as session:
        pending = await session.scalar(
            select(func.count(IntakeJobRow.id)).where(IntakeJobRow.state == JobState.PENDING.value)
        )
    assert pending == 0
    numbers = sorted(r["X-Teledespacho-Number"] for r in await mailbox(accounts, AGENT))
    assert numbers == [f"118-2026-10-{n:06d}" for n in range(1, 6)]
    assert all(NUMBER.match(n) for n in numbers)


@pytest.mark.parametrize("batch_size", [1, 3])
async def test_numbers_have_no_gaps_whatever_the_batch(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock, batch_size: int
):
    for index in range(7):
        breaks = "STR-TOTALS" if index % 3 == 0 else None
        await submit(accounts, submission(flat(declaration(reference=f"G-{index}", breaks=breaks))))
    await make_worker(accounts, offices, clock, batch_size=batch_size).run_until_idle()
    numbers = [
        r["X-Teledespacho-Number"]
        for r in await mailbox(accounts, AGENT)
        if r["X-Teledespacho-Status"] == "accepted"
    ]
    assert numbers == [f"118-2026-10-{n:06d}" for n in range(1, 5)]


async def test_a_declaration_next_to_a_10_mb_attachment_is_answered(
    worker: PipelineWorker, accounts: Store
):
    noise = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    raw = submission(noise, flat(declaration(reference="GRANDE")), filenames=["FOTO.BIN", "D.TXT"])
    await submit(accounts, raw)
    await worker.run_until_idle()

    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Reference"] == "GRANDE"
    assert reply["X-Teledespacho-Number"] == "118-2026-10-000001"


async def test_each_answer_is_logged_once_after_commit(
    worker: PipelineWorker, accounts: Store, caplog: pytest.LogCaptureFixture
):
    await submit(accounts, submission(flat(declaration(reference="LOG-1"))))
    await submit(
        accounts,
        submission(flat(declaration(reference="LOG-2", breaks="ID-RUC")), message_id="<l2@a.pe>"),
    )
    with caplog.at_level(logging.INFO, logger="gateway.pipeline.worker"):
        await worker.run_until_idle()

    events = [
        getattr(r, "teledespacho_fields")  # noqa: B009
        for r in caplog.records
        if r.name == "gateway.pipeline.worker" and r.getMessage() == "answer"
    ]
    events.sort(key=lambda e: e["reference"])  # two jobs: answered in either order
    assert [(e["reference"], e["verdict"]) for e in events] == [
        ("LOG-1", "accepted"),
        ("LOG-2", "rejected"),
    ]
    assert events[0]["number"] == "118-2026-10-000001" and events[0]["channel"]
    assert events[0]["sender"] == AGENT and events[0]["seconds"] >= 0


async def test_a_pass_that_fails_again_and_again_is_logged_once(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock, caplog: pytest.LogCaptureFixture
):
    """At the descriptor limit every pass failed, and each logged a traceback."""
    passes = 0
    five = asyncio.Event()

    async def failing() -> None:
        nonlocal passes
        passes += 1
        if passes == 5:
            five.set()
        raise OSError(24, "Too many open files")

    worker = make_worker(accounts, offices, clock, before_pass=failing, poll_interval=0.001)
    await worker.start()
    try:
        await asyncio.wait_for(five.wait(), 30)
    finally:
        await worker.stop()
    failures = [r for r in caplog.records if r.getMessage().startswith("pipeline pass failed")]
    assert len(failures) == 1 and failures[0].exc_info is not None


async def test_the_facts_of_jobs_read_meanwhile_are_read_in_one_unit_of_work(
    accounts: Store, offices: OfficeRegistry, hand_offs: list[int]
) -> None:
    """Jobs come back from the processes a few at a time: those read while a read session
    runs, or before it starts, share one (and one statement asks for their answers on file),
    and each gets the facts it would have got alone."""
    if not accounts.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")

    def mail(reference: str) -> AnalysedMail:
        analysis = analysed(offices, flat(declaration(reference=reference)))
        return AnalysedMail.of(analysis, ((AGENT_CODE, reference),))

    mails = [mail(f"F-{n}") for n in range(6)]
    reader = _FactsReader(accounts, gather_seconds=0)  # no waiting: only what came meanwhile
    await reader.read(mails[0])  # connections opened, statements compiled
    hand_offs[0] = 0
    with statements_run() as statements:
        together = await asyncio.gather(*(reader.read(mail) for mail in mails))
    assert hand_offs[0] == 1
    assert sum("FROM declarations" in s for s in statements) == 1  # the answers on file
    first = asyncio.create_task(reader.read(mails[0]))
    await asyncio.sleep(0)  # its session has started
    rest = await asyncio.gather(*(reader.read(mail) for mail in mails[1:]))
    assert [await first, *rest] == together
    assert hand_offs[0] == 3  # the first alone, the five read meanwhile together
    alone = [
        await read_facts(
            accounts, partial(read_listed_facts, references=m.references, wanted=m.wanted)
        )
        for m in mails
    ]
    assert together == alone
    assert together[3] == AnswerFacts({(AGENT_CODE, "F-3"): None}, {})


async def test_a_facts_session_waits_for_the_jobs_close_behind_the_first(
    accounts: Store, offices: OfficeRegistry, hand_offs: list[int]
) -> None:
    """Jobs come back from the processes one at a time: each used to take a session (and a
    hand-off to the database thread) of its own. A session now waits for ``enough`` jobs (or
    ``gather_seconds``) and reads them together."""
    if not accounts.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")
    mails = [
        AnalysedMail.of(
            analysed(offices, flat(declaration(reference=f"G-{n}"))), ((AGENT_CODE, f"G-{n}"),)
        )
        for n in range(3)
    ]
    reader = _FactsReader(accounts, gather_seconds=3600, enough=3)  # only ``enough`` ends it
    # connections opened; a regression fails within 30 s rather than waiting out the hour
    await asyncio.wait_for(asyncio.gather(*(reader.read(mail) for mail in mails)), 30)
    hand_offs[0] = 0
    first = asyncio.create_task(reader.read(mails[0]))
    await asyncio.sleep(0)  # its session has started, and waits
    second = asyncio.create_task(reader.read(mails[1]))
    await asyncio.sleep(0)
    assert not first.done() and hand_offs[0] == 0
    third = await asyncio.wait_for(reader.read(mails[2]), 30)  # enough: all three read
    assert [await first, await second, third] == [
        AnswerFacts({(AGENT_CODE, f"G-{n}"): None}, {}) for n in range(3)
    ]
    assert hand_offs[0] == 1


async def test_a_lone_job_s_facts_are_read_once_the_gathering_time_is_over(
    accounts: Store, offices: OfficeRegistry
) -> None:
    mail = AnalysedMail.of(
        analysed(offices, flat(declaration(reference="L-1"))), ((AGENT_CODE, "L-1"),)
    )
    reader = _FactsReader(accounts, gather_seconds=0.01, enough=8)
    facts = await asyncio.wait_for(reader.read(mail), 30)
    assert facts == AnswerFacts({(AGENT_CODE, "L-1"): None}, {})


async def test_jobs_waiting_for_a_gathering_session_are_not_left_waiting_when_it_ends(
    accounts: Store, offices: OfficeRegistry
) -> None:
    """The session is cancelled (the loop's end) while it still gathers: the jobs queued
    for it are cancelled with it, not left waiting for a session that never comes."""
    mail = AnalysedMail.of(
        analysed(offices, flat(declaration(reference="C-1"))), ((AGENT_CODE, "C-1"),)
    )
    reader = _FactsReader(accounts, gather_seconds=3600, enough=8)
    waiting = asyncio.create_task(reader.read(mail))
    for _ in range(100):  # queued; its session starts, and gathers
        if reader._filled is not None:
            break
        await asyncio.sleep(0)
    session = reader._reading
    assert session is not None and reader._filled is not None and not waiting.done()
    session.cancel()
    await asyncio.wait({waiting}, timeout=5)
    assert waiting.cancelled()
