"""The pipeline worker: take intake jobs, read and validate their mails, answer them.

One worker per node. It wakes when the store commits a new job (``Store.subscribe``) and,
as a safety net, every ``poll_interval`` seconds. Jobs are taken in batches: each is analysed
(extract, parse, validate; in a thread, so the servers keep answering meanwhile), then the
whole batch is answered in one write transaction, which shares the cost of a durable commit.
If that transaction fails, the batch is answered again one job per transaction, so one
failing job does not hold back its neighbours.

Restart safety comes from the store: nothing a job writes is visible before that commit, and a
job already done is skipped, so a job interrupted anywhere (an exception, a cancelled task, a
killed process) is redone from the start without duplicates or gaps in the numbering.

Failures: an unexpected exception on a job is noted on the job and retried after
``retry_delay * attempts`` seconds; when the job has used ``max_attempts`` attempts (counted
when it is claimed, so crashes count too) the agent is told the gateway could not process the
mail and the job is marked failed. Never a stuck job, never silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from config.clock import Clock
from config.offices import OfficeRegistry
from config.reference import ReferenceData, shipped_reference
from gateway.eventlog import event
from gateway.imap.filing import OfficeFiling
from gateway.pipeline.answer import (
    Answered,
    AnswerSettings,
    answer_job,
    fail_job,
    own_references,
)
from gateway.pipeline.process import Analysis, analyse, read_headers
from mailboxes.jobs import Answering, ClaimedJob, JobQueue
from mailboxes.store import Change, Store
from validators.engine import RuleContext, transmission_date
from validators.registry import RuleRegistry
from validators.rules import catalog_for

__all__ = ["DEFAULT_CHANNEL_SEED", "BeforeCommit", "PipelineWorker"]

log = logging.getLogger(__name__)

DEFAULT_CHANNEL_SEED = b"teledespacho/canal-de-control"
"""Seed of the reproducible channel draw; a deployment sets its own (see ``channels``)."""

BeforeCommit = Callable[[Sequence[int]], Awaitable[None]]
"""Called with the batch's job ids just before the answering commit (fault injection, metrics).

