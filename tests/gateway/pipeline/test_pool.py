"""The analysis pool: requests queued in its processes, and out of descriptors.

A process holds the next request while it reads one; each answer goes to its own request, a
request queued behind a slow one is read by another process, a cancelled one costs no process.

A killed process is replaced on the next request. When the node was out of file
descriptors, starting the replacement failed and the dead process was dropped from the pool:
with one process, every later mail waited for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import resource
from collections.abc import AsyncIterator, Awaitable, Collection, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from config import OfficeRegistry
from config.reference import shipped_reference
from edi_formats.codec import DeclarationIdentity, WireFormat, identify, render_declaration
from gateway.pipeline.answer import read_answer_facts, read_listed_facts
from gateway.pipeline.core import AnswerFacts, decide, references_on_file, wanted_facts
from gateway.pipeline.pool import (
    _DEPTH,
    _LARGE,
    _PICKLE_ON_LOOP,
    AnalysisPool,
    Decision,
    Submission,
    _carried,
    _large,
    _pickled_in_thread,
)
from gateway.pipeline.process import (
    AnalysedMail,
    AnalysisBudget,
    NothingReadable,
    ReadDeclaration,
    SubmissionHeaders,
)
from gateway.pipeline.wire import Decide, Held, Identify, Keep, Pickled
from mailboxes.answer_facts import RecordedAnswer
from tests.gateway.pipeline.helpers import AGENT_CODE, AS_OF, declaration, flat
from tests.gateway.pipeline.helpers import submission as core_submission
from tests.gateway.pipeline.rigged_rules import aborting_rules, slow_rules
from tests.gateway.pipeline.test_budget import part_bomb
from tests.gateway.pipeline.test_core import (
    NOW,
    PLAIN,
    analysed,
    facts_for,
    medicines,
    settings,
    view,
)
from validators.samples import sample_declaration


def submission(raw: bytes) -> Submission:
    return Submission(raw, as_of=date(2026, 11, 2), addressed_office="118", sender_agent_code=None)


@contextlib.asynccontextmanager
async def pool_of(
    offices: OfficeRegistry, size: int = 1, *, seconds: float | None = None, **options: Any
) -> AsyncIterator[AnalysisPool]:
    """A pool (not started) closed at the end; ``seconds``: a time budget, and parts enough
    for the part bombs that take that long."""
    if seconds is not None:
        options["budget"] = AnalysisBudget(max_parts=1_000_000, seconds=seconds)
    pool = AnalysisPool(size, offices=offices, reference=shipped_reference(), **options)
    try:
        yield pool
    finally:
        await pool.close()


@contextlib.contextmanager
def no_descriptors_left() -> Iterator[None]:
    """Every descriptor number this process may still open is taken (holes too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))
    taken: list[int] = []
    try:
        with contextlib.suppress(OSError):
            while True:
                taken.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in taken:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_a_replacement_that_cannot_start_keeps_its_place(offices: OfficeRegistry) -> None:
    async with pool_of(offices, seconds=0.2) as pool:
        await pool.start()
        with no_descriptors_left(), pytest.raises(OSError):
            # Seconds of parsing: killed at 0.2 s, and no process can take its place.
            await pool.analyse(submission(part_bomb(300_000)))
        assert pool.replaced == 1
        async with asyncio.timeout(30):  # descriptors again: the next mail is read
            analysis = await pool.analyse(submission(part_bomb(3)))
        assert isinstance(analysis.outcomes[0], NothingReadable)  # read, and found wanting


async def test_a_start_without_descriptors_fails_and_is_tried_again(
    offices: OfficeRegistry,
) -> None:
    async with pool_of(offices) as pool:
        with no_descriptors_left(), pytest.raises(OSError):
            await pool.start()
        async with asyncio.timeout(30):
            analysis = await pool.analyse(submission(part_bomb(3)))
        assert isinstance(analysis.outcomes[0], NothingReadable)  # read, and found wanting


