"""Worker processes that read submissions, so the event loop only moves bytes and commits.

Extracting, parsing and validating a mail is pure CPU (``process.analyse``). Run in the
node's process it would hold the GIL, so one core at most, and a slow mail would slow every
SMTP, POP3 and IMAP session with it. Each of the pool's processes reads one mail at a time;
the pool hands a mail to an idle process and waits for its answer in a thread (one
hand-off per request: the request is sent from that thread too). The same
processes decide the answers (``core.decide``: composing the replies is the other large
cost), from the analysis and the facts the worker read from the store.

The budget is enforced in the processes: a mail beyond its bytes, MIME parts or nesting is
answered without being parsed, and a process that overruns ``seconds`` on one mail is killed
and replaced; the mail is answered with the limit it passed. A slow or hostile mail thus
costs one process for at most ``seconds``, and never the other processes' mails.

The processes are managed here rather than by ``concurrent.futures.ProcessPoolExecutor``:
that executor cannot stop one task, and a worker killed under it breaks the whole pool
(``BrokenProcessPool``) with every other mail in flight, which is exactly what the time
budget must not do.

Processes come from a ``forkserver`` (never ``fork``: the node has threads, and a forked
child could inherit a lock another thread held). They receive the office registry and the
reference tables once, at start; the rule catalog is built in each process by a picklable
factory (rules are functions, which do not cross process boundaries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import signal
import traceback
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from config.offices import OfficeRegistry
from config.reference import ReferenceData, shipped_reference
from gateway.imap.filing import OfficeFiling
from gateway.pipeline.core import AnswerFacts, AnswerPlan, AnswerSettings, JobView, decide
from gateway.pipeline.process import (
    Analysis,
    AnalysisBudget,
    SubmissionHeaders,
    analyse,
    read_headers,
    time_exceeded,
)
from validators.engine import RuleContext
from validators.registry import RuleRegistry
from validators.rules import catalog_for

__all__ = ["AnalysisFailed", "AnalysisPool", "Decision", "RulesFactory", "Submission"]

log = logging.getLogger(__name__)

RulesFactory = Callable[[ReferenceData], RuleRegistry]
"""Builds the rule catalog from the reference tables; a module-level function (it is sent
to the worker processes by name)."""

_PRELOAD = ["gateway.pipeline.core", "validators.rules", "edi_formats.codec"]


class AnalysisFailed(Exception):
    """Reading the mail failed in the gateway (a bug, or the process died): the job's own
    failure, counted against its attempts and retried."""


@dataclass(frozen=True, slots=True)
class Submission:
    """What a worker process needs to read one mail: its bytes and the rule context's
    per-mail values (the rest was sent when the process started)."""

    raw: bytes
    as_of: date
    addressed_office: str
    sender_agent_code: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    """What a worker process needs to decide one job's answers (``core.decide``): the rest
    of the ``AnswerSettings`` was sent when the process started."""

    view: JobView
    analysis: Analysis
    facts: AnswerFacts
    now: datetime


@dataclass(frozen=True, slots=True)
class _Decide:
    """A ``Decision`` as sent: the analysis as the bytes it came back as, when the pool still
    has them (pickling it again cost the node's process more than the rest of the request)."""

    view: JobView
    analysis: Analysis | _Pickled
    facts: AnswerFacts
    now: datetime


class _Pickled:
    """A value as the pickle it came through the pipe as; sent on as those bytes, and
    unpickled as the value on the other side."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self) -> tuple[Callable[[bytes], object], tuple[bytes]]:
        return pickle.loads, (self.data,)


_KEPT_PICKLES = 256
"""Analyses whose pickles the pool keeps for their decision (the jobs in hand, and more)."""
_KEPT_PICKLE_BYTES = 64 * 1024
"""A larger analysis is pickled again for its decision rather than kept (rare, and bounds
what the kept pickles hold: at most 16 MB)."""


@dataclass(frozen=True, slots=True)
class _Answering:
    """The ``AnswerSettings`` a process cannot build itself (offices, reference tables and
    catalog it already has)."""

    domain: str
    channel_seed: bytes
    filing: OfficeFiling


@dataclass(frozen=True, slots=True)
class _Setup:
    offices: OfficeRegistry
    reference: ReferenceData | None  # None: the shipped tables, loaded in the process
    rules: RulesFactory
    budget: AnalysisBudget
    answering: _Answering | None


@dataclass(frozen=True, slots=True)
class _Failure:
    error: str


def _serve(connection: Connection, setup: _Setup) -> None:
    """A worker process: read requests until the pool closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the node, which stops us
    reference = setup.reference or shipped_reference()
    registry = setup.rules(reference)
    settings = None
    if setup.answering is not None:
        settings = AnswerSettings(
            offices=setup.offices,
            domain=setup.answering.domain,
            channel_seed=setup.answering.channel_seed,
            reference=reference,
            registry=registry,
            filing=setup.answering.filing,
        )
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        try:
            result: object
            if isinstance(request, Submission):
                context = RuleContext(
                    as_of=request.as_of,
                    offices=setup.offices,
                    addressed_office=request.addressed_office,
                    sender_agent_code=request.sender_agent_code,
                    reference=reference,
                )
                result = analyse(request.raw, context, registry, setup.budget)
            elif isinstance(request, _Decide):
                if settings is None:
                    raise RuntimeError("this pool was started without answer settings")
                assert isinstance(request.analysis, Analysis)  # _Pickled unpickles as one
                result = decide(
                    request.view, request.analysis, request.facts, settings, request.now
                )
            else:
                result = read_headers(request)
        except Exception as exc:
            result = _Failure(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        try:
            connection.send(result)
        except (OSError, ValueError):
            return


class _Worker:
    """One process and the parent's end of its pipe."""

    def __init__(self, context: multiprocessing.context.ForkServerContext, setup: _Setup) -> None:
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve, args=(child, setup), name="teledespacho-analysis", daemon=True
        )
        try:
            self.process.start()
        except BaseException:
            self.connection.close()
            raise
        finally:
            child.close()
        self.killed = False

    def kill(self) -> None:
        """Kill the process now (a signal: does not block); ``reap`` it later."""
        self.killed = True
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()

    def reap(self) -> None:
        self.process.join(5)
        # Closed once the process is gone: a thread may still be reading the pipe, and it
        # must see the end of it, not a descriptor number reused by something else.
        with contextlib.suppress(OSError):
            self.connection.close()


def _exchange(connection: Connection, request: object) -> tuple[object, bytes]:
    """Send ``request`` to a process and wait for its answer (in a thread: both block); the
    answer, and the pickle it came as."""
    connection.send(request)
    data = connection.recv_bytes()
    answer: object = pickle.loads(data)  # noqa: S301 - our own process's answer, as recv() would
    return answer, data


def _stop_all(workers: list[_Worker]) -> None:
    """Close every pipe (a process waiting for its next request then exits) and reap them;
    a process still reading a mail is killed."""
    for worker in workers:
        if not worker.killed:
            with contextlib.suppress(OSError):
                worker.connection.close()
    for worker in workers:
        worker.process.join(2)
        if worker.process.is_alive():
            worker.kill()
        worker.reap()
    workers.clear()


class AnalysisPool:
    """``size`` worker processes, started on first use; ``close()`` stops them."""

    def __init__(
        self,
        size: int,
        *,
        offices: OfficeRegistry,
        reference: ReferenceData,
        rules: RulesFactory = catalog_for,
        budget: AnalysisBudget | None = None,
        answers: AnswerSettings | None = None,
    ) -> None:
        """``answers``: the settings ``decide`` runs with (its offices, reference tables and
        catalog are the pool's own); without them the pool only reads mails."""
        if size < 1:
            raise ValueError("an analysis pool needs at least one process")
        self.size = size
        self.budget = budget or AnalysisBudget()
        self._setup = _Setup(
            offices=offices,
            reference=None if reference is shipped_reference() else reference,
            rules=rules,
            budget=self.budget,
            answering=None
            if answers is None
            else _Answering(answers.domain, answers.channel_seed, answers.filing),
        )
        self._context = multiprocessing.get_context("forkserver")
        self._workers: list[_Worker] = []
        self._idle: asyncio.Queue[_Worker] | None = None
        self._starting = asyncio.Lock()  # requests arriving during the start wait for it
        self._pickles: OrderedDict[int, tuple[Analysis, bytes]] = OrderedDict()
        """Analyses read here (by ``id``: the object is held, so its id is not reused) and
        the pickles they came as, until their decision is sent."""
        self.replaced = 0
        """Processes killed (overrun, found dead, cancelled) and replaced on their next use."""
        # Processes are not left behind by a pool dropped without close() (tests, errors).
        self._finalizer = weakref.finalize(self, _stop_all, self._workers)

    async def start(self) -> None:
        """Start the processes now rather than for the first mail (a second, the first time:
        the fork server imports the readers)."""
        async with self._starting:
            if self._idle is not None:
                return
            self._context.set_forkserver_preload(_PRELOAD)
            started = await asyncio.to_thread(self._start_all)
            idle: asyncio.Queue[_Worker] = asyncio.Queue()
            for worker in started:
                idle.put_nowait(worker)
            self._idle = idle  # only now: a start that failed (no descriptors) is tried again

    def _start_all(self) -> list[_Worker]:
        started: list[_Worker] = []
        try:
            for _ in range(self.size):
                started.append(_Worker(self._context, self._setup))
        except BaseException:
            _stop_all(started)
            raise
        self._workers += started
        return started

    async def _take(self) -> tuple[asyncio.Queue[_Worker], _Worker]:
        await self.start()
        idle = self._idle
        assert idle is not None
        worker = await idle.get()
        if worker.killed:  # on its last request: a fresh process takes its place
            try:
                worker = await asyncio.to_thread(self._replace, worker)
            except BaseException:
                # Starting one failed (out of descriptors, say): the dead one keeps its
                # place, so the next request tries again and the pool never shrinks.
                idle.put_nowait(worker)
                raise
        return idle, worker

    def _replace(self, worker: _Worker) -> _Worker:
        worker.reap()  # first: its pipe's descriptors are free again for the fresh one
        fresh = _Worker(self._context, self._setup)
        if worker in self._workers:
            self._workers[self._workers.index(worker)] = fresh
        else:
            self._workers.append(fresh)
        return fresh

    async def _ask(self, request: object, *, seconds: float) -> object | None:
        """The answer of a process to ``request``; None when it overran ``seconds``."""
        answer = await self._request(request, seconds=seconds)
        return answer if answer is None or isinstance(answer, _Failure) else answer[0]

    async def _request(
        self, request: object, *, seconds: float
    ) -> tuple[object, bytes] | _Failure | None:
        """``_ask``, with the pickle the answer came as."""
        idle, worker = await self._take()
        try:
            # One hand-off to a thread for the request and its answer: each hand-off costs
            # the event loop a wake-up, and the request is small next to the mail's reading.
            # The executor's future itself is awaited (``to_thread`` would add a task).
            loop = asyncio.get_running_loop()
            answer = await asyncio.wait_for(
                loop.run_in_executor(None, _exchange, worker.connection, request), seconds
            )
        except TimeoutError:
            self._kill(worker)
            return None
        except (EOFError, OSError) as exc:  # the process died: a crash, or killed from outside
            self._kill(worker)
            return _Failure(f"the analysis process died ({type(exc).__name__})")
        except BaseException:  # cancelled mid-request: its answer would go to the next one
            self._kill(worker)
            raise
        finally:
            idle.put_nowait(worker)
        return answer

    def _kill(self, worker: _Worker) -> None:
        worker.kill()
        self.replaced += 1

    async def analyse(self, submission: Submission) -> Analysis:
        """Read one mail in a worker process, within the budget.

        Raises AnalysisFailed when reading failed in the gateway (not in a document: those
        failures are answered per document).
        """
        exchanged = await self._request(submission, seconds=self.budget.seconds)
        if exchanged is None:
            log.warning("a mail overran the analysis time of %gs", self.budget.seconds)
            return await self._over_time(submission.raw)
        if isinstance(exchanged, _Failure):
            raise AnalysisFailed(exchanged.error)
        answer, data = exchanged
        if isinstance(answer, _Failure):
            raise AnalysisFailed(answer.error)
        assert isinstance(answer, Analysis)
        if len(data) <= _KEPT_PICKLE_BYTES:
            self._pickles[id(answer)] = (answer, data)
            if len(self._pickles) > _KEPT_PICKLES:
                self._pickles.popitem(last=False)
        return answer

    async def decide(self, decision: Decision) -> AnswerPlan:
        """``core.decide`` in a worker process (composing the replies is CPU too).

        Raises AnalysisFailed when it failed or overran the budget's seconds: the job's own
        failure, like a mail that could not be read.
        """
        kept = self._pickles.pop(id(decision.analysis), None)
        analysis: Analysis | _Pickled = decision.analysis
        if kept is not None and kept[0] is decision.analysis:
            analysis = _Pickled(kept[1])
        request = _Decide(decision.view, analysis, decision.facts, decision.now)
        answer = await self._ask(request, seconds=self.budget.seconds)
        if answer is None:
            raise AnalysisFailed(f"deciding the answers overran {self.budget.seconds:g}s")
        if isinstance(answer, _Failure):
            raise AnalysisFailed(answer.error)
        assert isinstance(answer, AnswerPlan)
        return answer

    async def _over_time(self, raw: bytes) -> Analysis:
        return time_exceeded(await self.headers(raw), self.budget)

    async def headers(self, raw: bytes) -> SubmissionHeaders:
        """The submission's threading headers, read in a worker process (empty if they
        cannot be read in time)."""
        answer = await self._ask(raw, seconds=self.budget.seconds)
        return answer if isinstance(answer, SubmissionHeaders) else SubmissionHeaders()

    async def close(self) -> None:
        """Stop the processes (a request in hand is abandoned)."""
        self._idle = None
        await asyncio.to_thread(_stop_all, self._workers)
