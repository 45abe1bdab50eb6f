"""Answer one job inside the answering transaction: duplicates, numbers, channels, mails.

Runs between ``JobQueue.answering()`` and its commit, so every reply, office copy, number and
record it writes becomes visible together with the job marked done, or not at all.

Duplicates (rule DUP). Before numbering, the answer on file for (agent code, agent reference)
is looked up. An *accepted* reference is final: the same reply (same content, so the same
number and channel) is filed in the agent's INBOX again, whatever the new submission says,
and no second number is taken. A *rejected* reference is not final: a rejection consumes no
number, so a broker who corrects the declaration resends it with the same reference, and it
is validated anew. Only the authenticated sender's own references are looked up (the
declaration's agent code must be the sender's), so no agent can fetch another's answer.

Store-backed rules. A DUA of an importer without RUC, a declaration with control documents
and an urgent or anticipado-04 DUA are validated again here with the store's facts (ID-NORUC,
CTRL-SINGLE-USE, URG-REGULARIZE, MOD-04-OVERDUE: ``gateway.pipeline.dispatch_facts``) and,
once numbered, recorded; the control channel is chosen and counted in the office's month
(CH-ASSIGN, ``gateway.pipeline.quota``). Both happen in this transaction, so they see the
declarations answered before them, in this batch too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from config.offices import OfficeRegistry
from config.reference import ReferenceData, shipped_reference
from gateway.imap.filing import OfficeFiling
from gateway.pipeline import replies
from gateway.pipeline.dispatch_facts import read_facts, record_left_behind
from gateway.pipeline.numbering import take_number
from gateway.pipeline.process import (
    Analysis,
    NothingReadable,
    ReadDeclaration,
    SubmissionHeaders,
    UnreadableDeclaration,
)
from gateway.pipeline.quota import assign_channel
from mailboxes.jobs import Answering, ClaimedJob
from mailboxes.schema import DeclarationStatus, Role
from validators.engine import RuleContext, transmission_date, validate
from validators.policy.dispatch import left_behind, needs_facts, wanted
from validators.registry import RuleRegistry
from validators.rules.pipeline import document_fingerprint, reference_taken

__all__ = [
    "AGENT_FOLDER",
    "AnswerSettings",
    "Answered",
    "answer_job",
    "fail_job",
    "own_references",
    "unanswerable",
]

AGENT_FOLDER = "INBOX"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """What answering needs besides the job: the reference tables and the catalog (``None``:
    the shipped one) validate again with the store's facts."""

    offices: OfficeRegistry
    domain: str
    channel_seed: bytes
    reference: ReferenceData = field(default_factory=shipped_reference)
    registry: RuleRegistry | None = None
    filing: OfficeFiling = field(default_factory=OfficeFiling)
    """Which office folder an accepted declaration is filed in (INBOX unless configured)."""


def _envelope(
    answering: Answering, claimed: ClaimedJob, settings: AnswerSettings, headers: SubmissionHeaders
) -> replies.ReplyEnvelope:
    job = claimed.job
    office = settings.offices.get(job.office_code)
    return replies.ReplyEnvelope(
        office_address=job.recipient,
        agent_address=job.sender,
        office_code=job.office_code,
        office_name=office.name if office is not None else None,
        domain=settings.domain,
        date=answering.now,
        received_at=job.received_at,
        submission=headers,
    )


def _context(claimed: ClaimedJob, settings: AnswerSettings) -> RuleContext:
    """The rule context of the job's analysis, for validating again with the store's facts."""
    return RuleContext(
        as_of=transmission_date(claimed.job.received_at),
        offices=settings.offices,
        addressed_office=claimed.job.office_code,
        sender_agent_code=claimed.sender_agent_code,
        reference=settings.reference,
    )


def own_references(
    claimed: ClaimedJob, analysis: Analysis | Exception | None
) -> list[tuple[str, str]]:
    """The (agent code, reference) pairs whose answers on file the job may need."""
    if not isinstance(analysis, Analysis) or claimed.sender_agent_code is None:
        return []
    return [
        (outcome.declaration.agent_code, outcome.declaration.agent_reference)
        for outcome in analysis.outcomes
        if isinstance(outcome, ReadDeclaration)
        and outcome.declaration.agent_code == claimed.sender_agent_code
    ]


@dataclass(frozen=True, slots=True)
class Answered:
    """What one document of a job was answered, for the operator's log."""

    verdict: str
    """``accepted``, ``rejected``, ``repeated`` (an accepted reference's answer again),
    ``unreadable``, ``no-declaration``, ``not-answered``, ``failed`` or ``forwarded``."""
    reference: str | None = None
    number: str | None = None
    channel: str | None = None


def unanswerable(claimed: ClaimedJob, headers: SubmissionHeaders) -> str | None:
    """Why a submission is filed but never answered, or None when it is answered.

    RFC 3834 §2: no automatic answer to mail a program sent (auto-replies, this node's own
    answers, lists) or to a null sender, lest two responders loop. Mail from an office or
    department account is a clerk's, not a declaration (a Reply to an office copy, say).
    """
    if not claimed.job.sender:
        return "null sender"
    if headers.automatic:
        return "sent automatically (RFC 3834)"
    if claimed.sender_role in (Role.OFFICE, Role.DEPARTMENT):
        return f"sent by a customs {claimed.sender_role} account"
    return None