async def test_a_document_is_identified_in_a_process(offices: OfficeRegistry) -> None:
    """What the API asks of a large posted body: its format and identity, from a process
    (json's parser holds the GIL for a whole document: a thread of the node would stop
    every session meanwhile). One that cannot be read in time keeps its format alone."""
    document = render_declaration(declaration(reference="POOL-ID"), WireFormat.JSON)
    async with pool_of(offices) as pool, asyncio.timeout(30):
        assert await pool.identify(document) == identify(document)
        assert (await pool.identify(document))[1].agent_reference == "POOL-ID"
        assert await pool.identify(b"no es una declaracion") == (None, DeclarationIdentity())
    # Within the values a declaration may have (``json_limits``), and 0.35 s of parsing.
    slow = b'{"document_type": "DUA", "office": "118", "x": [' + b"1.5e300," * 990_000 + b"1]}"
    async with pool_of(offices, seconds=0.05) as pool, asyncio.timeout(30):
        await pool.start()
        assert await pool.identify(slow) == (WireFormat.JSON, DeclarationIdentity())
        assert pool.replaced == 1  # the process that overran


def numbered(n: int) -> bytes:
    return (
        f"From: a@agencias.pe\r\nTo: aduana-118@aduanas.gob.pe\r\nSubject: n\r\n"
        f"Message-ID: <m-{n}@agencias.pe>\r\n\r\nnada\r\n"
    ).encode()


async def test_each_answer_goes_to_its_own_request(offices: OfficeRegistry) -> None:
    """A process holds two requests at once: the answers still come back to their own."""
    async with pool_of(offices) as pool:
        async with asyncio.timeout(60):
            analyses = await asyncio.gather(
                *(pool.analyse(submission(numbered(n))) for n in range(40))
            )
        assert [a.headers.message_id for a in analyses] == [
            f"<m-{n}@agencias.pe>" for n in range(40)
        ]
        assert pool.replaced == 0


async def test_a_request_behind_a_slow_one_is_read_by_another_process(
    offices: OfficeRegistry,
) -> None:
    """Requests queued in a process behind a mail that takes seconds are sent to the other
    process too, and answered while the slow one is still read."""
    async with pool_of(offices, 2, seconds=60) as pool:
        await pool.start()
        async with asyncio.timeout(60):
            slow = asyncio.create_task(pool.analyse(submission(part_bomb(60_000))))
            await asyncio.sleep(0)  # the slow one is sent first
            quick = await asyncio.gather(*(pool.analyse(submission(numbered(n))) for n in range(4)))
            assert not slow.done()  # all four answered while the slow one is read
            assert [a.headers.message_id for a in quick] == [
                f"<m-{n}@agencias.pe>" for n in range(4)
            ]
            await slow
        assert pool.replaced == 0


async def test_a_slow_mail_read_after_quick_ones_has_its_whole_time(
    offices: OfficeRegistry,
) -> None:
    """A process's timer outlives its requests (armed for a quick mail read before): a slow
    mail read next is still given its whole time from its own start, then answered as over
    time, and the mail queued behind it is read by another process meanwhile."""
    async with pool_of(offices, 2, seconds=1.0) as pool:
        await pool.start()
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(60):
            await asyncio.gather(*(pool.analyse(submission(numbered(n))) for n in range(8)))
            await asyncio.sleep(0.15)  # the processes' timers, armed then, are due meanwhile
            sent = loop.time()
            slow = asyncio.create_task(pool.analyse(submission(part_bomb(300_000))))
            await asyncio.sleep(0)  # the slow one is sent first
            quick = await asyncio.gather(*(pool.analyse(submission(numbered(n))) for n in range(4)))
            assert not slow.done()
            assert [a.headers.message_id for a in quick] == [
                f"<m-{n}@agencias.pe>" for n in range(4)
            ]
            over = await slow
            took = loop.time() - sent
        assert isinstance(over.outcomes[0], NothingReadable)
        assert "excedió el segundo que la aduana dedica" in over.outcomes[0].notes[0]
        assert 1.0 <= took < 30  # never cut short by a timer armed for an earlier mail
        assert pool.replaced == 1


MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("wire", "series", "megabytes"),
    [
        # The limit is met at different steps of the reading; the flat file's are answered
        # FMT-FAILED, or as a rule's internal error, by the readers' catch-all handlers
        # when these let MemoryError be caught.
        (WireFormat.FLAT, 20_000, 8),
        (WireFormat.FLAT, 20_000, 56),
        (WireFormat.EDIFACT, 4_000, 8),
        (WireFormat.EDIFACT, 4_000, 40),
    ],
)
async def test_a_mail_beyond_its_memory_is_answered_naming_the_limit_and_its_process_replaced(
    offices: OfficeRegistry,
    caplog: pytest.LogCaptureFixture,
    wire: WireFormat,
    series: int,
    megabytes: int,
) -> None:
    """A mail within every other limit whose reading takes more memory than the budget
    gives: the kernel refuses its process the memory, the mail is answered naming the limit,
    the process is replaced, and the mail queued behind it is read. Reading a 13 MB flat DUA
    once took 390 MB of a process, two such mails twice that, with no limit at all; and a
    failed allocation, wherever it came, must not be answered as a defect of one document
    (``FMT-FAILED``, the readers' catch-all) or of one rule (the engine's)."""
    big = core_submission(
        render_declaration(declaration(reference="GRANDE", series=series), wire),
        message_id="<grande@agencias.pe>",
    )
    small = core_submission(flat(declaration(reference="CHICA")))
    async with pool_of(offices, budget=AnalysisBudget(memory=megabytes * MIB)) as pool:
        async with asyncio.timeout(60):
            read = await pool.analyse(submission(small))  # within the budget
            over, behind = await asyncio.gather(
                pool.analyse(submission(big)), pool.analyse(submission(numbered(1)))
            )
        assert pool.replaced == 1
    assert isinstance(read.outcomes[0], ReadDeclaration)
    (outcome,) = over.outcomes
    assert isinstance(outcome, NothingReadable)
    assert over.headers.message_id == "<grande@agencias.pe>"
    limit = f"excedió los {megabytes} MB de memoria que la aduana dedica a un mensaje"
    assert limit in outcome.notes[0]
    assert behind.headers.message_id == "<m-1@agencias.pe>"
    overruns = [r for r in caplog.records if "overran the analysis memory" in r.getMessage()]
    assert len(overruns) == 1


async def test_a_mail_too_large_to_receive_within_the_memory_is_answered_naming_it(
    offices: OfficeRegistry,
) -> None:
    """A budget smaller than the mail itself (24 MB of text, 8 MiB): the process cannot
    even receive it. It is answered as over the memory limit like a mail that fills the
    memory while read; its process once ended without a word, and the job failed and was
    retried, process after process."""
    huge = (
        core_submission(message_id="<enorme@agencias.pe>", body="x" * 76 + "\n")
        + (b"y" * 78 + b"\r\n") * 300_000
    )
    async with pool_of(offices, budget=AnalysisBudget(memory=8 * MIB)) as pool:
        async with asyncio.timeout(60):
            over = await pool.analyse(submission(huge))
            after = await pool.analyse(submission(numbered(3)))
        assert pool.replaced == 1
    (outcome,) = over.outcomes
    assert isinstance(outcome, NothingReadable)
    assert "excedió los 8 MB de memoria" in outcome.notes[0]
    assert over.headers.message_id == "<enorme@agencias.pe>"  # the answer is threaded
    assert after.headers.message_id == "<m-3@agencias.pe>"


def airport(reference: str) -> Submission:
    """A declaration for office 235, which the rigged catalogs single out."""
    made = sample_declaration("dua", office="235", as_of=AS_OF, reference=reference)
    raw = core_submission(flat(made), to="aduana-235@aduanas.gob.pe")
    return Submission(raw, as_of=AS_OF, addressed_office="235", sender_agent_code=AGENT_CODE)


async def test_a_mail_queued_behind_one_cut_off_is_read_by_the_fresh_process(
    offices: OfficeRegistry,
) -> None:
    """With one process there is no other to take the mail queued behind one that overruns
    its time: it waits, and the process started in place of the killed one reads it. It
    once failed with the slow one (an attempt of its job spent on a neighbour's overrun)."""
    async with pool_of(offices, 1, seconds=2.0, rules=slow_rules) as pool:
        await pool.start()
        async with asyncio.timeout(60):
            slow = asyncio.create_task(pool.analyse(airport("LENTA")))
            await asyncio.sleep(0)  # the slow one is sent first: the next waits behind it
            quick = await pool.analyse(submission(numbered(1)))
            over = await slow
        assert pool.replaced == 1
    assert quick.headers.message_id == "<m-1@agencias.pe>"
    (read,) = quick.outcomes
    assert isinstance(read, NothingReadable) and "excedió" not in " ".join(read.notes)
    (cut_off,) = over.outcomes
    assert isinstance(cut_off, NothingReadable) and "excedió los 2 segundos" in cut_off.notes[0]


