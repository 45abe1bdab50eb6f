"""The answer core: decided without a store (tables of inputs to decisions), picklable, and
committed with a check that the facts it relied on still hold."""

from __future__ import annotations

import pickle
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from config import OfficeRegistry
from config.clock import FixedClock
from config.reference import shipped_reference
from edi_formats.models import DUA, ControlDocument
from edi_formats.responses import Channel
from gateway.mail.template import Template
from gateway.pipeline.answer import (
    Answered,
    AnswerSettings,
    FactsChanged,
    JobView,
    answer_in_transaction,
    commit,
    decide,
    plan_job,
    read_answer_facts,
)
from gateway.pipeline.core import (
    Acceptance,
    AnswerFacts,
    AnswerPlan,
    AnswerRecord,
    FactsRelied,
    Reply,
    Resend,
    references_on_file,
    wanted_facts,
)
from gateway.pipeline.pool import AnalysisFailed, AnalysisPool, Decision, Submission
from gateway.pipeline.process import Analysis, SubmissionHeaders, analyse
from mailboxes.answer_facts import RecordedAnswer, read_facts
from mailboxes.jobs import Answering, ClaimedJob, JobQueue
from mailboxes.schema import DeclarationStatus
from mailboxes.store import Store
from tests.gateway.pipeline.helpers import (
    AGENT,
    AGENT_CODE,
    AS_OF,
    DOMAIN,
    OFFICE,
    OTHER_CODE,
    body_text,
    declaration,
    flat,
    mailbox,
    submission,
    submit,
)
from validators.engine import RuleContext
from validators.policy.channels import ChannelInputs
from validators.policy.dispatch import KnownFacts, LeftBehind
from validators.policy.numbering import Series
from validators.rules.pipeline import document_fingerprint
from validators.samples import break_rule, sample_declaration

RECEIVED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
NOW = RECEIVED + timedelta(seconds=2)


def settings(offices: OfficeRegistry) -> AnswerSettings:
    return AnswerSettings(offices=offices, domain=DOMAIN, channel_seed=b"semilla")


def view(agent_code: str | None = AGENT_CODE, automatic: bool = False) -> JobView:
    return JobView(
        job_id=7,
        sender=AGENT,
        recipient=OFFICE,
        office_code="118",
        received_at=RECEIVED,
        sender_agent_code=agent_code,
        sender_role="agent",
        headers=SubmissionHeaders("<envio@a.pe>", None, "DUA", automatic),
    )


def analysed(offices: OfficeRegistry, *documents: bytes, agent_code: str = AGENT_CODE) -> Analysis:
    context = RuleContext(
        as_of=AS_OF, offices=offices, addressed_office="118", sender_agent_code=agent_code
    )
    return analyse(submission(*documents), context)


def medicines(reference: str, permit: str) -> DUA:
    dua = break_rule(
        sample_declaration("dua", as_of=AS_OF, reference=reference, agent_code=AGENT_CODE),
        "RESTR-DOC",
    )
    assert isinstance(dua, DUA)
    document = ControlDocument(
        entity_code="03",
        document_code="08",
        number=permit,
        issued_on=AS_OF - timedelta(days=5),
        expires_on=AS_OF + timedelta(days=300),
    )
    series = list(dua.series)
    series[0] = series[0].model_copy(update={"control_documents": (document,)})
    return DUA.model_validate(dua.model_copy(update={"series": tuple(series)}).model_dump())


def facts_for(job: JobView, analysis: Analysis, **on_file: RecordedAnswer) -> AnswerFacts:
    """No answer on file but ``on_file`` (by reference); no earlier dispatches."""
    answers = {key: on_file.get(key[1]) for key in references_on_file(job, analysis)}
    known = {asked: KnownFacts() for asked in wanted_facts(job, analysis)}
    return AnswerFacts(answers, known)


PLAIN = declaration(reference="P-1")
ACCEPTED = RecordedAnswer(
    status=DeclarationStatus.ACCEPTED,
    number="118-2026-10-000004",
    channel="verde",
    reply_content_id=55,
    received_at=RECEIVED - timedelta(days=1),
    document_digest=document_fingerprint(PLAIN),
)


