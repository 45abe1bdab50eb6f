"""The pipeline worker: take intake jobs, read and validate their mails, answer them.

It wakes when the store commits a new job (``Store.subscribe``) and, as a safety net, every
``poll_interval`` seconds. Mails are read in worker processes (``pool``: all cores, and the
event loop stays free), and their answers decided there too, from the facts read in a read
session (decide, then commit); the worker keeps up to ``batch_size`` jobs in hand and commits
whatever has been decided in one write transaction, which shares the cost of a durable commit,
and in which nothing is parsed or composed. The transaction runs beside the reading: the jobs
decided meanwhile go in the next one (when none is running, the first waits
``gather_seconds`` for jobs still being read).
A mail that takes long delays only itself: its neighbours are answered as soon as they are
read. If the answering transaction fails, those jobs are answered again one per transaction,
so one failing job does not hold back its neighbours.

Restart safety comes from the store: nothing a job writes is visible before that commit, and a
job already done is skipped, so a job interrupted anywhere (an exception, a cancelled task, a
killed process) is redone from the start without duplicates or gaps in the numbering.

Failures: a job's attempts count only its own failures (reading it failed in the gateway, its
worker process died or answering it raised). A crash of the node is nobody's failure: it
costs no job an attempt, however many jobs were in hand. A failed job is retried after
``retry_delay * attempts`` seconds; when it has failed ``max_attempts`` times the agent is told
the gateway could not process the mail and the job is marked failed. Never a stuck job, never
silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from config.clock import Clock
from config.offices import OfficeRegistry
from config.reference import ReferenceData, shipped_reference
from gateway.eventlog import event
from gateway.imap.filing import OfficeFiling
from gateway.limits import FAILURE_LOG_INTERVAL, RateLimitedLog
from gateway.pipeline.answer import (
    Answered,
    AnswerFacts,
    AnswerPlan,
    AnswerSettings,
    JobView,
    answer_in_transaction,
    fail_job,
    own_references,
    read_listed_facts,
)
from gateway.pipeline.pool import (
    AnalysisFailed,
    AnalysisPool,
    Decision,
    RulesFactory,
    Submission,
)
from gateway.pipeline.process import AnalysedMail, AnalysisBudget, SubmissionHeaders
from mailboxes.answer_facts import FactReader, read_facts
from mailboxes.errors import store_unavailable
from mailboxes.jobs import DEFAULT_CLAIM_BYTES, Answering, ClaimedJob, JobQueue
from mailboxes.store import Change, Store
from validators.engine import transmission_date
from validators.rules import catalog_for

__all__ = ["DEFAULT_CHANNEL_SEED", "BeforeCommit", "PipelineWorker", "default_processes"]

log = logging.getLogger(__name__)

DEFAULT_CHANNEL_SEED = b"teledespacho/canal-de-control"
"""Seed of the reproducible channel draw; a deployment sets its own (see ``channels``)."""

TAKE_WHILE_STALLED = 0.05
"""Seconds a pass waits for one of its jobs to be read or answered before it takes the jobs
that came meanwhile: a mail that takes seconds to read holds one process, not the jobs that
arrive behind it (the other processes read them). A busy pass takes them as its jobs are read."""

BeforeCommit = Callable[[Sequence[int]], None]
"""Called with the batch's job ids just before the answering commit (fault injection, metrics).

