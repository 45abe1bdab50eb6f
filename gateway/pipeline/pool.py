"""Worker processes that read submissions, so the event loop only moves bytes and commits.

Extracting, parsing and validating a mail is pure CPU (``process.analyse``). Run in the
node's process it would hold the GIL, so one core at most, and a slow mail would slow every
SMTP, POP3 and IMAP session with it. Each of the pool's processes reads one mail at a time
and holds the next requests in its pipe, so it never waits for the node between two; the
requests are written and the answers read by the event loop (a stream over each pipe), with
no thread and no hand-off. A request queued behind one that runs long is sent to another
process too. The same processes decide the answers (``core.decide``: composing the replies
is the other large cost), from the analysis and the facts the worker read from the store.

The budget is enforced in the processes: a mail beyond its bytes, MIME parts or nesting is
answered without being parsed; a process that overruns ``seconds`` on one mail is killed,
one that runs out of its ``memory`` (a limit the kernel enforces) ends, and either is
replaced; the mail is answered with the limit it passed. A slow, large or hostile mail thus
costs one process for at most ``seconds`` and ``memory``, and never the other processes'
mails.

The processes are managed here rather than by ``concurrent.futures.ProcessPoolExecutor``:
that executor cannot stop one task, and a worker killed under it breaks the whole pool
(``BrokenProcessPool``) with every other mail in flight, which is exactly what the time
budget must not do.

Processes come from a ``forkserver`` (never ``fork``: the node has threads, and a forked
child could inherit a lock another thread held). They receive the office registry and the
reference tables once, at start; the rule catalog is built in each process by a picklable
factory (rules are functions, which do not cross process boundaries). What a process runs
is ``service``; what crosses the pipes, ``wire``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import multiprocessing
import pickle
import signal
import socket
import struct
import weakref
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from config.offices import OfficeRegistry
from config.reference import ReferenceData, shipped_reference
from edi_formats.codec import DeclarationIdentity, WireFormat
from edi_formats.detect import detect_format
from gateway.mail.reading import MAX_HEADER
from gateway.pipeline.core import (
    AnswerFacts,
    AnswerPlan,
    AnswerSettings,
    JobView,
)
from gateway.pipeline.process import (
    AnalysedMail,
    Analysis,
    AnalysisBudget,
    SubmissionHeaders,
    memory_exceeded,
    time_exceeded,
)
from gateway.pipeline.service import MEMORY_LIMITED, serve
from gateway.pipeline.wire import (
    KEPT_PICKLE_BYTES,
    AnswerSetup,
    Decide,
    Failure,
    Held,
    Identify,
    Keep,
    Pickled,
    RulesFactory,
    Setup,
    Submission,
)
from validators.rules import catalog_for

__all__ = ["AnalysisFailed", "AnalysisPool", "Decision", "RulesFactory", "Submission"]

log = logging.getLogger(__name__)


_PRELOAD = ["gateway.pipeline.service", "validators.rules"]
"""What the forkserver imports once, for every process it starts: the service and the rules."""


class AnalysisFailed(Exception):
    """Reading the mail failed in the gateway (a bug, or the process died): the job's own
    failure, counted against its attempts and retried."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What a worker process needs to decide one job's answers (``core.decide``): the rest
    of the ``AnswerSettings`` was sent when the process started."""

    view: JobView
    analysis: Analysis | AnalysedMail
    facts: AnswerFacts
    now: datetime


_KEPT_PICKLES = 256
"""Analyses whose pickles the pool keeps for their decision (the jobs in hand, and more)."""


_DEPTH = 6
"""Requests a process holds at once: the one it reads and the next ones, already in its pipe,
so it never waits for the node between two requests. A request takes a process about a
millisecond, and a busy node's event loop (sharing the GIL with the database threads) comes
back to a process's answers only every few milliseconds: with two in hand, the processes
stood idle half of the time while requests waited in the node."""

_STEAL_AFTER = 0.25
"""Seconds a process may spend on one request before the requests queued behind it are sent
to another process too (a slow mail delays only itself; the first answer is taken)."""

_SMALL_LATELY = 1.0
"""Seconds after a small request was sent during which small ones are taken to be still
coming: one process is then kept from large requests (``AnalysisPool._kept_for_small``)."""

_PICKLE_ON_LOOP = 256 * 1024
"""Requests carrying up to this many bytes are pickled on the event loop, and answers up to
this size unpickled there; larger ones in a thread (a copy proportional to the mail)."""

_LARGE = 64 * 1024
"""Requests carrying more bytes are large (``_Call.large``): reading one may take a process
for a good part of a second (an EDIFACT interchange of 140 KB, 600 series, took 0.2-0.5 s),
where the usual declaration mail of a few kilobytes takes a millisecond."""


def _carried(request: object) -> int | None:
    """The bytes ``request`` carries (its mail, document or analysis); None when not known
    until it is pickled (an analysis not kept as its pickle)."""
    if isinstance(request, Keep):
        request = request.submission
    if isinstance(request, Submission):
        return len(request.raw)
    if isinstance(request, bytes):  # a mail whose headers are asked
        return len(request)
    if isinstance(request, Identify):
        return len(request.body)
    if isinstance(request, Decide):
        if not isinstance(request.analysis, Pickled | Held):
            return None
        return len(request.analysis.data)
    return 0


def _pickled_in_thread(carried: int | None) -> bool:
    """Whether pickling a request carrying ``carried`` bytes copies more than
    ``_PICKLE_ON_LOOP``: then it is pickled off the event loop."""
    return carried is None or carried > _PICKLE_ON_LOOP


def _large(carried: int | None) -> bool:
    """Whether a request carrying ``carried`` bytes is large (``_LARGE``)."""
    return carried is None or carried > _LARGE


@dataclass(eq=False, slots=True)
class _Call:
    """One request as sent (its pickle) and the future its answer is set on."""

    data: bytes
    seconds: float
    future: asyncio.Future[_Answer]
    prefer: _Worker | None = None
    """The process to send it to when it has room (the one holding its analysis)."""
    large: bool = False
    """It carries a large mail or analysis (``_large``): sent to a process holding no other
    such request, and nothing is sent behind it."""
    finishing: bool = False
    """It decides the answers of a mail already read: it goes before the mails still to
    be read (``AnalysisPool.decide``)."""


def _patience(call: _Call, *, stalled: bool) -> float:
    """Seconds from a request's start to its next limit: its overrun, or before that (for a
    request that may run longer) the moment the ones behind it go to another process."""
    if stalled or call.seconds <= _STEAL_AFTER:
        return call.seconds
    return _STEAL_AFTER


class _Worker:
    """One process, the parent's end of its socket pair (an asyncio stream once attached),
    and the requests sent to it, oldest (the one it reads) first."""

    def __init__(self, context: multiprocessing.context.ForkServerContext, setup: Setup) -> None:
        # What ``Pipe()`` makes, with the parent's end kept as a socket for the event loop.
        self.socket, child_socket = socket.socketpair()
        child = Connection(child_socket.detach())
        self.process: BaseProcess = context.Process(
            target=serve, args=(child, setup), name="teledespacho-analysis", daemon=True
        )
        try:
            self.process.start()
        except BaseException:
            self.socket.close()
            raise
        finally:
            child.close()
        self.killed = False
        self.ended = False
        """Its end of the pipe closed: it is exiting (found out how, then killed)."""
        self.calls: deque[_Call] = deque()
        self.writer: asyncio.StreamWriter | None = None
        self.reading: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        """Armed while it reads: at the latest when its current request's next limit is due
        (it may fire earlier, for a request read before; it is armed again then)."""
        self.started = 0.0
        """When it started its current request (the event loop's clock)."""
        self.stalled = False
        """Its current request has run past ``_STEAL_AFTER``: nothing more is queued here."""

    def free(self) -> bool:
        """Whether a request sent now would be read at once or right after the current one."""
        return (
            not self.killed
            and not self.ended
            and self.writer is not None
            and len(self.calls) < _DEPTH
            and not (self.calls and self.stalled)
            and not self.holds_large()
        )

    def holds_large(self) -> bool:
        """Whether a large mail or analysis is among its requests (``_Call.large``): the
        last one, as nothing is sent behind such a request (``free``)."""
        return bool(self.calls) and self.calls[-1].large

    def waited_for(self) -> bool:
        """Whether a request preferring this process waits for its room: it is alive and
        not stuck on a slow request or busy with a large one (then it goes to another process
        at once)."""
        return not self.killed and not self.ended and not self.stalled and not self.holds_large()

    def send(self, call: _Call) -> None:
        assert self.writer is not None
        self.calls.append(call)
        # multiprocessing's framing, which the process's ``Connection.recv`` reads.
        header = struct.pack("!i", len(call.data))
        if len(call.data) > 16384:
            self.writer.write(header)
            self.writer.write(call.data)
        else:
            self.writer.write(header + call.data)

    def stop_timers(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def kill(self) -> None:
        """Kill the process now (a signal: does not block); ``reap`` it later."""
        self.killed = True
        self.stop_timers()
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
        self.close_pipe()

    def close_pipe(self) -> None:
        """Close the parent's end: a process waiting for its next request then exits."""
        if self.writer is not None:
            self.writer.transport.abort()
        else:
            self.socket.close()

    def reap(self) -> None:
        self.process.join(5)

    def exit_code(self) -> int | None:
        """How the process ended (``-signal`` when by a signal); None if it still runs a
        second after closing its pipe. Blocks: run in a thread."""
        self.process.join(1)
        return self.process.exitcode


_Answer = tuple[object, bytes, _Worker] | Failure | None
"""A process's answer, the pickle it came as and the process; a failure; None: it overran
its time."""


async def _answers(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The pickles a process sends, in multiprocessing's framing, until its end of the pipe
    closes."""
    try:
        while True:
            (size,) = struct.unpack("!i", await reader.readexactly(4))
            if size == -1:
                (size,) = struct.unpack("!Q", await reader.readexactly(8))
            yield await reader.readexactly(size)
    except (asyncio.IncompleteReadError, OSError):
        return


def _stop_all(workers: list[_Worker]) -> None:
    """Reap every process, its pipe closed (a process waiting for its next request then
    exits); a process still reading a mail is killed."""
    for worker in workers:
        if not worker.killed:  # from any thread: the loop's transport may still hold it
            with contextlib.suppress(OSError):
                worker.socket.shutdown(socket.SHUT_RDWR)
    for worker in workers:
        worker.process.join(2)
        if worker.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()
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
        self._setup = Setup(
            offices=offices,
            reference=None if reference is shipped_reference() else reference,
            rules=rules,
            budget=self.budget,
            answering=None
            if answers is None
            else AnswerSetup(answers.domain, answers.channel_seed, answers.filing),
        )
        self._context = multiprocessing.get_context("forkserver")
        self._workers: list[_Worker] = []
        self._started = False
        self._starting = asyncio.Lock()  # requests arriving during the start wait for it
        self._waiting: deque[_Call] = deque()
        """Requests no process can take yet, oldest first."""
        self._replacing: asyncio.Task[None] | None = None
        self._replace_failed = False
        """Starting a process failed: not tried again before the next request."""
        self._pickles: OrderedDict[int, tuple[Analysis, bytes]] = OrderedDict()
        """Analyses read here (by ``id``: the object is held, so its id is not reused) and
        the pickles they came as, until their decision is sent."""
        self._keys = itertools.count(1)
        self._holders: OrderedDict[int, _Worker] = OrderedDict()
        """The process holding each analysis read as an ``AnalysedMail`` (by its ``kept``
        key), until its decision is sent there."""
        self._small_sent = -math.inf
        """When a small request was last sent (the event loop's clock)."""
        self._recheck: asyncio.TimerHandle | None = None
        """Armed while large requests wait only for small ones to stop coming."""
        self.replaced = 0
        """Processes killed (overrun, found dead) and replaced on their next use."""
        # Processes are not left behind by a pool dropped without close() (tests, errors).
        self._finalizer = weakref.finalize(self, _stop_all, self._workers)

    async def start(self) -> None:
        """Start the processes now rather than for the first mail (a second, the first time:
        the fork server imports the readers)."""
        async with self._starting:
            if self._started:
                return
            self._context.set_forkserver_preload(_PRELOAD)
            started = await asyncio.to_thread(self._start_all)
            for worker in started:
                await self._attach(worker)
            self._started = True  # only now: a start that failed (no descriptors) is tried again

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

    async def _attach(self, worker: _Worker) -> None:
        """Read the process's answers on the event loop: no thread, no hand-off."""
        reader, worker.writer = await asyncio.open_connection(sock=worker.socket)
        worker.reading = asyncio.get_running_loop().create_task(
            self._read_answers(worker, reader), name="analysis-answers"
        )

    async def _read_answers(self, worker: _Worker, reader: asyncio.StreamReader) -> None:
        async for data in _answers(reader):
            if worker.killed or not worker.calls:
                return
            call = worker.calls.popleft()
            self._next_in(worker)
            self._dispatch()  # the process has room again: keep it fed first
            if call.future.done() and len(data) > _PICKLE_ON_LOOP:
                continue  # abandoned, or answered elsewhere (a memory failure is a few bytes)
            answer: object
            try:
                if len(data) <= _PICKLE_ON_LOOP:
                    answer = pickle.loads(data)  # noqa: S301 - our own process's answer
                else:
                    # Not in the lane (``gateway.lane``): this reader waits for it, and
                    # the answers of mail would wait behind IMAP clients' work there.
                    answer = await asyncio.to_thread(pickle.loads, data)
            except Exception as exc:
                answer = Failure(f"the analysis answer could not be read ({exc!r})")
            if isinstance(answer, Failure) and answer.beyond_memory:
                self._retire(worker)
            if not call.future.done():
                call.future.set_result(
                    answer if isinstance(answer, Failure) else (answer, data, worker)
                )
            if worker.killed:
                return
        if worker.killed:
            return
        # The process died: a crash, or killed from outside; or out of memory in native code
        # (a Rust extension aborts when an allocation fails, where Python raises).
        worker.ended = True  # nothing more is sent to it meanwhile
        exit_code = await asyncio.to_thread(worker.exit_code)
        if worker.killed:
            return
        self._kill(worker)
        if exit_code == -signal.SIGABRT and MEMORY_LIMITED:
            self._lost(worker, Failure("the analysis process aborted", beyond_memory=True))
        else:
            self._lost(worker, Failure(f"the analysis process died (exit code {exit_code})"))

    def _next_in(self, worker: _Worker) -> None:
        """The process starts its next request: its time and its queue's patience start.

        Its timer stays armed from one request to the next (most take a millisecond: arming
        and cancelling one per request cost the node more than the rest of the bookkeeping);
        it is armed anew only when the new request's limit is due before it fires.
        """
        worker.stalled = False
        if not worker.calls:
            return
        loop = asyncio.get_running_loop()
        worker.started = loop.time()
        due = worker.started + _patience(worker.calls[0], stalled=False)
        if worker.timer is None or worker.timer.when() > due:
            worker.stop_timers()
            worker.timer = loop.call_at(due, self._check, worker)

    def _check(self, worker: _Worker) -> None:
        """The process's timer: its current request overran ``seconds`` (killed), or ran past
        ``_STEAL_AFTER`` (what waits behind it goes to another process too), or neither yet
        (the timer was armed for a request read before: armed again for this one)."""
        worker.timer = None
        if worker.killed or not worker.calls:
            return
        call = worker.calls[0]
        loop = asyncio.get_running_loop()
        if loop.time() >= worker.started + call.seconds:
            worker.calls.popleft()
            if not call.future.done():
                call.future.set_result(None)
            self._retire(worker)  # the mails behind it are not at fault: read by another
            return
        stalls = not worker.stalled and loop.time() >= worker.started + _STEAL_AFTER
        worker.stalled = worker.stalled or stalls
        due = worker.started + _patience(call, stalled=worker.stalled)
        worker.timer = loop.call_at(due, self._check, worker)
        if stalls:
            behind = [queued for queued in list(worker.calls)[1:] if not queued.future.done()]
            self._waiting.extendleft(reversed(behind))
            self._dispatch()

    def _retire(self, worker: _Worker) -> None:
        """Kill the process, its current request answered (it overran its time, or ran out
        of memory and ends): it is replaced, and the requests behind it go to another."""
        behind = [call for call in worker.calls if not call.future.done()]
        worker.calls.clear()
        self._kill(worker)
        self._waiting.extendleft(reversed(behind))
        self._dispatch()

    def _lost(self, worker: _Worker, failure: Failure) -> None:
        """A killed process's requests: the one it was reading failed with ``failure``
        (unless already answered), the ones behind it are sent again."""
        calls = list(worker.calls)
        worker.calls.clear()
        if calls and not calls[0].future.done():
            calls[0].future.set_result(failure)
        self._waiting.extendleft(reversed([c for c in calls[1:] if not c.future.done()]))
        self._dispatch()

    def _dispatch(self) -> None:
        """Send waiting requests to processes with room, the least busy first.

        A request preferring a process (a decision, to the one holding its analysis) waits
        for room there while that process is alive and not stuck on a slow request: another
        process would have to unpickle the analysis and validate its declarations again (with
        two processes, a tenth more of their CPU per declaration); the requests behind it go
        on.

        A large request (``_Call.large``: a mail or an analysis of more than 64 KiB, which
        may take from a fifth of a second to seconds to read) goes to a process holding no
        other, and nothing is queued behind it. While small requests wait, large ones take
        at most all processes but one, the small ones passing them: ten DUAs of 2.6 MB from
        one agent filled both processes' pipes, each stalled pipe was read twice (by its
        process and the other), and another agent's declaration, sent after them, waited
        21 s; forty EDIFACT DUAs of 140 KB (then below the size of a large request) held
        another agent's for 10 s.
        """
        later: list[_Call] = []
        while self._waiting:
            call = self._waiting.popleft()
            if call.future.done():
                continue
            free = [worker for worker in self._workers if worker.free()]
            if not free:
                self._waiting.appendleft(call)
                break
            if call.large and self._kept_for_small():
                later.append(call)
                continue
            holder = call.prefer
            if holder is not None and holder not in free and holder.waited_for():
                later.append(call)  # its analysis is there: room comes within a request
                continue
            worker = call.prefer if call.prefer in free else min(free, key=lambda w: len(w.calls))
            worker.send(call)
            if not call.large:
                self._small_sent = asyncio.get_running_loop().time()
            if len(worker.calls) == 1:
                self._next_in(worker)
        self._waiting.extendleft(reversed(later))
        if any(call.large for call in later):
            self._recheck_when_small_ones_stop()
        if self._waiting and self._replacing is None and not self._replace_failed:
            dead = next((worker for worker in self._workers if worker.killed), None)
            if dead is not None:
                self._replacing = asyncio.get_running_loop().create_task(self._replace(dead))

    def _kept_for_small(self) -> bool:
        """Whether a large request waits, keeping a process for small ones: all processes
        but one hold a large request already (one, in a pool of one), and a small one waits
        or one was sent within ``_SMALL_LATELY``. Small requests come in runs: a mail just
        read is decided a few milliseconds later, by the process that read it. Given a large
        mail meanwhile, with the other process on one too, that decision waited for one of
        them to end (a 2.6 MB DUA takes a second to read, 20 MB ten)."""
        live = [worker for worker in self._workers if not worker.killed]
        reading_large = sum(worker.holds_large() for worker in live)
        if reading_large < max(1, len(live) - 1):
            return False
        if any(not call.large and not call.future.done() for call in self._waiting):
            return True
        return asyncio.get_running_loop().time() - self._small_sent < _SMALL_LATELY

    def _recheck_when_small_ones_stop(self) -> None:
        """Dispatch again once no small request has come for ``_SMALL_LATELY``: large ones
        held back then take every process, though nothing else happens meanwhile. (Held
        back for a small one that waits, the timer is armed once that one is sent.)"""
        at = self._small_sent + _SMALL_LATELY
        loop = asyncio.get_running_loop()
        if at <= loop.time() or (self._recheck is not None and self._recheck.when() == at):
            return
        if self._recheck is not None:
            self._recheck.cancel()
        self._recheck = loop.call_at(at, self._rechecked)

    def _rechecked(self) -> None:
        self._recheck = None
        self._dispatch()

    async def _replace(self, dead: _Worker) -> None:
        """A fresh process in the place of a killed one."""
        try:
            fresh = await asyncio.to_thread(self._start_in_place_of, dead)
            await self._attach(fresh)
        except Exception as exc:
            # Starting one failed (out of descriptors, say): the dead one keeps its place,
            # so the next request tries again and the pool never shrinks. Requests no live
            # process can take fail with the reason.
            self._replace_failed = True
            if not any(not worker.killed for worker in self._workers):
                waiting, self._waiting = self._waiting, deque()
                for call in waiting:
                    if not call.future.done():
                        call.future.set_exception(exc)
        finally:
            self._replacing = None
        self._dispatch()

    def _start_in_place_of(self, worker: _Worker) -> _Worker:
        worker.reap()  # first: its pipe's descriptors are free again for the fresh one
        fresh = _Worker(self._context, self._setup)
        if worker in self._workers:
            self._workers[self._workers.index(worker)] = fresh
        else:
            self._workers.append(fresh)
        return fresh

    async def _ask(
        self, request: object, *, seconds: float, prefer: _Worker | None = None
    ) -> object | None:
        """The answer of a process to ``request``; None when it overran ``seconds``."""
        answer = await self._request(request, seconds=seconds, prefer=prefer)
        return answer if answer is None or isinstance(answer, Failure) else answer[0]

    async def _request(
        self, request: object, *, seconds: float, prefer: _Worker | None = None
    ) -> _Answer:
        """``_ask``, with the pickle the answer came as and the process that sent it.

        The request is written to a process's pipe on the event loop (it never blocks: the
        loop's transport buffers it) and its answer read there too, so a request costs no
        thread and no hand-off; a process holds the next requests while it reads one.
        A request whose caller is cancelled is abandoned: its answer, when it comes, is
        dropped (the process goes on with the next one).
        """
        await self.start()
        self._replace_failed = False
        carried = _carried(request)
        if _pickled_in_thread(carried):
            # Not in the lane, as its answer's pickle is not: the answer path waits on it.
            data = await asyncio.to_thread(pickle.dumps, request, pickle.HIGHEST_PROTOCOL)
        else:
            data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        future = asyncio.get_running_loop().create_future()
        finishing = isinstance(request, Decide)
        call = _Call(data, seconds, future, prefer, _large(carried), finishing)
        if finishing:
            # Before the mails not read yet, after the decisions already waiting: a mail
            # read is answered without waiting for every mail claimed after it.
            ahead = itertools.takewhile(lambda queued: queued.finishing, self._waiting)
            self._waiting.insert(sum(1 for _ in ahead), call)
        else:
            self._waiting.append(call)
        self._dispatch()
        return await call.future

    def _kill(self, worker: _Worker) -> None:
        worker.kill()
        self.replaced += 1

    async def analyse(self, submission: Submission) -> Analysis:
        """Read one mail in a worker process, within the budget.

        Raises AnalysisFailed when reading failed in the gateway (not in a document: those
        failures are answered per document).
        """
        exchanged = await self._request(submission, seconds=self.budget.seconds)
        beyond = await self._beyond_budget(exchanged, submission.raw)
        if beyond is not None:
            return beyond
        assert exchanged is not None
        if isinstance(exchanged, Failure):
            raise AnalysisFailed(exchanged.error)
        answer, data, _ = exchanged
        if isinstance(answer, Failure):
            raise AnalysisFailed(answer.error)
        assert isinstance(answer, Analysis)
        if len(data) <= KEPT_PICKLE_BYTES:
            self._pickles[id(answer)] = (answer, data)
            if len(self._pickles) > _KEPT_PICKLES:
                self._pickles.popitem(last=False)
        return answer

    async def read(self, submission: Submission) -> AnalysedMail:
        """``analyse``, answered as an ``AnalysedMail`` (``submission.view`` given): the
        analysis stays a pickle in this process.

        Raises AnalysisFailed as ``analyse`` does.
        """
        if submission.view is None:
            raise ValueError("reading a mail as an AnalysedMail needs its job's view")
        request = Keep(submission, next(self._keys))
        exchanged = await self._request(request, seconds=self.budget.seconds)
        beyond = await self._beyond_budget(exchanged, submission.raw)
        if beyond is not None:
            return AnalysedMail.of(beyond)  # nothing to look up
        assert exchanged is not None
        if isinstance(exchanged, Failure):
            raise AnalysisFailed(exchanged.error)
        answer, _, worker = exchanged
        if isinstance(answer, Failure):
            raise AnalysisFailed(answer.error)
        assert isinstance(answer, AnalysedMail)
        if answer.kept is not None:
            self._holders[answer.kept] = worker
            if len(self._holders) > _KEPT_PICKLES:
                self._holders.popitem(last=False)
        return answer

    async def decide(self, decision: Decision) -> AnswerPlan:
        """``core.decide`` in a worker process (composing the replies is CPU too).

        Raises AnalysisFailed when it failed or overran the budget's seconds: the job's own
        failure, like a mail that could not be read.
        """
        analysis: Analysis | Pickled | Held
        holder = None
        if isinstance(decision.analysis, AnalysedMail):
            mail = decision.analysis
            analysis = Pickled(mail.pickled)
            if mail.kept is not None:
                holder = self._holders.pop(mail.kept, None)
                analysis = Held(mail.kept, mail.pickled)
        else:
            kept = self._pickles.pop(id(decision.analysis), None)
            analysis = decision.analysis
            if kept is not None and kept[0] is decision.analysis:
                analysis = Pickled(kept[1])
        request = Decide(decision.view, analysis, decision.facts, decision.now)
        answer = await self._ask(request, seconds=self.budget.seconds, prefer=holder)
        if answer is None:
            raise AnalysisFailed(f"deciding the answers overran {self.budget.seconds:g}s")
        if isinstance(answer, Failure):
            raise AnalysisFailed(answer.error)
        assert isinstance(answer, AnswerPlan)
        return answer

    async def _beyond_budget(self, exchanged: _Answer, raw: bytes) -> Analysis | None:
        """The answer to a mail whose reading passed the budget's time or memory (its process
        was killed, or ended), naming the limit; None when it did not."""
        # Its headers for the answer's threading, from the bytes they are read in (the whole
        # mail may be more than a process can take).
        head = raw[:MAX_HEADER]
        if exchanged is None:
            log.warning("a mail overran the analysis time of %gs", self.budget.seconds)
            return time_exceeded(await self.headers(head), self.budget)
        failure = exchanged if isinstance(exchanged, Failure) else exchanged[0]
        if isinstance(failure, Failure) and failure.beyond_memory:
            megabytes = self.budget.memory / (1024 * 1024)
            log.warning("a mail overran the analysis memory of %g MiB", megabytes)
            return memory_exceeded(await self.headers(head), self.budget)
        return None

    async def headers(self, raw: bytes) -> SubmissionHeaders:
        """The submission's threading headers, read in a worker process (empty if they
        cannot be read in time)."""
        answer = await self._ask(raw, seconds=self.budget.seconds)
        return answer if isinstance(answer, SubmissionHeaders) else SubmissionHeaders()

    async def identify(self, body: bytes) -> tuple[WireFormat | None, DeclarationIdentity]:
        """``edi_formats.codec.identify`` in a worker process, for a document of any size:
        json's parser holds the GIL for a whole document, so in a thread of the node a 20 MB
        one stopped every session for seconds and held hundreds of MB. A document that
        cannot be read in time keeps its format and no identity."""
        answer = await self._ask(Identify(body), seconds=self.budget.seconds)
        if isinstance(answer, tuple):
            return answer
        return detect_format(body), DeclarationIdentity()

    async def close(self) -> None:
        """Stop the processes (a request in hand is abandoned)."""
        self._started = False
        if self._recheck is not None:
            self._recheck.cancel()
            self._recheck = None
        for worker in self._workers:
            worker.stop_timers()
            if not worker.killed:
                worker.close_pipe()
            if worker.reading is not None:
                worker.reading.cancel()
        calls = [*self._waiting, *(call for w in self._workers for call in w.calls)]
        self._waiting.clear()
        for call in calls:
            if not call.future.done():
                call.future.set_result(Failure("the analysis pool was closed"))
        if self._replacing is not None:
            self._replacing.cancel()
            with contextlib.suppress(BaseException):
                await self._replacing
        await asyncio.to_thread(_stop_all, self._workers)