@pytest.mark.parametrize(
    ("case", "documents", "on_file", "sender_code", "expected"),
    [
        ("a valid DUA is accepted", [flat(PLAIN)], {}, AGENT_CODE, ["Acceptance"]),
        ("resent: the reply on file", [flat(PLAIN)], {"P-1": ACCEPTED}, AGENT_CODE, ["Resend"]),
        (
            "another DUA under an accepted reference",
            [flat(declaration(reference="P-1", series=3))],
            {"P-1": ACCEPTED},
            AGENT_CODE,
            ["Reply:rejected:DUP"],
        ),
        (
            "a broken DUA",
            [flat(declaration(reference="B-1", breaks="STR-SERIES"))],
            {},
            AGENT_CODE,
            ["Reply:rejected:recorded"],
        ),
        (
            "someone else's declaration",
            [flat(declaration(reference="X-1", agent_code=OTHER_CODE))],
            {},
            AGENT_CODE,
            ["Reply:rejected"],
        ),
        (
            "a DUA, junk and an unreadable document",
            [flat(PLAIN), b"TDH|TELEDESPACHO|01|DUA\nbasura"],
            {},
            AGENT_CODE,
            ["Acceptance", "Reply:unreadable"],
        ),
    ],
)
def test_decisions_without_a_store(
    offices: OfficeRegistry,
    case: str,
    documents: list[bytes],
    on_file: dict[str, RecordedAnswer],
    sender_code: str,
    expected: list[str],
) -> None:
    job = view(sender_code)
    analysis = analysed(offices, *documents, agent_code=sender_code)
    plan = decide(job, analysis, facts_for(job, analysis, **on_file), settings(offices), NOW)
    found = []
    for document in plan.documents:
        if isinstance(document, Acceptance):
            assert not document.reply.complete and not document.office_copy.complete
            assert str(document.series.number(1)) == "118-2026-10-000001"
            found.append("Acceptance")
        elif isinstance(document, Resend):
            assert document.reply_content_id == 55
            assert document.answered.number == ACCEPTED.number
            found.append("Resend")
        else:
            label = f"Reply:{document.answered.verdict}"
            if b"DUP" in document.mail:
                label += ":DUP"
            if document.record is not None:
                label += ":recorded"
            found.append(label)
    assert found == expected, case
    assert plan.resume_at is None


def test_an_automatic_submission_is_filed_unanswered(offices: OfficeRegistry) -> None:
    job = view(automatic=True)
    analysis = analysed(offices, flat(PLAIN))
    plan = decide(job, analysis, facts_for(job, analysis), settings(offices), NOW)
    assert plan.not_answered == "sent automatically (RFC 3834)" and plan.documents == ()


def test_a_used_control_document_is_rejected_from_the_facts(offices: OfficeRegistry) -> None:
    job = view()
    analysis = analysed(offices, flat(medicines("M-1", "RS-1")))
    (asked,) = wanted_facts(job, analysis)
    facts = AnswerFacts(
        {(AGENT_CODE, "M-1"): None},
        {asked: KnownFacts(uses={("03", "08", "RS-1"): "118-2026-10-000009"})},
    )
    (document,) = decide(job, analysis, facts, settings(offices), NOW).documents
    assert isinstance(document, Reply) and document.answered.verdict == "rejected"
    assert b"CTRL-SINGLE-USE" in document.mail and b"118-2026-10-000009" in document.mail


def test_a_document_that_depends_on_an_earlier_one_is_left_for_the_next_round(
    offices: OfficeRegistry,
) -> None:
    job = view()
    twice = [flat(medicines("M-1", "RS-1")), flat(medicines("M-2", "RS-1")), flat(PLAIN)]
    analysis = analysed(offices, *twice)
    plan = decide(job, analysis, facts_for(job, analysis), settings(offices), NOW)
    assert [type(d).__name__ for d in plan.documents] == ["Acceptance"]
    assert plan.resume_at == 1
    rest = decide(job, analysis, facts_for(job, analysis), settings(offices), NOW, start=1)
    assert rest.start == 1 and len(rest.documents) == 2 and rest.resume_at is None


def test_decide_is_deterministic_and_its_values_pickle(offices: OfficeRegistry) -> None:
    job = view()
    analysis = analysed(offices, flat(PLAIN), flat(declaration(reference="B", breaks="STR-SERIES")))
    facts = facts_for(job, analysis)
    answer_settings = settings(offices)
    plan = decide(job, analysis, facts, answer_settings, NOW)
    for value in (job, analysis, facts, plan):
        assert pickle.loads(pickle.dumps(value)) == value
    # The settings travel too (once per worker process); decided with the copy, the same plan.
    again = decide(*pickle.loads(pickle.dumps((job, analysis, facts, answer_settings, NOW))))
    assert again == plan
    assert isinstance(plan, AnswerPlan) and isinstance(plan.documents[0], Acceptance)
    assert isinstance(plan.documents[0].reply, Template)


