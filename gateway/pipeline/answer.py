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
"""

from __future__ import annotations

from dataclasses import dataclass

from config.offices import OfficeRegistry
from gateway.pipeline import replies
from gateway.pipeline.channels import select_channel
from gateway.pipeline.numbering import take_number
from gateway.pipeline.process import (
    Analysis,
    NothingReadable,
    ReadDeclaration,
    SubmissionHeaders,
    UnreadableDeclaration,
)
from mailboxes.jobs import Answering, ClaimedJob
from mailboxes.schema import DeclarationStatus

__all__ = [
    "AGENT_FOLDER",
    "OFFICE_FOLDER",
    "AnswerSettings",
    "answer_job",
    "fail_job",
    "own_references",
]

AGENT_FOLDER = "INBOX"
OFFICE_FOLDER = "INBOX"
"""Accepted declarations go to the office's INBOX; raw submissions stay in ``Recibidos``."""


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    offices: OfficeRegistry
    domain: str
    channel_seed: bytes


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


async def answer_job(
    answering: Answering, claimed: ClaimedJob, analysis: Analysis, settings: AnswerSettings
) -> None:
    """File one reply per outcome, number the accepted declarations, mark the job done."""
    envelope = _envelope(answering, claimed, settings, analysis.headers)
    agent = claimed.job.sender
    for outcome in analysis.outcomes:
        if isinstance(outcome, ReadDeclaration):
            await _answer_declaration(answering, claimed, outcome, envelope, settings)
        elif isinstance(outcome, UnreadableDeclaration):
            await answering.deliver(agent, AGENT_FOLDER, replies.unreadable(envelope, outcome))
        elif isinstance(outcome, NothingReadable):
            reply = replies.nothing_readable(envelope, outcome.notes)
            await answering.deliver(agent, AGENT_FOLDER, reply)
    await answering.mark_done(claimed.id)


async def _answer_declaration(
    answering: Answering,
    claimed: ClaimedJob,
    outcome: ReadDeclaration,
    envelope: replies.ReplyEnvelope,
    settings: AnswerSettings,
) -> None:
    job = claimed.job
    declaration = outcome.declaration
    own = (
        claimed.sender_agent_code is not None
        and declaration.agent_code == claimed.sender_agent_code
    )
    if own:
        on_file = await answering.recorded_answer(
            declaration.agent_code, declaration.agent_reference
        )
        if on_file is not None and on_file.status is DeclarationStatus.ACCEPTED:
            await answering.redeliver(job.sender, AGENT_FOLDER, on_file.reply_content_id)
            return
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
            )
        return
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
    decision = select_channel(
        declaration, office=job.office_code, number=number, seed=settings.channel_seed
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
    await answering.deliver(job.recipient, OFFICE_FOLDER, copy)
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
    )


async def fail_job(
    answering: Answering,
    claimed: ClaimedJob,
    settings: AnswerSettings,
    headers: SubmissionHeaders,
    error: str,
) -> None:
    """Give up on a job: tell the agent the gateway could not process it, mark it failed."""
    envelope = _envelope(answering, claimed, settings, headers)
    attempts = claimed.job.attempts - 1
    await answering.deliver(claimed.job.sender, AGENT_FOLDER, replies.failure(envelope, attempts))
    await answering.mark_failed(claimed.id, error)