Raising there rolls the whole batch back, exactly like a crash before the commit."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class PipelineWorker:
    def __init__(
        self,
        store: Store,
        *,
        offices: OfficeRegistry,
        clock: Clock,
        domain: str,
        channel_seed: bytes = DEFAULT_CHANNEL_SEED,
        registry: RuleRegistry | None = None,
        reference: ReferenceData | None = None,
        filing: OfficeFiling | None = None,
        batch_size: int = 32,
        max_attempts: int = 3,
        retry_delay: float = 2.0,
        poll_interval: float = 5.0,
        before_commit: BeforeCommit | None = None,
        before_pass: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if batch_size < 1 or max_attempts < 1:
            raise ValueError("batch_size and max_attempts must be at least 1")
        self._store = store
        self._queue = JobQueue(store)
        self._clock = clock
        self._offices = offices
        self._reference = reference or shipped_reference()
        self._registry = registry or catalog_for(self._reference)
        self._settings = AnswerSettings(
            offices=offices,
            domain=domain.lower(),
            channel_seed=channel_seed,
            reference=self._reference,
            registry=self._registry,
            filing=filing or OfficeFiling(),
        )
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.poll_interval = poll_interval
        self.before_commit = before_commit
        self.before_pass = before_pass
        """Awaited before each pass over the queue (a test rig's delayed answers)."""
        self._retry_at: dict[int, float] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # region lifecycle

    async def start(self) -> None:
        """Run in the background; jobs left pending by a previous run are taken first."""
        if self._task is not None:
            return
        self._stopping = False
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
                log.exception("pipeline pass failed; retrying after the poll interval")
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
        """One pass: every job that can be taken now is taken once (failures wait a retry)."""
        async with self._lock:
            failed: set[int] = set()
            while not self._stopping:
                claimed = await self._queue.claim(
                    self.batch_size, exclude=[*self._waiting(), *failed]
                )
                if not claimed:
                    return
                failed |= await self._process(claimed)

    def _waiting(self) -> list[int]:
        now = asyncio.get_running_loop().time()
        for job_id in [j for j, at in self._retry_at.items() if at <= now]:
            del self._retry_at[job_id]
        return list(self._retry_at)

    def _analyse_all(self, claimed: Sequence[ClaimedJob]) -> dict[int, Analysis | Exception]:
        results: dict[int, Analysis | Exception] = {}
        for item in claimed:
            if item.job.attempts > self.max_attempts:
                continue  # what crashed it before is not run again
            context = RuleContext(
                as_of=transmission_date(item.job.received_at),
                offices=self._offices,
                addressed_office=item.job.office_code,
                sender_agent_code=item.sender_agent_code,
                reference=self._reference,
            )
            try:
                results[item.id] = analyse(item.raw, context, self._registry)
            except Exception as exc:
                log.exception("job %d: analysis failed", item.id)
                results[item.id] = exc
        return results

    async def _process(self, claimed: Sequence[ClaimedJob]) -> set[int]:
        """Analyse and answer a batch; the ids of the jobs that failed."""
        analyses = await asyncio.to_thread(self._analyse_all, claimed)
        failed = {
            item.id: _describe(result)
            for item in claimed
            if isinstance(result := analyses.get(item.id), Exception)
        }
        batch = [item for item in claimed if item.id not in failed]
        try:
            if batch:
                await self._answer_together(batch, analyses)
        except Exception as exc:
            if len(batch) == 1:
                log.exception("job %d: answering failed", batch[0].id)
                failed[batch[0].id] = _describe(exc)
            else:  # find the culprit: each job in a transaction of its own
                log.warning("answering %d jobs together failed (%s); one by one", len(batch), exc)
                for item in batch:
                    try:
                        await self._answer_together([item], analyses)
                    except Exception as alone:
                        log.exception("job %d: answering failed", item.id)
                        failed[item.id] = _describe(alone)
        for job_id, error in failed.items():
            try:
                await self._queue.record_error(job_id, error)
            except Exception:
                log.exception("job %d: cannot record the error", job_id)
        loop_time = asyncio.get_running_loop().time()
        for item in claimed:
            if item.id in failed:
                self._retry_at[item.id] = loop_time + self.retry_delay * item.job.attempts
            else:
                self._retry_at.pop(item.id, None)
        return set(failed)

    async def _answer_together(
        self, batch: Sequence[ClaimedJob], analyses: dict[int, Analysis | Exception]
    ) -> None:
        """Answer ``batch`` in one transaction: all of it is committed, or none of it.

        Each answer is logged once the transaction has committed, never for a batch that
        was rolled back.
        """
        now = self._clock.now()
        answered: list[tuple[ClaimedJob, Answered]] = []
        async with self._queue.answering(now) as answering:
            pending = await answering.pending_among([item.id for item in batch])
            await answering.prefetch_answers(
                [key for item in batch for key in own_references(item, analyses.get(item.id))]
            )
            for item in batch:
                if item.id in pending:  # another attempt may have answered it already
                    for one in await self._answer(answering, item, analyses.get(item.id)):
                        answered.append((item, one))
            if self.before_commit is not None:
                await self.before_commit([item.id for item in batch])
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

    async def _answer(
        self, answering: Answering, item: ClaimedJob, analysis: Analysis | Exception | None
    ) -> list[Answered]:
        moved_to = self._store.routing.current.remote_node(item.job.recipient)
        if moved_to is not None and await answering.handed_over(item.job.office_code):
            # Accepted here just before the office moved, committed after its numbering was
            # handed over: numbering it here would repeat a number. Its new node answers it.
            await answering.forward(item.job, moved_to)
            return [Answered("forwarded")]
        if item.job.attempts > self.max_attempts:
            error = item.last_error or "intentos agotados"
            return await fail_job(answering, item, self._settings, read_headers(item.raw), error)
        if isinstance(analysis, Exception):
            raise analysis
        if analysis is None:
            raise RuntimeError(f"job {item.id} was not analysed")
        return await answer_job(answering, item, analysis, self._settings)

    # endregion
