"""What crosses the analysis pool's pipes: the requests, the process's setup, its failures.

A request is pickled for every mail, so it is pickled flat (its fields without their
names, through ``__reduce__``) and its frozen dataclass is not slotted: Python 3.11 pickles
a slotted dataclass through a Python-level ``__getstate__``/``__setstate__``, several times
slower (``gateway.mail.template``). The setup, sent once to each process, need not be. The
node's side is ``pool``; the process's, ``service``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from config.offices import OfficeRegistry
from config.reference import ReferenceData
from gateway.imap.filing import OfficeFiling
from gateway.pipeline.core import AnswerFacts, JobView, flat_instant, instant
from gateway.pipeline.process import Analysis, AnalysisBudget
from validators.registry import RuleRegistry

__all__ = [
    "KEPT_PICKLE_BYTES",
    "AnswerSetup",
    "Decide",
    "Failure",
    "Held",
    "Identify",
    "Keep",
    "Pickled",
    "RulesFactory",
    "Setup",
    "Submission",
]

RulesFactory = Callable[[ReferenceData], RuleRegistry]
"""Builds the rule catalog from the reference tables; a module-level function (it is sent
to the worker processes by name)."""


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class Submission:
    """What a worker process needs to read one mail: its bytes and the rule context's
    per-mail values (the rest was sent when the process started)."""

    raw: bytes
    as_of: date
    addressed_office: str
    sender_agent_code: str | None
    view: JobView | None = None
    """The job (its headers still unread): with it, the process answers an ``AnalysedMail``
    listing what the answer's facts are (``AnalysisPool.read``)."""

    def __reduce__(self) -> tuple[Callable[..., Submission], tuple[object, ...]]:
        """Pickled flat (see ``JobView.__reduce__``): sent for every mail."""
        as_of: date | int = self.as_of
        if type(as_of) is date:
            as_of = as_of.toordinal()
        return _submission, (
            self.raw,
            as_of,
            self.addressed_office,
            self.sender_agent_code,
            self.view,
        )


def _submission(
    raw: bytes,
    as_of: date | int,
    addressed_office: str,
    sender_agent_code: str | None,
    view: JobView | None,
) -> Submission:
    if isinstance(as_of, int):
        as_of = date.fromordinal(as_of)
    return Submission(raw, as_of, addressed_office, sender_agent_code, view)


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class Decide:
    """A ``Decision`` as sent: the analysis as the bytes it came back as, when the pool still
    has them (pickling it again cost the node's process more than the rest of the request)."""

    view: JobView
    analysis: Analysis | Pickled | Held
    facts: AnswerFacts
    now: datetime

    def __reduce__(self) -> tuple[Callable[..., Decide], tuple[object, ...]]:
        """Pickled flat (see ``JobView.__reduce__``): sent for every job."""
        analysis: object = self.analysis
        if isinstance(analysis, Held):
            analysis = (analysis.key, analysis.data)
        return _decide, (self.view, analysis, self.facts, flat_instant(self.now))


def _decide(
    view: JobView,
    analysis: Analysis | tuple[int, bytes],
    facts: AnswerFacts,
    now: datetime | tuple[int, int, int, int, int, int, int, int],
) -> Decide:
    held = Held(*analysis) if isinstance(analysis, tuple) else analysis
    return Decide(view, held, facts, instant(now))


@dataclass(frozen=True)  # not slotted: crosses the pipe
class Keep:
    """A ``Submission`` (its view given) whose analysis the process keeps under ``key`` for
    the decision, which then needs no unpickling (``Held``)."""

    submission: Submission
    key: int

    def __reduce__(self) -> tuple[Callable[..., Keep], tuple[object, ...]]:
        """Its fields without their names (cheaper for the node to pickle than its state)."""
        return Keep, (self.submission, self.key)


@dataclass(frozen=True)  # not slotted: crosses the pipe
class Held:
    """An analysis a process may still hold under ``key`` (``Keep``), and its pickle for a
    process that does not: another one took the request, or the one that read it died."""

    key: int
    data: bytes


class Pickled:
    """A value as the pickle it came through the pipe as; sent on as those bytes, and
    unpickled as the value on the other side."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self) -> tuple[Callable[[bytes], object], tuple[bytes]]:
        return pickle.loads, (self.data,)


KEPT_PICKLE_BYTES = 64 * 1024
"""A larger analysis is pickled again for its decision rather than kept, and not held by
the process that read it (rare, and bounds what the kept pickles hold: at most 16 MB)."""


@dataclass(frozen=True, slots=True)
class AnswerSetup:
    """The ``AnswerSettings`` a process cannot build itself (offices, reference tables and
    catalog it already has)."""

    domain: str
    channel_seed: bytes
    filing: OfficeFiling


@dataclass(frozen=True, slots=True)
class Setup:
    offices: OfficeRegistry
    reference: ReferenceData | None  # None: the shipped tables, loaded in the process
    rules: RulesFactory
    budget: AnalysisBudget
    answering: AnswerSetup | None


@dataclass(frozen=True)  # not slotted: crosses the pipe
class Identify:
    """A document whose format and identity are asked (``edi_formats.codec.identify``)."""

    body: bytes


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class Failure:
    error: str
    beyond_memory: bool = False
    """The request took more memory than the budget gives (the process then ends)."""