async def answer_job(
    answering: Answering, claimed: ClaimedJob, analysis: Analysis, settings: AnswerSettings
) -> list[Answered]:
    """File one reply per outcome, number the accepted declarations, mark the job done."""
    reason = unanswerable(claimed, analysis.headers)
    if reason is not None:
        _log.info(
            "job %d from %r filed without an answer: %s", claimed.id, claimed.job.sender, reason
        )
        await answering.mark_done(claimed.id)
        return [Answered("not-answered")]
    envelope = _envelope(answering, claimed, settings, analysis.headers)
    agent = claimed.job.sender
    answered: list[Answered] = []
    for outcome in analysis.outcomes:
        if isinstance(outcome, ReadDeclaration):
            answered.append(
                await _answer_declaration(answering, claimed, outcome, envelope, settings)
            )
        elif isinstance(outcome, UnreadableDeclaration):
            await answering.deliver(agent, AGENT_FOLDER, replies.unreadable(envelope, outcome))
            answered.append(Answered("unreadable", outcome.identity.agent_reference))
        elif isinstance(outcome, NothingReadable):
            reply = replies.nothing_readable(envelope, outcome.notes)
            await answering.deliver(agent, AGENT_FOLDER, reply)
            answered.append(Answered("no-declaration"))
    await answering.mark_done(claimed.id)
    return answered


async def _answer_declaration(
    answering: Answering,
    claimed: ClaimedJob,
    outcome: ReadDeclaration,
    envelope: replies.ReplyEnvelope,
    settings: AnswerSettings,
) -> Answered:
    job = claimed.job
    declaration = outcome.declaration
    reference = declaration.agent_reference
    fingerprint = document_fingerprint(declaration)
    own = (
        claimed.sender_agent_code is not None
        and declaration.agent_code == claimed.sender_agent_code
    )
    if own:
        on_file = await answering.recorded_answer(
            declaration.agent_code, declaration.agent_reference
        )
        if on_file is not None and on_file.status is DeclarationStatus.ACCEPTED:
            if on_file.document_digest in (None, fingerprint):  # the same declaration again
                await answering.redeliver(job.sender, AGENT_FOLDER, on_file.reply_content_id)
                return Answered("repeated", reference, on_file.number, on_file.channel)
            assert on_file.number is not None
            accepted_on = transmission_date(on_file.received_at) if on_file.received_at else None
            taken = reference_taken(declaration, number=on_file.number, accepted_on=accepted_on)
            conflict = replace(outcome, findings=(taken,))
            await answering.deliver(job.sender, AGENT_FOLDER, replies.rejection(envelope, conflict))
            return Answered("rejected", reference)
    if own and outcome.accepted and needs_facts(declaration):
        context = _context(claimed, settings)
        facts = await read_facts(answering, wanted(declaration, context.as_of))
        findings = validate(declaration, replace(context, facts=facts), settings.registry)
        outcome = ReadDeclaration(outcome.document, declaration, tuple(findings))
    if not outcome.accepted:
        reply_id = await answering.deliver(
            job.sender, AGENT_FOLDER, replies.rejection(envelope, outcome)
        )
        if own:
            await answering.record_answer(
                job=job,
                agent_code=declaration.agent_code,
                agent_reference=declaration.agent_reference,
                document_type=declaration.document_type,
                regime=declaration.regime,
                office_code=job.office_code,
                status=DeclarationStatus.REJECTED,
                reply_content_id=reply_id,
                document_digest=fingerprint,
            )
        return Answered("rejected", reference)
    if not own:  # TD-SENDER makes this impossible; never number someone else's declaration
        raise RuntimeError(f"job {job.id}: accepted a declaration the sender does not own")
    number = str(
        await take_number(
            answering,
            office=job.office_code,
            received_at=job.received_at,
            regime=declaration.regime,
        )
    )
    decision = await assign_channel(
        answering,
        declaration,
        office=job.office_code,
        received_at=job.received_at,
        number=number,
        seed=settings.channel_seed,
        reference=settings.reference,
    )
    await record_left_behind(
        answering,
        left_behind(declaration, job.received_at),
        number=number,
        office=job.office_code,
        received_at=job.received_at,
    )
    reply = replies.acceptance(envelope, outcome, number=number, channel=decision.channel)
    reply_id = await answering.deliver(job.sender, AGENT_FOLDER, reply)
    copy = replies.office_copy(
        envelope,
        outcome,
        number=number,
        channel=decision.channel,
        channel_reason=decision.reason,
        agent_address=job.sender,
    )
    folder = settings.filing.folder_for(regime=declaration.regime, channel=decision.channel.value)
    await answering.deliver(job.recipient, folder, copy)
    await answering.record_answer(
        job=job,
        agent_code=declaration.agent_code,
        agent_reference=declaration.agent_reference,
        document_type=declaration.document_type,
        regime=declaration.regime,
        office_code=job.office_code,
        status=DeclarationStatus.ACCEPTED,
        reply_content_id=reply_id,
        number=number,
        channel=decision.channel.value,
        document_digest=fingerprint,
    )
    return Answered("accepted", reference, number, decision.channel.value)


async def fail_job(
    answering: Answering,
    claimed: ClaimedJob,
    settings: AnswerSettings,
    headers: SubmissionHeaders,
    error: str,
) -> list[Answered]:
    """Give up on a job: tell the agent the gateway could not process it, mark it failed."""
    if unanswerable(claimed, headers) is None:
        envelope = _envelope(answering, claimed, settings, headers)
        attempts = claimed.job.attempts - 1
        reply = replies.failure(envelope, attempts)
        await answering.deliver(claimed.job.sender, AGENT_FOLDER, reply)
    await answering.mark_failed(claimed.id, error)
    return [Answered("failed")]