It runs inside the answering transaction, a unit of work of the store (on SQLite in the
database's thread, not on the event loop). Raising there rolls the whole batch back, exactly
like a crash before the commit."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def default_processes() -> int:
    """One analysis process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_Read = AnalysedMail | SubmissionHeaders | Exception
"""What reading a claimed job gave: its analysis (as the node needs it); only its headers,
for a job that has used its attempts and is answered as failed; or why reading failed."""

_Prepared = tuple[_Read, AnswerPlan | None]
"""What was read, and the answers decided from it before the transaction (None: decided in
the transaction, as for a job answered as failed)."""


class PipelineWorker:
    def __init__(
        self,
        store: Store,
        *,
        offices: OfficeRegistry,
        clock: Clock,
        domain: str,
        channel_seed: bytes = DEFAULT_CHANNEL_SEED,
        rules: RulesFactory = catalog_for,
        reference: ReferenceData | None = None,
        filing: OfficeFiling | None = None,
        processes: int = 1,
        budget: AnalysisBudget | None = None,
        batch_size: int = 64,
        max_attempts: int = 3,
        retry_delay: float = 2.0,
        poll_interval: float = 5.0,
        gather_seconds: float = 0.005,
        before_commit: BeforeCommit | None = None,
        before_pass: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if batch_size < 1 or max_attempts < 1 or processes < 1:
            raise ValueError("batch_size, max_attempts and processes must be at least 1")
        self._store = store
        self._queue = JobQueue(store)
        self._clock = clock
        self._offices = offices
        self._reference = reference or shipped_reference()
        self._registry = rules(self._reference)
        self._settings = AnswerSettings(
            offices=offices,
            domain=domain.lower(),
            channel_seed=channel_seed,
            reference=self._reference,
            registry=self._registry,
            filing=filing or OfficeFiling(),
        )
        self._facts = _FactsReader(store, gather_seconds=gather_seconds)
        self._pool = AnalysisPool(
            processes,
            offices=offices,
            reference=self._reference,
            rules=rules,
            budget=budget,
            answers=self._settings,
        )
        self.batch_size = batch_size
        """Jobs in hand at most. A claim (about half a millisecond of the node's CPU,
        whatever it takes) comes once half of them are read, and one transaction answers
        what has been read: 64 rather than 32 halves the claims and makes the transactions
        larger."""
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval
        self.gather_seconds = gather_seconds
        """How long jobs that are read wait for others still being read, to be answered in
        the same transaction (its fixed cost shared; one analysis process finishes one job
        at a time, so without it most transactions answer a single job)."""
        self.before_commit = before_commit
        self.before_pass = before_pass
        """Awaited before each pass over the queue (a test rig's delayed answers)."""
        self._retry_at: dict[int, float] = {}
        self._failed_passes = RateLimitedLog(FAILURE_LOG_INTERVAL)
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._in_hand: frozenset[int] = frozenset()

    @property
    def pool(self) -> AnalysisPool:
        """The worker processes that read the mails."""
        return self._pool

    @property
    def jobs_in_hand(self) -> frozenset[int]:
        """The ids of the jobs in hand at the pass's last claim (being read, read, or being
        answered), with any answered since; empty between passes."""
        return self._in_hand

    # region lifecycle

    async def start(self) -> None:
        """Run in the background; jobs left pending by a previous run are taken first."""
        if self._task is not None:
            return
        self._stopping = False
        await self._pool.start()
        self._unsubscribe = self._store.subscribe(self._on_change)
        self._wake.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pipeline-worker")

    async def stop(self, *, grace: float = 5.0) -> None:
        """Let the batch in hand finish (up to ``grace`` seconds), then stop.

        A batch cut short is rolled back and redone on the next start.
        """
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is None:
            await self._pool.close()
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            self._stopping = False
            await self._pool.close()

    def _on_change(self, change: Change) -> None:
        if change.job_ids:
            self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                if self.before_pass is not None:
                    await self.before_pass()
                await self.process_available()
            except Exception:
                # The store's trouble (a disk, the descriptor limit) fails pass after pass:
                # one traceback per interval says it, with how many more failed meanwhile.
                self._failed_passes.exception(
                    log,
                    asyncio.get_running_loop().time(),
                    "pipeline pass failed; retrying after the poll interval",
                )
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_wait())

    def _next_wait(self) -> float:
        if not self._retry_at:
            return self.poll_interval
        earliest = min(self._retry_at.values()) - asyncio.get_running_loop().time()
        return max(0.0, min(self.poll_interval, earliest))

    # endregion
    # region processing

    async def run_until_idle(self) -> None:
        """Process until no job is pending (waiting out retry delays); for tests and tools."""
        while True:
            await self.process_available()
            if not await self._queue.pending_ids():
                return
            await asyncio.sleep(self._next_wait() if self._retry_at else 0)

    async def process_available(self) -> None:
        """One pass: every job that can be taken now is taken once (failures wait a retry).

        Up to ``batch_size`` jobs (and ``DEFAULT_CLAIM_BYTES`` of mail) are in hand; the pool
        reads them, and whatever has been read is answered together, in one transaction.
        The transaction runs beside the reading: while it commits, the processes read and
        decide the next jobs, and more are claimed once half of those in hand are read.
        """
        async with self._lock:
            failed: set[int] = set()
            reading: dict[asyncio.Task[_Prepared], ClaimedJob] = {}
            read: dict[ClaimedJob, _Prepared] = {}  # waiting for the next transaction
            answering: asyncio.Task[set[int]] | None = None
            in_transaction: list[ClaimedJob] = []
            capacity = max(self.batch_size, 2 * self._pool.size)
            try:
                exhausted = False
                while True:
                    in_hand = [*reading.values(), *read, *in_transaction]
                    held = sum(len(item.raw) for item in in_hand)
                    if (
                        not exhausted
                        and not self._stopping
                        and len(reading) <= capacity // 2
                        and len(in_hand) < capacity
                        and (not in_hand or held < DEFAULT_CLAIM_BYTES)
                    ):
                        room = capacity - len(in_hand)
                        self._wake.clear()  # what comes after the claim's look wakes it
                        claimed = await self._queue.claim(
                            room,
                            exclude=[*self._waiting(), *failed, *(i.id for i in in_hand)],
                            max_bytes=max(1, DEFAULT_CLAIM_BYTES - held),
                        )
                        exhausted = len(claimed) < room
                        for item in claimed:
                            reading[asyncio.create_task(self._prepare(item))] = item
                        self._in_hand = frozenset(i.id for i in (*in_hand, *claimed))
                    if not reading and not read and answering is None:
                        return
                    waited: set[asyncio.Future[Any]] = {*reading}
                    if answering is not None:
                        waited.add(answering)
                    if waited:
                        done, _ = await asyncio.wait(
                            waited, timeout=TAKE_WHILE_STALLED, return_when=asyncio.FIRST_COMPLETED
                        )
                        if not done and self._wake.is_set():
                            exhausted = False  # stalled on a slow mail: take what came since
                    if (
                        answering is None
                        and reading
                        and self.gather_seconds > 0
                        and not all(task.done() for task in reading)
                    ):
                        # Nothing is being committed: wait a little for jobs still being
                        # read, so they share the transaction.
                        await asyncio.wait(reading, timeout=self.gather_seconds)
                    for task in [task for task in reading if task.done()]:
                        read[reading.pop(task)] = task.result()
                    if answering is not None and answering.done():
                        failed |= answering.result()
                        answering, in_transaction = None, []
                        exhausted = exhausted and bool(reading or read)
                    if answering is None and read:
                        # Oldest first: jobs read by the same time are answered in the order
                        # they came.
                        in_transaction = sorted(read, key=lambda item: item.id)
                        ready = {item: read[item][0] for item in in_transaction}
                        plans = {
                            item.id: plan
                            for item in in_transaction
                            if (plan := read[item][1]) is not None
                        }
                        read = {}
                        answering = asyncio.create_task(self._process(ready, plans))
            finally:
                self._in_hand = frozenset()
                for task in reading:
                    task.cancel()
                if answering is not None:
                    answering.cancel()
                pending = [*reading, *([answering] if answering is not None else [])]
                if pending:
                    await asyncio.gather(*pending, return_exceptions=True)

    def _waiting(self) -> list[int]:
        now = asyncio.get_running_loop().time()
        for job_id in [j for j, at in self._retry_at.items() if at <= now]:
            del self._retry_at[job_id]
        return list(self._retry_at)

    async def _read(self, item: ClaimedJob) -> _Read:
        """Read one job's mail in a worker process (only its headers once it is to be
        answered as failed: what failed it before is not run again)."""
        try:
            if item.job.attempts > self.max_attempts:
                return await self._pool.headers(item.raw)
            return await self._pool.read(
                Submission(
                    raw=item.raw,
                    as_of=transmission_date(item.job.received_at),
                    addressed_office=item.job.office_code,
                    sender_agent_code=item.sender_agent_code,
                    view=JobView.of(item, SubmissionHeaders()),
                )
            )
        except AnalysisFailed as exc:
            log.error("job %d: reading the mail failed: %s", item.id, exc)
            return exc

    async def _prepare(self, item: ClaimedJob) -> _Prepared:
        """Read the job's mail, then decide its answers before the writer transaction: its
        facts read in a read session, ``decide`` run in a worker process. The transaction
        then only commits the plan (and decides again only if a fact moved meanwhile)."""
        read = await self._read(item)
        if not isinstance(read, AnalysedMail):
            return read, None
        view = JobView.of(item, read.headers)
        try:
            facts = await self._facts.read(read)
        except Exception:  # the store's trouble, not the job's: decided in the transaction
            log.warning("job %d: reading its facts failed; decided when answered", item.id)
            return read, None
        try:
            plan = await self._pool.decide(Decision(view, read, facts, self._clock.now()))
        except AnalysisFailed as exc:
            log.error("job %d: deciding its answers failed: %s", item.id, exc)
            return exc, None
        return read, plan

    async def _process(
        self, ready: dict[ClaimedJob, _Read], plans: dict[int, AnswerPlan]
    ) -> set[int]:
        """Answer jobs that have been read; the ids of those that failed."""
        for item, result in ready.items():
            if isinstance(result, AnalysedMail):
                for problem in result.problems:
                    log.error("job %d: a document failed the reader: %s", item.id, problem)
        failed = {
            item.id: _describe(result)
            for item, result in ready.items()
            if isinstance(result, Exception)
        }
        batch = [item for item in ready if item.id not in failed]
        # A failure that is the store's (a connection lost, the server out of reach) is
        # raised, not charged to the jobs: the pass fails, and they wait for the next one
        # with their attempts as they were.
        try:
            if batch:
                await self._answer_together(batch, ready, plans)
        except Exception as exc:
            if store_unavailable(exc):
                raise
            if len(batch) == 1:
                log.exception("job %d: answering failed", batch[0].id)
                failed[batch[0].id] = _describe(exc)
            else:  # find the culprit: each job in a transaction of its own
                log.warning("answering %d jobs together failed (%s); one by one", len(batch), exc)
                for item in batch:
                    try:
                        await self._answer_together([item], ready, plans)
                    except Exception as alone:
                        if store_unavailable(alone):
                            raise
                        log.exception("job %d: answering failed", item.id)
                        failed[item.id] = _describe(alone)
        for job_id, error in failed.items():
            try:
                await self._queue.record_error(job_id, error)
            except Exception as exc:
                if store_unavailable(exc):
                    raise
                log.exception("job %d: cannot record the error", job_id)
        loop_time = asyncio.get_running_loop().time()
        for item in ready:
            if item.id in failed:
                self._retry_at[item.id] = loop_time + self.retry_delay * item.job.attempts
            else:
                self._retry_at.pop(item.id, None)
        return set(failed)

    async def _answer_together(
        self,
        batch: Sequence[ClaimedJob],
        results: dict[ClaimedJob, _Read],
        plans: dict[int, AnswerPlan],
    ) -> None:
        """Answer ``batch`` in one transaction: all of it is committed, or none of it.

        Each answer is logged once the transaction has committed, never for a batch that
        was rolled back.
        """
        now = self._clock.now()
        answered = await self._queue.answer(now, partial(self._answer_batch, batch, results, plans))
        for item, one in answered:
            event(
                log,
                "answer",
                job=item.id,
                office=item.job.office_code,
                sender=item.job.sender,
                reference=one.reference,
                verdict=one.verdict,
                number=one.number,
                channel=one.channel,
                seconds=(now - item.job.received_at).total_seconds(),
            )

    def _answer_batch(
        self,
        batch: Sequence[ClaimedJob],
        results: dict[ClaimedJob, _Read],
        plans: dict[int, AnswerPlan],
        answering: Answering,
    ) -> list[tuple[ClaimedJob, Answered]]:
        """The answering transaction: one unit of work of the store, run (on SQLite) in the
        database's thread. Only commits plans, decides again what must be, writes."""
        answered: list[tuple[ClaimedJob, Answered]] = []
        pending = answering.pending_among([item.id for item in batch])
        answering.prefetch_answers(
            [key for item in batch for key in own_references(item, _analysed(results[item]))]
        )
        for item in batch:
            if item.id in pending:  # another attempt may have answered it already
                plan = plans.get(item.id)
                for one in self._answer(answering, item, results[item], plan):
                    answered.append((item, one))
        if self.before_commit is not None:
            self.before_commit([item.id for item in batch])
        return answered

    def _answer(
        self, answering: Answering, item: ClaimedJob, read: _Read, plan: AnswerPlan | None
    ) -> list[Answered]:
        moved_to = self._store.routing.current.remote_node(item.job.recipient)
        if moved_to is not None and answering.handed_over(item.job.office_code):
            # Accepted here just before the office moved, committed after its numbering was
            # handed over: numbering it here would repeat a number. Its new node answers it.
            answering.forward(item.job, moved_to)
            return [Answered("forwarded")]
        if isinstance(read, SubmissionHeaders):
            error = item.last_error or "intentos agotados"
            return fail_job(answering, item, self._settings, read, error)
        if isinstance(read, Exception):
            raise read
        return answer_in_transaction(answering, item, read, self._settings, plan=plan)

    # endregion


class _FactsReader:
    """Reads the answer's facts of the jobs read meanwhile together, in one unit of work.

    Jobs come back from the processes one at a time, a millisecond or so apart. A read
    session costs about a tenth of a millisecond of the node's CPU to hand to the database
    thread and back, whatever it reads, so a session waits (``gather_seconds``, or until
    ``enough`` jobs wait) for the jobs that come close behind the first, and the jobs that
    come while it runs wait for the next: a busy node takes one hand-off for several jobs
    rather than one each. The wait costs no throughput: a decided job waits about as long
    for its answering transaction. A job whose questions fail gets the error alone.
    """

    def __init__(self, store: Store, *, gather_seconds: float, enough: int = 8) -> None:
        self._store = store
        self._gather_seconds = gather_seconds
        self._enough = enough
        self._queued: list[tuple[AnalysedMail, asyncio.Future[AnswerFacts]]] = []
        self._reading: asyncio.Task[None] | None = None
        self._filled: asyncio.Future[None] | None = None
        """Resolved when ``enough`` jobs wait, ending the session's gathering early."""

    async def read(self, mail: AnalysedMail) -> AnswerFacts:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[AnswerFacts] = loop.create_future()
        self._queued.append((mail, future))
        if self._reading is None:
            self._reading = loop.create_task(self._read_queued(), name="answer-facts")
        elif len(self._queued) >= self._enough:
            _resolve(self._filled)
        return await future

    async def _read_queued(self) -> None:
        batch: list[tuple[AnalysedMail, asyncio.Future[AnswerFacts]]] = []
        try:
            while self._queued:
                await self._gathered()
                batch, self._queued = self._queued, []
                mails = [mail for mail, _ in batch]
                try:
                    results = await read_facts(self._store, partial(_facts_of, mails))
                except Exception as exc:
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its job was cancelled meanwhile
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._reading = None
            # Cancelled itself (the loop's end): none waits for ever, whether its session was
            # reading or still gathering.
            for _, future in [*batch, *self._queued]:
                future.cancel()
            self._queued = []

    async def _gathered(self) -> None:
        """Until ``enough`` jobs wait (eight by default: the hand-off is then a small share
        of the session), or for ``gather_seconds`` more."""
        if len(self._queued) >= self._enough or self._gather_seconds <= 0:
            return
        loop = asyncio.get_running_loop()
        filled = self._filled = loop.create_future()
        timer = loop.call_later(self._gather_seconds, _resolve, filled)
        try:
            await filled
        finally:
            timer.cancel()
            self._filled = None


def _resolve(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


def _facts_of(mails: list[AnalysedMail], reader: FactReader) -> list[AnswerFacts | Exception]:
    """In the read session: each mail's facts, or why its questions failed. The answers on
    file for all of them are asked in one statement."""
    on_file = reader.recorded_answers([key for mail in mails for key in mail.references])
    results: list[AnswerFacts | Exception] = []
    for mail in mails:
        try:
            results.append(read_listed_facts(reader, mail.references, mail.wanted, on_file=on_file))
        except Exception as exc:
            results.append(exc)
    return results


def _analysed(read: _Read) -> AnalysedMail | None:
    return read if isinstance(read, AnalysedMail) else None
