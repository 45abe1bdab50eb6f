"""Answer a job: read the facts, decide, commit (the worker's entry points).

The three steps are public so a worker can run them apart:

1. **Read** what the decision needs before the writer transaction:
   ``read_answer_facts(source, view, analysis)`` in one unit of work on a reader
   (``mailboxes.answer_facts.read_facts``).
2. **Decide** (``gateway.pipeline.core.decide``): pure, picklable values in and out, so it
   may run in another process. Every reply, office copy and response attachment is composed
   here; an acceptance leaves only its number and channel to fill.
3. **Commit** (``gateway.pipeline.commit.commit``) inside ``JobQueue.answer()``: take the
   number, choose the channel from the month's counts, fill, file, record, mark done. Nothing
   of it is visible before the transaction commits, so a crash leaves the job pending with no
   reply sent and no number taken. It is synchronous: the transaction is one unit of work,
   run in the database's thread on SQLite.

``answer_in_transaction`` commits a plan decided beforehand and, when ``commit`` finds that a
fact moved (``FactsChanged``), reads the facts again through the transaction and decides the
rest again. ``answer_job`` is the one-call form (read, decide and commit in the transaction),
with the signature the worker has always used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from functools import partial

from gateway.pipeline import replies
from gateway.pipeline.commit import FactsChanged, commit
from gateway.pipeline.core import (
    AGENT_FOLDER,
    Answered,
    AnswerFacts,
    AnswerPlan,
    AnswerSettings,
    JobView,
    decide,
    references_on_file,
)
from gateway.pipeline.core import unanswerable as _unanswerable
from gateway.pipeline.dispatch_facts import AnswerFactSource, read_answer_facts
from gateway.pipeline.dispatch_facts import read_facts as known_facts
from gateway.pipeline.process import AnalysedMail, Analysis, SubmissionHeaders
from mailboxes.answer_facts import RecordedAnswer, read_facts
from mailboxes.jobs import Answering, ClaimedJob
from mailboxes.store import Store
from validators.policy.dispatch import WantedFacts

__all__ = [
    "AGENT_FOLDER",
    "AnswerFactSource",
    "AnswerFacts",
    "AnswerPlan",
    "AnswerSettings",
    "Answered",
    "FactsChanged",
    "JobView",
    "answer_in_transaction",
    "answer_job",
    "commit",
    "decide",
    "fail_job",
    "own_references",
    "plan_job",
    "read_answer_facts",
    "read_listed_facts",
    "unanswerable",
]

_log = logging.getLogger(__name__)


def own_references(
    claimed: ClaimedJob, analysis: Analysis | AnalysedMail | Exception | None
) -> list[tuple[str, str]]:
    """The (agent code, reference) pairs whose answers on file the job may need."""
    if isinstance(analysis, AnalysedMail):
        return list(analysis.references)
    if not isinstance(analysis, Analysis):
        return []
    return references_on_file(JobView.of(claimed, analysis.headers), analysis)


def read_listed_facts(
    source: AnswerFactSource,
    references: tuple[tuple[str, str], ...],
    wanted: tuple[WantedFacts, ...],
    *,
    on_file: Mapping[tuple[str, str], RecordedAnswer | None] | None = None,
) -> AnswerFacts:
    """``read_answer_facts`` for a mail whose references and wanted facts were listed where
    it was read (an ``AnalysedMail``): the same questions, without its analysis.

    ``on_file``: the answers on file, already read for these references and others (the
    mails read together ask for theirs in one statement).
    """
    if on_file is None:
        answers = source.recorded_answers(references)
    else:
        answers = {key: on_file[key] for key in references}
    return AnswerFacts(
        answers, {asked: known_facts(source, asked) for asked in dict.fromkeys(wanted)}
    )


def unanswerable(claimed: ClaimedJob, headers: SubmissionHeaders) -> str | None:
    """Why a submission is filed but never answered (``core.unanswerable``), or None."""
    return _unanswerable(JobView.of(claimed, headers))


async def plan_job(
    store: Store,
    claimed: ClaimedJob,
    analysis: Analysis,
    settings: AnswerSettings,
    now: datetime,
) -> AnswerPlan:
    """Steps 1 and 2 before the writer transaction: read the facts in a read session, decide.

    ``decide`` is called here in the caller's process; a worker with a process pool reads
    the facts with ``read_answer_facts`` and sends ``decide`` its (picklable) arguments.
    """
    view = JobView.of(claimed, analysis.headers)
    facts = await read_facts(store, partial(read_answer_facts, view=view, analysis=analysis))
    return decide(view, analysis, facts, settings, now)


def answer_in_transaction(
    answering: Answering,
    claimed: ClaimedJob,
    analysed: Analysis | AnalysedMail,
    settings: AnswerSettings,
    plan: AnswerPlan | None = None,
) -> list[Answered]:
    """Commit ``plan`` (decided before the transaction; None: decide it here).

    When a fact moved since the plan was decided, or the plan stops before a document that
    depends on an earlier one of the mail, the facts are read again through ``answering``
    (which sees this transaction's writes) and the rest is decided again. A lost transaction
    (``FactsChanged.transaction_lost``) is raised for the caller to roll back and redo. An
    ``AnalysedMail``'s analysis is unpickled only then.
    """
    view = JobView.of(claimed, analysed.headers)
    if isinstance(analysed, AnalysedMail):
        outcome_count = analysed.outcome_count
        analysis = None
    else:
        outcome_count = len(analysed.outcomes)
        analysis = analysed
    if plan is None:
        if analysis is None:
            analysis = _unpickled(analysed)
        facts = read_answer_facts(answering, view, analysis)
        plan = decide(view, analysis, facts, settings, answering.now)
    if plan.not_answered is not None:
        _log.info(
            "job %d from %r filed without an answer: %s", claimed.id, view.sender, plan.not_answered
        )
    answered: list[Answered] = []
    for _ in range(outcome_count + 2):
        try:
            return answered + commit(answering, plan)
        except FactsChanged as changed:
            if changed.transaction_lost:
                raise
            _log.info("job %d decided again: %s", claimed.id, changed)
            answered += changed.answered
            start = changed.resume_at
            if analysis is None:
                analysis = _unpickled(analysed)
            facts = read_answer_facts(answering, view, analysis, start=start)
            plan = decide(view, analysis, facts, settings, answering.now, start=start)
    raise RuntimeError(f"job {claimed.id}: its facts kept changing inside one transaction")


def _unpickled(analysed: Analysis | AnalysedMail) -> Analysis:
    return analysed.analysis() if isinstance(analysed, AnalysedMail) else analysed


def answer_job(
    answering: Answering, claimed: ClaimedJob, analysis: Analysis, settings: AnswerSettings
) -> list[Answered]:
    """File one reply per outcome, number the accepted declarations, mark the job done."""
    return answer_in_transaction(answering, claimed, analysis, settings)


def fail_job(
    answering: Answering,
    claimed: ClaimedJob,
    settings: AnswerSettings,
    headers: SubmissionHeaders,
    error: str,
) -> list[Answered]:
    """Give up on a job: tell the agent the gateway could not process it, mark it failed."""
    view = JobView.of(claimed, headers)
    if _unanswerable(view) is None:
        office = settings.offices.get(view.office_code)
        envelope = replies.ReplyEnvelope(
            office_address=view.recipient,
            agent_address=view.sender,
            office_code=view.office_code,
            office_name=office.name if office is not None else None,
            domain=settings.domain,
            date=answering.now,
            received_at=view.received_at,
            submission=headers,
        )
        reply = replies.failure(envelope, claimed.job.attempts - 1)
        answering.deliver(claimed.job.sender, AGENT_FOLDER, reply)
    answering.mark_failed(claimed.id, error)
    return [Answered("failed")]
