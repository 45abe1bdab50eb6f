"""Write an ``AnswerPlan`` in the answering transaction: number, channel, rows, mails, done.

What runs here is short by design (the transaction holds SQLite's only writer), and
synchronous: the whole transaction is one unit of work of the store (``JobQueue.answer``),
run on SQLite in the database's thread, so it never touches the event loop. Check that the
facts the plan relied on still hold, take the number, read the month's channel counts and
apply the pure channel policy (``gateway.pipeline.quota``), fill the number and channel into
the templates, file the mails, record the rows, mark the job done. No parsing, no composing.

Facts read before the transaction may have changed by the time it runs: another declaration
used the same control document, the same reference was answered meanwhile, the importer got
another import. ``commit`` checks each document's facts before writing anything of it and
raises ``FactsChanged`` if one moved; documents before it are already written. The
transaction is intact then: read the facts again through the same ``Answering`` (it sees the
transaction's own writes), ``decide`` again from ``FactsChanged.resume_at`` and commit that
plan (``answer_in_transaction`` does exactly this). A plan that stops early because a
document depends on an earlier one of the same mail (``AnswerPlan.resume_at``) ends the same
way. Only when a concurrent transaction wrote a row this one then collides with (a control
document's primary key on PostgreSQL) is the transaction lost: ``FactsChanged`` then has
``transaction_lost`` set, the caller rolls back, and the job is decided again afresh.
"""

from __future__ import annotations

from edi_formats.responses import Channel
from gateway.mail.template import Filling, fill
from gateway.pipeline.core import (
    AGENT_FOLDER,
    Acceptance,
    Answered,
    AnswerPlan,
    AnswerRecord,
    FactsRelied,
    Reply,
)
from gateway.pipeline.dispatch_facts import control_document_uses, record_left_behind
from gateway.pipeline.numbering import take_in_series
from gateway.pipeline.quota import channel_for
from mailboxes.errors import AlreadyStored
from mailboxes.jobs import Answering

__all__ = ["FactsChanged", "commit"]


class FactsChanged(Exception):
    """A fact the plan relied on is no longer what it was: decide again from ``resume_at``.

    ``answered`` says how the documents before it were answered (written in this
    transaction). With ``transaction_lost`` the transaction cannot go on: roll it back and
    decide the whole job again.
    """

    def __init__(
        self,
        job_id: int,
        resume_at: int,
        answered: list[Answered],
        why: str,
        *,
        transaction_lost: bool = False,
    ) -> None:
        super().__init__(f"job {job_id}, document {resume_at + 1}: {why}")
        self.job_id = job_id
        self.resume_at = resume_at
        self.answered = answered
        self.why = why
        self.transaction_lost = transaction_lost


def _changed(answering: Answering, relied: FactsRelied) -> str | None:
    """What moved among the facts a decision relied on, or None."""
    if relied.on_file is not None:
        key, status, number = relied.on_file
        on_file = answering.recorded_answer(*key)
        current = (None, None) if on_file is None else (on_file.status, on_file.number)
        if current != (status, number):
            return f"the answer on file for reference {key[1]} changed"
    if relied.control_documents is not None:
        refs = [ref for ref, _ in relied.control_documents]
        then = {ref: use for ref, use in relied.control_documents if use is not None}
        if control_document_uses(answering, refs) != then:
            return "a control document was used by another declaration meanwhile"
    if relied.imports is not None:
        doc_type, doc_number, year, count = relied.imports
        if len(answering.importer_fobs(doc_type, doc_number, year)) != count:
            return "the importer's imports of the year changed"
    return None


def _record(
    answering: Answering,
    plan: AnswerPlan,
    record: AnswerRecord,
    reply_id: int,
    number: str | None = None,
    channel: str | None = None,
) -> None:
    answering.record_answer(
        job=plan,
        agent_code=record.agent_code,
        agent_reference=record.agent_reference,
        document_type=record.document_type,
        regime=record.regime,
        office_code=plan.office_code,
        status=record.status,
        reply_content_id=reply_id,
        number=number,
        channel=channel,
        document_digest=record.document_digest,
    )


def _accept(answering: Answering, plan: AnswerPlan, document: Acceptance) -> Answered:
    number = str(take_in_series(answering, document.series))
    decision = channel_for(
        answering,
        document.channel,
        received_at=plan.received_at,
        regime=document.series.regime,
        number=number,
        seed=plan.channel_seed,
    )
    channel: Channel = decision.channel
    filling = Filling(number, channel, decision.reason)
    try:
        record_left_behind(
            answering,
            document.left,
            number=number,
            office=plan.office_code,
            received_at=plan.received_at,
        )
    except AlreadyStored as exc:  # a concurrent transaction used the control document first
        raise FactsChanged(
            plan.job_id, plan.start, [], str(exc.orig), transaction_lost=True
        ) from exc
    reply_id, _ = answering.deliver_all(
        [
            (plan.sender, AGENT_FOLDER, fill(document.reply, filling)),
            (plan.recipient, document.folder(channel), fill(document.office_copy, filling)),
        ]
    )
    _record(answering, plan, document.record, reply_id, number, channel.value)
    return Answered("accepted", document.reference, number, channel.value)


def commit(answering: Answering, plan: AnswerPlan) -> list[Answered]:
    """Write ``plan``; the job is marked done when the plan answers it to its end.

    Raises ``FactsChanged`` (see the module) when the rest of the job must be decided again.
    """
    if plan.not_answered is not None:
        answering.mark_done(plan.job_id)
        return [Answered("not-answered")]
    answered: list[Answered] = []
    for offset, document in enumerate(plan.documents):
        why = _changed(answering, document.relied)
        if why is not None:
            raise FactsChanged(plan.job_id, plan.start + offset, answered, why)
        if isinstance(document, Acceptance):
            answered.append(_accept(answering, plan, document))
        elif isinstance(document, Reply):
            reply_id = answering.deliver(plan.sender, AGENT_FOLDER, document.mail)
            if document.record is not None:
                _record(answering, plan, document.record, reply_id)
            answered.append(document.answered)
        else:
            answering.redeliver(plan.sender, AGENT_FOLDER, document.reply_content_id)
            answered.append(document.answered)
    if plan.resume_at is not None:
        why = "it depends on an earlier declaration of the same mail"
        raise FactsChanged(plan.job_id, plan.resume_at, answered, why)
    answering.mark_done(plan.job_id)
    return answered