async def test_a_process_aborted_while_reading_a_mail_answers_it_as_over_its_memory(
    offices: OfficeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    """A Rust extension aborts the process when an allocation fails (Python would raise
    ``MemoryError``): a mail whose reading aborts its process is answered as over the
    memory limit, once, rather than failing and being read again by process after
    process. A process that dies otherwise still fails its mail (``test_worker``)."""
    async with pool_of(offices, 1, rules=aborting_rules) as pool:
        async with asyncio.timeout(60):
            over = await pool.analyse(airport("ABORTA"))
            after = await pool.analyse(submission(numbered(2)))
        assert pool.replaced == 1
    (outcome,) = over.outcomes
    assert isinstance(outcome, NothingReadable)
    assert "MB de memoria que la aduana dedica a un mensaje" in outcome.notes[0]
    assert after.headers.message_id == "<m-2@agencias.pe>"
    overruns = [r for r in caplog.records if "overran the analysis memory" in r.getMessage()]
    assert len(overruns) == 1


async def test_a_cancelled_request_costs_no_process(offices: OfficeRegistry) -> None:
    """Its answer is dropped when it comes; the process goes on with the next request."""
    async with pool_of(offices, seconds=60) as pool:
        await pool.start()
        async with asyncio.timeout(60):
            abandoned = asyncio.create_task(pool.analyse(submission(part_bomb(5_000))))
            await asyncio.sleep(0.05)
            abandoned.cancel()
            analysis = await pool.analyse(submission(numbered(7)))
        assert analysis.headers.message_id == "<m-7@agencias.pe>"
        assert pool.replaced == 0


async def test_a_mail_read_for_the_node_lists_its_facts_and_keeps_its_analysis_a_pickle(
    offices: OfficeRegistry,
) -> None:
    """``read``: the node gets the references and facts to look up and the analysis as
    bytes; the facts read from those lists, and the plan decided from those bytes, are the
    ones the whole analysis gives."""
    documents = [flat(PLAIN), flat(medicines("M-1", "RS-3")), flat(PLAIN)]
    job = view()
    analysis = analysed(offices, *documents)
    async with pool_of(offices, answers=settings(offices)) as pool:
        mail = await pool.read(
            Submission(
                core_submission(*documents),
                AS_OF,
                "118",
                AGENT_CODE,
                view=replace(job, headers=SubmissionHeaders()),
            )
        )
        assert isinstance(mail, AnalysedMail)
        assert mail.analysis() == analysis
        assert (mail.headers, mail.problems, mail.outcome_count) == (
            analysis.headers,
            analysis.problems,
            3,
        )
        assert list(mail.references) == references_on_file(job, analysis)
        assert list(mail.wanted) == wanted_facts(job, analysis) != []
        listed = read_listed_facts(Nothing(), mail.references, mail.wanted)
        assert listed == read_answer_facts(Nothing(), job, analysis)
        facts = facts_for(job, analysis)
        job = replace(job, headers=mail.headers)
        here = decide(job, analysis, facts, settings(offices), NOW)
        assert await pool.decide(Decision(job, mail, facts, NOW)) == here


async def test_a_decision_is_made_where_the_analysis_is_held_or_from_its_pickle(
    offices: OfficeRegistry,
) -> None:
    """The process that read a mail keeps its analysis for the decision (the node sends its
    key); a process that does not hold it (another one, or a replacement of a process that
    died) decides from the pickle sent along: the same plan either way."""
    documents = [flat(PLAIN), flat(medicines("M-1", "RS-3"))]
    job = view()
    raw = core_submission(*documents)
    read_view = replace(job, headers=SubmissionHeaders())
    async with pool_of(offices, answers=settings(offices)) as pool:
        mails = [
            await pool.read(Submission(raw, AS_OF, "118", AGENT_CODE, view=read_view))
            for _ in range(3)
        ]
        assert len({mail.kept for mail in mails}) == 3 and None not in {m.kept for m in mails}
        analysis = mails[0].analysis()
        facts = facts_for(job, analysis)
        job = replace(job, headers=mails[0].headers)
        here = decide(job, analysis, facts, settings(offices), NOW)
        assert await pool.decide(Decision(job, mails[0], facts, NOW)) == here
        unknown = Decide(job, Held(10**9, mails[1].pickled), facts, NOW)  # held elsewhere
        assert await pool._ask(unknown, seconds=30) == here
        (worker,) = pool._workers
        worker.process.kill()  # the holder dies: its replacement decides from the pickle
        assert worker.reading is not None
        await worker.reading  # the pool has seen it die (a request sent before would fail)
        assert await pool.decide(Decision(job, mails[2], facts, NOW)) == here
        assert pool.replaced == 1


async def test_a_decision_goes_before_the_mails_not_yet_read(offices: OfficeRegistry) -> None:
    """Deciding a mail's answers finishes a job already read: it is sent before the mails
    still waiting to be read (not those already in a process's pipe). Sent after them, as it
    once was, no job was answered until every mail claimed with it had been read: forty
    EDIFACT DUAs of 140 KB from one agent were answered together, the first 3.8 s after it
    came, where reading it took 0.2 s."""
    job = view()
    raw = core_submission(flat(PLAIN))
    read_view = replace(job, headers=SubmissionHeaders())
    async with pool_of(offices, answers=settings(offices)) as pool:
        async with asyncio.timeout(60):
            mail = await pool.read(Submission(raw, AS_OF, "118", AGENT_CODE, view=read_view))
            facts = facts_for(job, mail.analysis())
            job = replace(job, headers=mail.headers)
            answered: list[str] = []

            async def noted(name: str, request: Awaitable[object]) -> None:
                await request
                answered.append(name)

            reads = [
                asyncio.create_task(noted(f"read {n}", pool.analyse(submission(numbered(n)))))
                for n in range(3 * _DEPTH)
            ]
            await asyncio.sleep(0)  # all queued: _DEPTH in the process, the others waiting
            decision = noted("decision", pool.decide(Decision(job, mail, facts, NOW)))
            await asyncio.gather(decision, *reads)
    # Answered after the mails already in the process's pipe, before those still waiting.
    assert answered.index("decision") <= _DEPTH
    assert len(answered) == 3 * _DEPTH + 1


async def test_a_decision_waits_for_the_process_holding_its_analysis(
    offices: OfficeRegistry,
) -> None:
    """When the holder's pipe is full, the decision waits for room there: another process
    would decide it too, but only after unpickling the analysis and validating its
    declarations again (with two processes, a tenth more of their CPU). Behind a
    holder stuck on a slow mail, it is decided by another process from the pickle."""
    job = view()
    raw = core_submission(flat(PLAIN))
    read_view = replace(job, headers=SubmissionHeaders())
    async with pool_of(offices, 2, seconds=60, answers=settings(offices)) as pool:
        async with asyncio.timeout(60):
            mails = [
                await pool.read(Submission(raw, AS_OF, "118", AGENT_CODE, view=read_view))
                for _ in range(2)
            ]
            holder = pool._holders[mails[0].kept]
            assert pool._holders[mails[1].kept] is holder  # the other process was never asked
            analysis = mails[0].analysis()
            facts = facts_for(job, analysis)
            job = replace(job, headers=mails[0].headers)
            here = decide(job, analysis, facts, settings(offices), NOW)

            def deciding(mail: AnalysedMail) -> asyncio.Task[Any]:
                held = Decide(job, Held(mail.kept, mail.pickled), facts, NOW)
                return asyncio.create_task(pool._request(held, seconds=30, prefer=holder))

            filling = [
                asyncio.create_task(pool._request(raw, seconds=30, prefer=holder))
                for _ in range(_DEPTH)
            ]
            waiting = deciding(mails[0])
            await asyncio.gather(*filling)
            plan, _, decided_by = await waiting
            assert (plan, decided_by) == (here, holder)

            slow = asyncio.create_task(
                pool._request(submission(part_bomb(60_000)), seconds=60, prefer=holder)
            )
            # The slow one is pickled in a thread, then sent; the pool tells no one.
            while not holder.calls:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            plan, _, decided_by = await deciding(mails[1])
            assert not slow.done()
            assert plan == here and decided_by is not holder
            await slow
        assert pool.replaced == 0


async def test_a_decision_is_not_left_behind_large_mails(offices: OfficeRegistry) -> None:
    """A process that had just read a small mail took the next large one a few
    milliseconds before that mail's decision came; with the other process on a large mail
    too, the decision waited for one of them to be read (a 2.6 MB DUA takes a second, 20 MB
    ten). While small requests come, one process is kept from large ones: the decision is
    made while both large mails wait or are read."""
    job = view()
    raw = core_submission(flat(PLAIN))
    read_view = replace(job, headers=SubmissionHeaders())
    async with pool_of(offices, 2, seconds=60, answers=settings(offices)) as pool:
        await pool.start()
        async with asyncio.timeout(60):
            first = asyncio.create_task(pool.analyse(submission(part_bomb(300_000))))
            while not any(worker.holds_large() for worker in pool._workers):  # noqa: ASYNC110
                await asyncio.sleep(0.001)  # pickled in a thread, then sent: nothing tells
            mail = await pool.read(Submission(raw, AS_OF, "118", AGENT_CODE, view=read_view))
            second = asyncio.create_task(pool.analyse(submission(part_bomb(300_000))))
            while not (  # noqa: ASYNC110
                pool._waiting or sum(w.holds_large() for w in pool._workers) == 2
            ):
                await asyncio.sleep(0.001)  # the second is sent, or held back
            facts = facts_for(job, mail.analysis())
            job = replace(job, headers=mail.headers)
            plan = await pool.decide(Decision(job, mail, facts, NOW))
            assert not first.done() and not second.done()
        assert plan == decide(job, mail.analysis(), facts, settings(offices), NOW)


class Nothing:
    """A store with no earlier declaration (an ``AnswerFactSource``)."""

    def recorded_answers(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], RecordedAnswer | None]:
        return dict.fromkeys(keys)

    def importer_fobs(self, doc_type: str, doc_number: str, year: int) -> list[int]:
        return []

    def used_control_documents(self, keys: Iterable[Any]) -> dict[Any, str]:
        return {}

    def overdue_regularizations(self, party: Any, kind: Any, as_of: Any) -> tuple[str, ...]:
        return ()

    def premises_incidents(self, party: Any, establishment: str) -> tuple[Any, ...]:
        return ()