@pytest.mark.parametrize(
    "relied",
    [
        FactsRelied(),
        FactsRelied(on_file=((AGENT_CODE, "P-1"), DeclarationStatus.REJECTED, None)),
        FactsRelied(on_file=((AGENT_CODE, "P-1"), None, None), imports=("DNI", "1", 2026, 2)),
    ],
)
def test_an_acceptance_crosses_the_pipe_as_builtins(
    offices: OfficeRegistry, relied: FactsRelied
) -> None:
    """An acceptance's plan comes back for every job: pickled with no class but the functions
    that rebuild it, it comes back equal, every value of its own type."""
    job = view()
    analysis = analysed(offices, flat(PLAIN))
    plan = decide(job, analysis, facts_for(job, analysis), settings(offices), NOW)
    acceptance = plan.documents[0]
    assert isinstance(acceptance, Acceptance)
    plan = replace(plan, documents=(replace(acceptance, relied=relied),))
    data = pickle.dumps(plan, pickle.HIGHEST_PROTOCOL)
    for module in (b"validators.", b"gateway.mail", b"edi_formats", b"mailboxes", b"decimal"):
        assert module not in data  # no class of theirs looked up by name
    assert data.count(b"gateway.pipeline.core") == 1  # the functions that rebuild the plan
    again = pickle.loads(data)
    assert again == plan and hash(again.documents[0].series) == hash(acceptance.series)
    document = again.documents[0]
    assert type(document.reply) is Template and type(document.record.status) is DeclarationStatus
    assert [type(channel) for channel, _ in document.folders] == [Channel] * 3
    assert document.folder(Channel.ROJO) == acceptance.folder(Channel.ROJO)
    assert again.documents[0].relied == relied


@pytest.mark.parametrize("relied", [FactsRelied(), FactsRelied(imports=("DNI", "1", 2026, 2))])
def test_a_rejection_crosses_the_pipe_as_builtins(
    offices: OfficeRegistry, relied: FactsRelied
) -> None:
    job = view()
    analysis = analysed(offices, flat(declaration(reference="B", breaks="STR-SERIES")))
    plan = decide(job, analysis, facts_for(job, analysis), settings(offices), NOW)
    reply = plan.documents[0]
    assert isinstance(reply, Reply) and reply.record is not None
    for record in (reply.record, None):
        sent = replace(plan, documents=(replace(reply, record=record, relied=relied),))
        data = pickle.dumps(sent, pickle.HIGHEST_PROTOCOL)
        assert b"mailboxes" not in data and data.count(b"gateway.pipeline.core") == 1
        again = pickle.loads(data)
        assert again == sent
        assert record is None or type(again.documents[0].record.status) is DeclarationStatus


@pytest.mark.parametrize(
    ("carried", "names"),
    [
        (Acceptance, "reference series channel reply office_copy folders record left relied"),
        (Reply, "answered mail record relied"),
        (Answered, "verdict reference number channel"),
        (AnswerRecord, "agent_code agent_reference document_type regime status document_digest"),
        (FactsRelied, "on_file control_documents imports"),
        (Series, "office year regime"),
        (ChannelInputs, "office mandatory relief weight shares"),
        (LeftBehind, "import_record control_documents pending"),
    ],
)
def test_the_flat_forms_name_every_field_they_carry(carried: type, names: str) -> None:
    """``Acceptance.__reduce__`` and ``Reply.__reduce__`` list these fields by hand: a field
    added to one of these classes must be added to them too, or the plan would lose it on
    the pipe whenever it keeps its default (the round trips above would not notice)."""
    assert [each.name for each in fields(carried)] == names.split()


async def test_the_analysis_pool_decides_the_plan_the_node_would(offices: OfficeRegistry) -> None:
    job = view()
    analysis = analysed(offices, flat(PLAIN), flat(declaration(reference="B", breaks="STR-SERIES")))
    facts = facts_for(job, analysis)
    here = decide(job, analysis, facts, settings(offices), NOW)
    pool = AnalysisPool(
        1, offices=offices, reference=shipped_reference(), answers=settings(offices)
    )
    bare = AnalysisPool(1, offices=offices, reference=shipped_reference())
    try:
        # Only view, analysis, facts and time cross the pipe; the process has the settings.
        assert await pool.decide(Decision(job, analysis, facts, NOW)) == here
        with pytest.raises(AnalysisFailed, match="without answer settings"):
            await bare.decide(Decision(job, analysis, facts, NOW))
    finally:
        await pool.close()
        await bare.close()


# -- with the store ---------------------------------------------------------------------------


async def claim_one(store: Store, raw: bytes) -> ClaimedJob:
    await submit(store, raw)
    (claimed,) = await JobQueue(store).claim(1)
    return claimed


