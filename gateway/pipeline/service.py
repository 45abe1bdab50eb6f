"""What a process of the analysis pool runs: the requests it answers, within its budget.

The process reads its tables and builds its rules once, at start, and freezes them out of
the collector's full passes; it holds the analyses it read until their decisions come
(``Keep``), so a decision needs no unpickling. Its data is capped at what it holds then plus
the budget's memory: one mail can exhaust its own process's share, never the node's.
The node's side is ``pool``; what crosses the pipe, ``wire``.
"""

from __future__ import annotations

import gc
import pickle
import resource
import signal
import sys
import traceback
from collections import OrderedDict
from dataclasses import replace
from multiprocessing.connection import Connection

from config.reference import shipped_reference
from edi_formats.codec import identify
from gateway.pipeline.core import (
    AnswerSettings,
    JobView,
    decide,
    references_on_file,
    wanted_facts,
)
from gateway.pipeline.process import (
    AnalysedMail,
    Analysis,
    AnalysisBudget,
    analyse,
    read_headers,
)
from gateway.pipeline.wire import (
    KEPT_PICKLE_BYTES,
    Decide,
    Failure,
    Held,
    Identify,
    Keep,
    Setup,
    Submission,
)
from validators.engine import RuleContext

__all__ = ["MEMORY_LIMITED", "serve"]

_HELD_IN_PROCESS = 128
"""Analyses a process holds for their decisions (``Keep``), the oldest dropped first. A
decision takes its analysis out, so a process holds about the jobs in hand (the worker's
batch, 64 by default); each is held only if its pickle is at most ``KEPT_PICKLE_BYTES``."""

MEMORY_LIMITED = sys.platform == "linux"
"""Whether the processes' memory is limited (``_limit_memory``)."""


def _limit_memory(budget: AnalysisBudget) -> None:
    """Cap this process's data at what it holds now plus ``budget.memory``.

    The kernel then refuses the allocation beyond it, which Python raises as
    ``MemoryError``: one mail can exhaust its own process's share, never the machine's
    memory that the node and the other processes live in. Linux only (the data limit counts
    every private writable mapping there since Linux 4.7; elsewhere it is not enforced).
    """
    if not MEMORY_LIMITED:
        return
    with open("/proc/self/status", encoding="ascii") as status:
        held = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmData:"))
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = held + budget.memory
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


class _Service:
    """What a worker process serves the pool with: the tables, the rules, the answer
    settings, and the analyses it read and holds until their decisions come."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.reference = setup.reference or shipped_reference()
        self.registry = setup.rules(self.reference)
        self.settings = None
        if setup.answering is not None:
            self.settings = AnswerSettings(
                offices=setup.offices,
                domain=setup.answering.domain,
                channel_seed=setup.answering.channel_seed,
                reference=self.reference,
                registry=self.registry,
                filing=setup.answering.filing,
            )
        self.held: OrderedDict[int, Analysis] = OrderedDict()
        """Analyses read here, by their ``Keep`` key, until their decision comes."""

    def answer(self, request: object) -> object:
        """The answer to one request of the pool."""
        if isinstance(request, Submission | Keep):
            return self._read(request)
        if isinstance(request, Decide):
            if self.settings is None:
                raise RuntimeError("this pool was started without answer settings")
            analysed = request.analysis
            if isinstance(analysed, Held):
                kept = self.held.pop(analysed.key, None)
                if kept is None:  # read by another process, or by one that died since
                    kept = pickle.loads(analysed.data)  # noqa: S301 - this pool's pickle
                analysed = kept
            assert isinstance(analysed, Analysis)  # Pickled unpickles as one
            return decide(request.view, analysed, request.facts, self.settings, request.now)
        if isinstance(request, Identify):
            return identify(request.body)
        assert isinstance(request, bytes)
        return read_headers(request)

    def _read(self, request: Submission | Keep) -> Analysis | AnalysedMail:
        submission = request if isinstance(request, Submission) else request.submission
        context = RuleContext(
            as_of=submission.as_of,
            offices=self.setup.offices,
            addressed_office=submission.addressed_office,
            sender_agent_code=submission.sender_agent_code,
            reference=self.reference,
        )
        analysis = analyse(submission.raw, context, self.registry, self.setup.budget)
        if submission.view is None:
            return analysis
        listed = _listed(analysis, replace(submission.view, headers=analysis.headers))
        if isinstance(request, Keep) and len(listed.pickled) <= KEPT_PICKLE_BYTES:
            self.held[request.key] = analysis
            if len(self.held) > _HELD_IN_PROCESS:
                self.held.popitem(last=False)
            listed = listed._replace(kept=request.key)
        return listed


def serve(connection: Connection, setup: Setup) -> None:
    """A worker process: read requests until the pool closes the pipe, or until one took
    more memory than the budget allows (then the pool starts another in its place)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the node, which stops us
    service = _Service(setup)
    gc.collect()
    gc.freeze()  # the tables and rules read above stay: the collector's full passes skip them
    _limit_memory(setup.budget)
    while True:
        over_memory = False
        try:
            request = connection.recv()
        except (EOFError, OSError):  # the pool closed the pipe
            return
        except MemoryError:  # a mail too large to receive within the budget
            over_memory = True
        if not over_memory:
            try:
                data = pickle.dumps(service.answer(request), protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                over_memory = True  # answered below, once this handler let go of the traceback
            except Exception as exc:
                failure = Failure(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
                data = pickle.dumps(failure, protocol=pickle.HIGHEST_PROTOCOL)
        if over_memory:
            service.held.clear()
            failure = Failure("MemoryError", beyond_memory=True)
            data = pickle.dumps(failure, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            connection.send_bytes(data)
        except (OSError, ValueError):
            return
        if over_memory:
            return  # a fresh process takes over: nothing of this one's heap is trusted


def _listed(analysis: Analysis, view: JobView) -> AnalysedMail:
    """The analysis as the node needs it, with the facts its answer will ask for."""
    return AnalysedMail.of(
        analysis,
        tuple(references_on_file(view, analysis)),
        tuple(wanted_facts(view, analysis)),
    )