def test_a_request_carrying_a_large_mail_is_pickled_off_the_event_loop(
    offices: OfficeRegistry,
) -> None:
    """Pickling copies the mail: beyond ``_PICKLE_ON_LOOP`` bytes it is done in a thread,
    as a large answer is unpickled in one. Beyond ``_LARGE`` bytes (fewer) a request is
    large: it may take a process a good part of a second."""
    job, none = view(), AnswerFacts({}, {})
    for limit, holds in [(_PICKLE_ON_LOOP, _pickled_in_thread), (_LARGE, _large)]:
        small, large = b"x" * limit, b"x" * (limit + 1)
        requests = [
            (submission(small), submission(large)),
            (small, large),  # a mail whose headers are asked
            (Identify(small), Identify(large)),  # a document identified
            (Decide(job, Pickled(small), none, NOW), Decide(job, Pickled(large), none, NOW)),
        ]
        for within, beyond in requests:
            assert not holds(_carried(within)) and holds(_carried(beyond))
        unknown = Decide(job, analysed(offices, flat(PLAIN)), none, NOW)  # size unknown
        assert holds(_carried(unknown))
    assert _LARGE < _PICKLE_ON_LOOP


@pytest.mark.parametrize(
    "received_at",
    [
        NOW,
        NOW.replace(tzinfo=timezone(timedelta(hours=-5))),
        NOW.replace(tzinfo=None),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=UTC),
    ],
)
def test_the_requests_cross_the_pipe_flat_and_come_back_equal(
    offices: OfficeRegistry, received_at: datetime
) -> None:
    """Views, mails and decisions are pickled as builtins (no class but the one that rebuilds
    them): every instant, date and header comes back as it was."""
    job = replace(
        view(), received_at=received_at, headers=SubmissionHeaders("<a@b>", "<r@b>", "Asunto", True)
    )
    mail = Submission(b"raw", date(2026, 11, 2), "118", AGENT_CODE, job)
    none = AnswerFacts({}, {})
    requests = [
        job,
        mail,
        replace(mail, view=None),
        Keep(mail, 3),
        Decide(job, Held(3, b"pickle"), none, received_at),
        Decide(job, analysed(offices, flat(PLAIN)), none, NOW),
    ]
    for request in requests:
        again = pickle.loads(pickle.dumps(request, pickle.HIGHEST_PROTOCOL))
        assert again == request
        assert type(again) is type(request)
    (again_job, again_decision) = (pickle.loads(pickle.dumps(r)) for r in (job, requests[4]))
    assert again_job.received_at.tzinfo == received_at.tzinfo
    assert again_job.received_at.fold == received_at.fold
    assert isinstance(again_decision, Decide) and again_decision.now.tzinfo == received_at.tzinfo
    flat_pickle = pickle.dumps(job, pickle.HIGHEST_PROTOCOL)
    if received_at.tzinfo is UTC:
        assert b"datetime" not in flat_pickle and b"SubmissionHeaders" not in flat_pickle