async def test_read_decide_commit_in_three_steps(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    claimed = await claim_one(accounts, submission(flat(PLAIN)))
    analysis = analysed(offices, flat(PLAIN))
    job = JobView.of(claimed, analysis.headers)
    facts = await read_facts(  # before the writer transaction, one unit of work
        accounts, lambda source: read_answer_facts(source, job, analysis)
    )
    plan = decide(job, analysis, facts, settings(offices), clock.now())
    (answered,) = await JobQueue(accounts).answer(clock.now(), partial(commit, plan=plan))
    assert answered.verdict == "accepted" and answered.number == "118-2026-10-000001"
    (reply,) = await mailbox(accounts, AGENT)
    assert reply["X-Teledespacho-Number"] == answered.number
    assert reply["X-Teledespacho-Channel"] == answered.channel
    (copy,) = await mailbox(accounts, OFFICE)
    assert copy["Subject"].startswith(f"DUA {answered.number} canal ")
    assert (await JobQueue(accounts).job(claimed.id))[0].state == "done"


async def test_reading_the_facts_and_committing_are_one_hand_off_each(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock, hand_offs: list[int]
) -> None:
    """On SQLite: every fact a job needs is read in one unit of work, and its answering
    transaction (number, channel month, reply and office copy, answer, job done) is one."""
    if not accounts.database.is_sqlite:
        pytest.skip("asyncpg has no thread to hand work to")
    documents = [flat(PLAIN), flat(medicines("M-1", "RS-3"))]
    claimed = await claim_one(accounts, submission(*documents))
    analysis = analysed(offices, *documents)
    job = JobView.of(claimed, analysis.headers)
    await read_facts(accounts, partial(read_answer_facts, view=job, analysis=analysis))
    hand_offs[0] = 0
    facts = await read_facts(accounts, partial(read_answer_facts, view=job, analysis=analysis))
    assert hand_offs[0] == 1
    plan = decide(job, analysis, facts, settings(offices), clock.now())
    hand_offs[0] = 0
    answered = await JobQueue(accounts).answer(clock.now(), partial(commit, plan=plan))
    assert hand_offs[0] == 1
    assert [a.verdict for a in answered] == ["accepted", "accepted"]
    assert len(await mailbox(accounts, OFFICE)) == 2


async def test_plan_job_decides_before_the_transaction(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    raw = submission(flat(PLAIN), flat(declaration(reference="B-2", breaks="STR-SERIES")))
    claimed = await claim_one(accounts, raw)
    analysis = analysed(
        offices, flat(PLAIN), flat(declaration(reference="B-2", breaks="STR-SERIES"))
    )
    plan = await plan_job(accounts, claimed, analysis, settings(offices), clock.now())
    answered = await JobQueue(accounts).answer(
        clock.now(),
        lambda answering: answer_in_transaction(
            answering, claimed, analysis, settings(offices), plan
        ),
    )
    assert [a.verdict for a in answered] == ["accepted", "rejected"]
    assert len(await mailbox(accounts, AGENT)) == 2


async def test_a_control_document_used_meanwhile_is_caught_at_commit(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    """Facts read before the transaction; another declaration with the same permit is
    numbered before this one commits: the commit refuses, and the job is decided again."""
    first_raw = submission(flat(medicines("M-1", "RS-7")), message_id="<m1@a.pe>")
    second_raw = submission(flat(medicines("M-2", "RS-7")), message_id="<m2@a.pe>")
    await submit(accounts, first_raw)
    await submit(accounts, second_raw)
    first, second = await JobQueue(accounts).claim(2)
    analyses = [analysed(offices, flat(medicines(r, "RS-7"))) for r in ("M-1", "M-2")]
    plans = []
    for claimed, analysis in zip((first, second), analyses, strict=True):
        job = JobView.of(claimed, analysis.headers)
        facts = await read_facts(accounts, partial(read_answer_facts, view=job, analysis=analysis))
        plans.append(decide(job, analysis, facts, settings(offices), clock.now()))
    assert all(isinstance(plan.documents[0], Acceptance) for plan in plans)

    def both(answering: Answering) -> tuple[Answered, Answered]:
        (accepted,) = commit(answering, plans[0])
        with pytest.raises(FactsChanged) as changed:
            commit(answering, plans[1])
        assert changed.value.resume_at == 0 and not changed.value.transaction_lost
        (again,) = answer_in_transaction(
            answering, second, analyses[1], settings(offices), plans[1]
        )
        return accepted, again

    accepted, again = await JobQueue(accounts).answer(clock.now(), both)
    assert accepted.verdict == "accepted" and again.verdict == "rejected"
    replies = await mailbox(accounts, AGENT)
    assert len(replies) == 2
    text = " ".join(body_text(replies[1]).split())
    assert "CTRL-SINGLE-USE" in text and str(accepted.number) in text
    assert len(await mailbox(accounts, OFFICE)) == 1  # one number, one office copy


async def test_a_reference_accepted_meanwhile_is_caught_at_commit(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    raw = submission(flat(PLAIN))
    await submit(accounts, raw)
    await submit(accounts, raw)
    first, second = await JobQueue(accounts).claim(2)
    analysis = analysed(offices, flat(PLAIN))
    plans = []
    for claimed in (first, second):
        job = JobView.of(claimed, analysis.headers)
        facts = await read_facts(accounts, partial(read_answer_facts, view=job, analysis=analysis))
        plans.append(decide(job, analysis, facts, settings(offices), clock.now()))

    def both(answering: Answering) -> tuple[Answered, Answered]:
        (accepted,) = commit(answering, plans[0])
        (repeated,) = answer_in_transaction(
            answering, second, analysis, settings(offices), plans[1]
        )
        return accepted, repeated

    accepted, repeated = await JobQueue(accounts).answer(clock.now(), both)
    assert (accepted.verdict, repeated.verdict) == ("accepted", "repeated")
    assert repeated.number == accepted.number
    first_reply, second_reply = await mailbox(accounts, AGENT)
    assert first_reply.as_bytes() == second_reply.as_bytes()  # the very reply on file


async def test_one_mail_with_dependent_declarations_is_answered_in_rounds(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    documents = [flat(medicines("M-1", "RS-9")), flat(medicines("M-2", "RS-9"))]
    claimed = await claim_one(accounts, submission(*documents))
    analysis = analysed(offices, *documents)
    answered = await JobQueue(accounts).answer(
        clock.now(),
        lambda answering: answer_in_transaction(answering, claimed, analysis, settings(offices)),
    )
    assert [a.verdict for a in answered] == ["accepted", "rejected"]
    assert (await JobQueue(accounts).job(claimed.id))[0].state == "done"


async def test_the_control_document_key_is_the_last_guard(
    accounts: Store, offices: OfficeRegistry, clock: FixedClock
) -> None:
    """Were the check at commit to miss a use (a concurrent transaction on PostgreSQL commits
    it between the check and the write), the control document's primary key refuses the
    second use: the transaction is lost and says so, nothing of it is kept."""
    raws = [
        submission(flat(medicines(r, "RS-5")), message_id=f"<{r}@a.pe>") for r in ("K-1", "K-2")
    ]
    for raw in raws:
        await submit(accounts, raw)
    first, second = await JobQueue(accounts).claim(2)
    plans = []
    for claimed, reference in zip((first, second), ("K-1", "K-2"), strict=True):
        analysis = analysed(offices, flat(medicines(reference, "RS-5")))
        plans.append(await plan_job(accounts, claimed, analysis, settings(offices), clock.now()))
    await JobQueue(accounts).answer(clock.now(), partial(commit, plan=plans[0]))
    (document,) = plans[1].documents
    assert isinstance(document, Acceptance)
    blind = replace(plans[1], documents=(replace(document, relied=FactsRelied()),))
    with pytest.raises(FactsChanged) as lost:
        await JobQueue(accounts).answer(clock.now(), partial(commit, plan=blind))
    assert lost.value.transaction_lost
    assert len(await mailbox(accounts, AGENT)) == 1  # the second reply was rolled back
    assert (await JobQueue(accounts).job(second.id))[0].state == "pending"


async def test_a_mail_read_by_the_pool_is_decided_there_as_the_node_would(
    offices: OfficeRegistry,
) -> None:
    """The analysis goes back to the process as the pickle it came in (not pickled again):
    the plan is the one decided here from the same analysis."""
    raw = submission(flat(PLAIN), flat(declaration(reference="B", breaks="STR-SERIES")))
    pool = AnalysisPool(
        1, offices=offices, reference=shipped_reference(), answers=settings(offices)
    )
    try:
        analysis = await pool.analyse(Submission(raw, AS_OF, "118", AGENT_CODE))
        assert analysis == analysed(
            offices, flat(PLAIN), flat(declaration(reference="B", breaks="STR-SERIES"))
        )
        job = view()
        facts = facts_for(job, analysis)
        here = decide(job, analysis, facts, settings(offices), NOW)
        assert await pool.decide(Decision(job, analysis, facts, NOW)) == here
        assert await pool.decide(Decision(job, analysis, facts, NOW)) == here  # pickled again
    finally:
        await pool.close()
