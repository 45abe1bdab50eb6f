"""The answer core: from a job's analysis and the facts on file, every answer as bytes.

Pure (no store, no clock, no randomness): the job's view, its ``Analysis``, the
``AnswerFacts`` read before the writer transaction and the time the answers are dated in;
out comes an ``AnswerPlan``: per document its verdict, the mails as bytes, and the rows to
record as plain values. An acceptance's reply and office copy are templates whose only holes
are the declaration number and the channel (``gateway.mail.template``): the number is taken
and the channel chosen in the writer transaction (``gateway.pipeline.commit``), which fills
them in. Every input and output is a picklable value, so ``decide`` can run in another
process.

Duplicates (rule DUP). Only the authenticated sender's own references are looked up (the
declaration's agent code must be the sender's), so no agent can fetch another's answer. An
*accepted* reference is final: the same declaration again gets the reply on file (same number
and channel), a different one is rejected naming the accepted number. A *rejected* reference
is not final: a rejection consumes no number, so it is validated anew.

Store-backed rules. A declaration a rule asks the store about (ID-NORUC, CTRL-SINGLE-USE,
URG-REGULARIZE, MOD-04-OVERDUE) and that passed analysis is validated again with the facts on
file; the facts it relied on go into the plan, and the commit checks they still hold.

Documents of one mail that depend on each other (the same reference twice, a control
document or an importer without RUC shared with an earlier declaration of the mail) cannot be
decided together before the earlier one is numbered: the plan stops before such a document
(``AnswerPlan.resume_at``), and the rest is decided again once the first part is written.

The values that cross the pipe (the plan, the view, the facts) are plain frozen dataclasses,
not slotted ones: Python 3.11 pickles a slotted dataclass through Python-level code, several
times slower (see ``gateway.mail.template``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from config.offices import OfficeRegistry
from config.reference import ReferenceData, shipped_reference
from edi_formats.models import DUA, OE
from edi_formats.responses import Channel
from gateway.imap.filing import OfficeFiling
from gateway.mail.template import Template, WireHole
from gateway.pipeline import replies
from gateway.pipeline.process import (
    Analysis,
    NothingReadable,
    ReadDeclaration,
    SubmissionHeaders,
    UnreadableDeclaration,
)
from mailboxes.answer_facts import RecordedAnswer
from mailboxes.jobs import ClaimedJob
from mailboxes.schema import DeclarationStatus, Role
from validators.engine import RuleContext, transmission_date, validate
from validators.policy.channels import ChannelInputs, channel_inputs
from validators.policy.dispatch import (
    ControlDocumentRef,
    ImportRecord,
    KnownFacts,
    LeftBehind,
    PendingRegularization,
    WantedFacts,
    control_documents,
    left_behind,
    needs_facts,
    needs_history,
    wanted,
)
from validators.policy.duplicates import AcceptedOnFile, Repeat, Taken, duplicate
from validators.policy.numbering import Series, series_of
from validators.registry import RuleRegistry
from validators.rules.pipeline import document_fingerprint

__all__ = [
    "AGENT_FOLDER",
    "Acceptance",
    "AnswerFacts",
    "AnswerPlan",
    "AnswerRecord",
    "AnswerSettings",
    "Answered",
    "DocumentPlan",
    "FactsRelied",
    "JobView",
    "Reply",
    "Resend",
    "decide",
    "references_on_file",
    "unanswerable",
    "wanted_facts",
]

AGENT_FOLDER = "INBOX"


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Answered:
    """What one document of a job was answered, for the operator's log."""

    verdict: str
    """``accepted``, ``rejected``, ``repeated`` (an accepted reference's answer again),
    ``unreadable``, ``no-declaration``, ``not-answered``, ``failed`` or ``forwarded``."""
    reference: str | None = None
    number: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class JobView:
    """The job as the core sees it: who sent what to which office, and when."""

    job_id: int
    sender: str
    recipient: str
    office_code: str
    received_at: datetime
    sender_agent_code: str | None
    sender_role: str | None
    headers: SubmissionHeaders

    def __reduce__(self) -> tuple[Callable[..., JobView], tuple[object, ...]]:
        """Pickled flat, as builtins: a view crosses the analysis pool's pipe twice a job,
        and each class in a pickle costs both sides a look-up by name (a view took the node
        ~9 µs to pickle and a process ~6 µs to unpickle; flat, ~2 and ~4)."""
        headers = self.headers
        return _job_view, (
            self.job_id,
            self.sender,
            self.recipient,
            self.office_code,
            flat_instant(self.received_at),
            self.sender_agent_code,
            self.sender_role,
            headers.message_id,
            headers.references,
            headers.subject,
            headers.automatic,
        )

    @classmethod
    def of(cls, claimed: ClaimedJob, headers: SubmissionHeaders) -> JobView:
        job = claimed.job
        return cls(
            job_id=job.id,
            sender=job.sender,
            recipient=job.recipient,
            office_code=job.office_code,
            received_at=job.received_at,
            sender_agent_code=claimed.sender_agent_code,
            sender_role=claimed.sender_role,
            headers=headers,
        )


_FlatInstant = tuple[int, int, int, int, int, int, int, int] | datetime
"""A UTC ``datetime`` as its fields and ``fold``; any other one as itself."""


def flat_instant(moment: datetime) -> _FlatInstant:
    """``moment`` as builtins when it is a UTC ``datetime`` (what the store and the clock
    give): pickled as a ``datetime`` with its ``timezone`` it costs three classes."""
    if type(moment) is not datetime or moment.tzinfo is not UTC:
        return moment
    return (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        moment.fold,
    )


def instant(flat: _FlatInstant) -> datetime:
    """The ``datetime`` ``flat_instant`` gave ``flat`` for."""
    if isinstance(flat, datetime):
        return flat
    year, month, day, hour, minute, second, microsecond, fold = flat
    return datetime(year, month, day, hour, minute, second, microsecond, UTC, fold=fold)


def _job_view(
    job_id: int,
    sender: str,
    recipient: str,
    office_code: str,
    received_at: _FlatInstant,
    sender_agent_code: str | None,
    sender_role: str | None,
    message_id: str | None,
    references: str | None,
    subject: str | None,
    automatic: bool,
) -> JobView:
    """A ``JobView`` from what its ``__reduce__`` gave."""
    return JobView(
        job_id,
        sender,
        recipient,
        office_code,
        instant(received_at),
        sender_agent_code,
        sender_role,
        SubmissionHeaders(message_id, references, subject, automatic),
    )


@dataclass(frozen=True)
class AnswerFacts:
    """What the store knew when the facts were read: the answers on file for the job's own
    references, and the facts each declaration the rules ask about needs."""

    answers: Mapping[tuple[str, str], RecordedAnswer | None] = field(default_factory=dict)
    known: Mapping[WantedFacts, KnownFacts] = field(default_factory=dict)


def unanswerable(view: JobView) -> str | None:
    """Why a submission is filed but never answered, or None when it is answered.

    RFC 3834 §2: no automatic answer to mail a program sent (auto-replies, this node's own
    answers, lists) or to a null sender, lest two responders loop. Mail from an office or
    department account is a clerk's, not a declaration (a Reply to an office copy, say).
    """
    if not view.sender:
        return "null sender"
    if view.headers.automatic:
        return "sent automatically (RFC 3834)"
    if view.sender_role in (Role.OFFICE, Role.DEPARTMENT):
        return f"sent by a customs {view.sender_role} account"
    return None


def _own(view: JobView, outcome: ReadDeclaration) -> bool:
    code = view.sender_agent_code
    return code is not None and outcome.declaration.agent_code == code


def references_on_file(view: JobView, analysis: Analysis, start: int = 0) -> list[tuple[str, str]]:
    """The (agent code, reference) pairs whose answers on file the job may need."""
    return [
        (outcome.declaration.agent_code, outcome.declaration.agent_reference)
        for outcome in analysis.outcomes[start:]
        if isinstance(outcome, ReadDeclaration) and _own(view, outcome)
    ]


def wanted_facts(view: JobView, analysis: Analysis, start: int = 0) -> list[WantedFacts]:
    """The facts the job's declarations may need to be validated again."""
    as_of = transmission_date(view.received_at)
    return [
        wanted(outcome.declaration, as_of)
        for outcome in analysis.outcomes[start:]
        if isinstance(outcome, ReadDeclaration)
        and _own(view, outcome)
        and outcome.accepted
        and needs_facts(outcome.declaration)
    ]


# -- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRecord:
    """The answer to remember for an agent's reference (its reply's id known once filed)."""

    agent_code: str
    agent_reference: str
    document_type: str
    regime: str
    status: DeclarationStatus
    document_digest: str


@dataclass(frozen=True)
class FactsRelied:
    """The facts on file a document's decision relied on, checked again at commit."""

    on_file: tuple[tuple[str, str], DeclarationStatus | None, str | None] | None = None
    """(agent code, reference), the status and number on file then (None: nothing)."""
    control_documents: tuple[tuple[ControlDocumentRef, str | None], ...] | None = None
    """The declaration's control documents and the number that had used each then (None:
    not asked)."""
    imports: tuple[str, str, int, int] | None = None
    """(doc type, doc number, year, imports then) of an importer without RUC."""


@dataclass(frozen=True)
class Reply:
    """A finished answer: rejected, unreadable, no declaration."""

    answered: Answered
    mail: bytes
    record: AnswerRecord | None
    relied: FactsRelied

    def __reduce__(self) -> tuple[Callable[..., Reply], tuple[object, ...]]:
        """Pickled flat, as builtins (see ``Acceptance.__reduce__``)."""
        record = None if self.record is None else _flat_record(self.record)
        return _reply, (
            *_flat_answered(self.answered),
            self.mail,
            record,
            *_flat_relied(self.relied),
        )


@dataclass(frozen=True)
class Resend:
    """The same declaration again under an accepted reference: the reply on file."""

    answered: Answered
    reply_content_id: int
    relied: FactsRelied


@dataclass(frozen=True)
class Acceptance:
    """An accepted declaration: numbered in ``series``, its channel chosen from
    ``channel``, then the templates filled and everything recorded."""

    reference: str
    series: Series
    channel: ChannelInputs
    reply: Template
    office_copy: Template
    folders: tuple[tuple[Channel, str], ...]
    """The office's folder for the copy, per channel."""
    record: AnswerRecord
    left: LeftBehind
    relied: FactsRelied

    def folder(self, channel: Channel) -> str:
        return dict(self.folders)[channel]

    def __reduce__(self) -> tuple[Callable[..., Acceptance], tuple[object, ...]]:
        """Pickled flat, as builtins: a plan comes back through the pipe for every job, and
        the node unpickles it on its event loop. As nested dataclasses (each one's field
        names, a class looked up by name, an enum called for each channel and status) an
        acceptance's plan took the node ~25 µs to unpickle."""
        series, channel, record, left = self.series, self.channel, self.record, self.left
        return _acceptance, (
            self.reference,
            series.office,
            series.year,
            series.regime,
            channel.office,
            channel.mandatory,
            channel.relief,
            str(channel.weight),
            channel.shares,
            self.reply.pieces,
            self.office_copy.pieces,
            tuple((channel.value, folder) for channel, folder in self.folders),
            _flat_record(record),
            left.import_record,
            left.control_documents,
            left.pending,
            *_flat_relied(self.relied),
        )


DocumentPlan = Reply | Resend | Acceptance

_CHANNELS: Final = {channel.value: channel for channel in Channel}
_STATUSES: Final = {status.value: status for status in DeclarationStatus}
"""Enum members by value: looked up in a dict, not by calling the enum (Python code)."""

_FlatRecord = tuple[str, str, str, str, str, str]
_FlatOnFile = tuple[tuple[str, str], str | None, str | None] | None


def _flat_record(record: AnswerRecord) -> _FlatRecord:
    return (
        record.agent_code,
        record.agent_reference,
        record.document_type,
        record.regime,
        record.status.value,
        record.document_digest,
    )


def _record_of(flat: _FlatRecord) -> AnswerRecord:
    agent_code, reference, document_type, regime, status, digest = flat
    return AnswerRecord(agent_code, reference, document_type, regime, _STATUSES[status], digest)


def _flat_relied(relied: FactsRelied) -> tuple[object, object, object]:
    on_file: _FlatOnFile = None
    if relied.on_file is not None:
        key, status, number = relied.on_file
        on_file = (key, None if status is None else status.value, number)
    return on_file, relied.control_documents, relied.imports


def _relied_of(
    on_file: _FlatOnFile,
    control_documents: tuple[tuple[ControlDocumentRef, str | None], ...] | None,
    imports: tuple[str, str, int, int] | None,
) -> FactsRelied:
    if on_file is None and control_documents is None and imports is None:
        return _NOTHING_RELIED
    facts = None
    if on_file is not None:
        key, status, number = on_file
        facts = (key, None if status is None else _STATUSES[status], number)
    return FactsRelied(facts, control_documents, imports)


_NOTHING_RELIED: Final = FactsRelied()

_FlatAnswered = tuple[str, str | None, str | None, str | None]


def _flat_answered(answered: Answered) -> _FlatAnswered:
    return (answered.verdict, answered.reference, answered.number, answered.channel)


def _reply(
    verdict: str,
    reference: str | None,
    number: str | None,
    channel: str | None,
    mail: bytes,
    record: _FlatRecord | None,
    on_file: _FlatOnFile,
    relied_documents: tuple[tuple[ControlDocumentRef, str | None], ...] | None,
    imports: tuple[str, str, int, int] | None,
) -> Reply:
    """A ``Reply`` from what its ``__reduce__`` gave."""
    return Reply(
        Answered(verdict, reference, number, channel),
        mail,
        None if record is None else _record_of(record),
        _relied_of(on_file, relied_documents, imports),
    )


def _acceptance(
    reference: str,
    series_office: str,
    year: int,
    regime: str,
    channel_office: str,
    mandatory: str | None,
    relief: bool,
    weight: str,
    shares: bool,
    reply: tuple[bytes | WireHole, ...],
    office_copy: tuple[bytes | WireHole, ...],
    folders: tuple[tuple[str, str], ...],
    record: _FlatRecord,
    import_record: ImportRecord | None,
    control_documents: tuple[ControlDocumentRef, ...],
    pending: PendingRegularization | None,
    on_file: _FlatOnFile,
    relied_documents: tuple[tuple[ControlDocumentRef, str | None], ...] | None,
    imports: tuple[str, str, int, int] | None,
) -> Acceptance:
    """An ``Acceptance`` from what its ``__reduce__`` gave."""
    return Acceptance(
        reference,
        Series(series_office, year, regime),
        ChannelInputs(channel_office, mandatory, relief, Decimal(weight), shares),
        Template.of_wire(reply),
        Template.of_wire(office_copy),
        tuple((_CHANNELS[channel], folder) for channel, folder in folders),
        _record_of(record),
        LeftBehind(import_record, control_documents, pending),
        _relied_of(on_file, relied_documents, imports),
    )


@dataclass(frozen=True)
class AnswerPlan:
    """Everything to write for a job (from document ``start`` on), as values."""

    job_id: int
    sender: str
    recipient: str
    office_code: str
    received_at: datetime
    channel_seed: bytes
    documents: tuple[DocumentPlan, ...]
    not_answered: str | None = None
    """Why the job is filed without an answer (``unanswerable``)."""
    start: int = 0
    resume_at: int | None = None
    """The document the plan stops before, to be decided once the ones before are written
    (it depends on them); None: the plan answers the job to its end."""

    @property
    def id(self) -> int:
        """The job's id (what ``Answering.record_answer`` files the answer under)."""
        return self.job_id

    def __reduce__(self) -> tuple[Callable[..., AnswerPlan], tuple[object, ...]]:
        """Its fields without their names, the instant flat (see ``JobView.__reduce__``)."""
        return _answer_plan, (
            self.job_id,
            self.sender,
            self.recipient,
            self.office_code,
            flat_instant(self.received_at),
            self.channel_seed,
            self.documents,
            self.not_answered,
            self.start,
            self.resume_at,
        )


def _answer_plan(
    job_id: int,
    sender: str,
    recipient: str,
    office_code: str,
    received_at: _FlatInstant,
    channel_seed: bytes,
    documents: tuple[DocumentPlan, ...],
    not_answered: str | None,
    start: int,
    resume_at: int | None,
) -> AnswerPlan:
    """An ``AnswerPlan`` from what its ``__reduce__`` gave."""
    return AnswerPlan(
        job_id,
        sender,
        recipient,
        office_code,
        instant(received_at),
        channel_seed,
        documents,
        not_answered,
        start,
        resume_at,
    )


# -- deciding -------------------------------------------------------------------------------------


def _envelope(
    view: JobView, settings: AnswerSettings, now: datetime, index: int
) -> replies.ReplyEnvelope:
    office = settings.offices.get(view.office_code)
    return replies.ReplyEnvelope(
        office_address=view.recipient,
        agent_address=view.sender,
        office_code=view.office_code,
        office_name=office.name if office is not None else None,
        domain=settings.domain,
        date=now,
        received_at=view.received_at,
        submission=view.headers,
        id_seed=f"{view.job_id}/{index}",
    )


def _context(view: JobView, settings: AnswerSettings) -> RuleContext:
    """The rule context of the job's analysis, for validating again with the store's facts."""
    return RuleContext(
        as_of=transmission_date(view.received_at),
        offices=settings.offices,
        addressed_office=view.office_code,
        sender_agent_code=view.sender_agent_code,
        reference=settings.reference,
    )


def _accepted_on_file(recorded: RecordedAnswer | None) -> AcceptedOnFile | None:
    if recorded is None or recorded.status is not DeclarationStatus.ACCEPTED:
        return None
    assert recorded.number is not None
    return AcceptedOnFile(
        recorded.number, recorded.channel, recorded.document_digest, recorded.received_at
    )


def _record(outcome: ReadDeclaration, status: DeclarationStatus, digest: str) -> AnswerRecord:
    declaration = outcome.declaration
    return AnswerRecord(
        agent_code=declaration.agent_code,
        agent_reference=declaration.agent_reference,
        document_type=declaration.document_type,
        regime=declaration.regime,
        status=status,
        document_digest=digest,
    )


@dataclass(slots=True)
class _Shared:
    """What the documents decided so far in this plan record, so a later one that depends on
    them is left for the next round."""

    references: set[tuple[str, str]] = field(default_factory=set)
    control_documents: set[ControlDocumentRef] = field(default_factory=set)
    importers: set[tuple[str, str]] = field(default_factory=set)

    def depends(self, outcome: ReadDeclaration) -> bool:
        declaration = outcome.declaration
        key = (declaration.agent_code, declaration.agent_reference)
        importer = _importer_without_ruc(declaration)
        return (
            key in self.references
            or bool(self.control_documents.intersection(control_documents(declaration)))
            or (importer is not None and importer in self.importers)
        )

    def add(self, outcome: ReadDeclaration, accepted: bool) -> None:
        declaration = outcome.declaration
        self.references.add((declaration.agent_code, declaration.agent_reference))
        if accepted:
            self.control_documents.update(control_documents(declaration))
            importer = _importer_without_ruc(declaration)
            if importer is not None:
                self.importers.add(importer)


def _importer_without_ruc(declaration: DUA | OE) -> tuple[str, str] | None:
    """The importer whose imports ID-NORUC counts (a DUA without RUC), or None."""
    if not isinstance(declaration, DUA) or not needs_history(declaration):
        return None
    return (declaration.importer.doc_type.value, declaration.importer.doc_number)


def decide(
    view: JobView,
    analysis: Analysis,
    facts: AnswerFacts,
    settings: AnswerSettings,
    now: datetime,
    *,
    start: int = 0,
) -> AnswerPlan:
    """The plan that answers the job's documents from ``start`` on, dated ``now``."""
    plan = AnswerPlan(
        job_id=view.job_id,
        sender=view.sender,
        recipient=view.recipient,
        office_code=view.office_code,
        received_at=view.received_at,
        channel_seed=settings.channel_seed,
        documents=(),
        start=start,
    )
    reason = unanswerable(view)
    if reason is not None:
        return replace(plan, not_answered=reason)
    documents: list[DocumentPlan] = []
    shared = _Shared()
    for index in range(start, len(analysis.outcomes)):
        outcome = analysis.outcomes[index]
        envelope = _envelope(view, settings, now, index)
        if isinstance(outcome, ReadDeclaration):
            if index > start and _own(view, outcome) and shared.depends(outcome):
                return replace(plan, documents=tuple(documents), resume_at=index)
            decided = _declaration(view, outcome, envelope, facts, settings)
            if _own(view, outcome):
                shared.add(outcome, isinstance(decided, Acceptance))
            documents.append(decided)
        elif isinstance(outcome, UnreadableDeclaration):
            mail = replies.unreadable(envelope, outcome)
            answered = Answered("unreadable", outcome.identity.agent_reference)
            documents.append(Reply(answered, mail, None, FactsRelied()))
        elif isinstance(outcome, NothingReadable):
            mail = replies.nothing_readable(envelope, outcome.notes)
            documents.append(Reply(Answered("no-declaration"), mail, None, FactsRelied()))
    return replace(plan, documents=tuple(documents))


def _declaration(
    view: JobView,
    outcome: ReadDeclaration,
    envelope: replies.ReplyEnvelope,
    facts: AnswerFacts,
    settings: AnswerSettings,
) -> DocumentPlan:
    declaration = outcome.declaration
    reference = declaration.agent_reference
    fingerprint = document_fingerprint(declaration)
    own = _own(view, outcome)
    relied = FactsRelied()
    if own:
        key = (declaration.agent_code, reference)
        if key not in facts.answers:
            raise LookupError(f"job {view.job_id}: the answer on file for {key} was not read")
        recorded = facts.answers[key]
        relied = FactsRelied(
            on_file=(
                key,
                None if recorded is None else recorded.status,
                None if recorded is None else recorded.number,
            )
        )
        verdict = duplicate(declaration, fingerprint, _accepted_on_file(recorded))
        if isinstance(verdict, Repeat):
            assert recorded is not None
            answered = Answered("repeated", reference, verdict.number, verdict.channel)
            return Resend(answered, recorded.reply_content_id, relied)
        if isinstance(verdict, Taken):
            conflict = replace(outcome, findings=(verdict.finding,))
            mail = replies.rejection(envelope, conflict)
            return Reply(Answered("rejected", reference), mail, None, relied)
    if own and outcome.accepted and needs_facts(declaration):
        context = _context(view, settings)
        asked = wanted(declaration, context.as_of)
        if asked not in facts.known:
            raise LookupError(f"job {view.job_id}: the facts for {reference} were not read")
        known = facts.known[asked]
        findings = validate(declaration, replace(context, facts=known), settings.registry)
        outcome = ReadDeclaration(outcome.document, declaration, tuple(findings))
        imports = None
        if asked.importer is not None:
            history = known.imports_in_year(*asked.importer, context.as_of.year)
            imports = (*asked.importer, context.as_of.year, history.count)
        uses = tuple((ref, known.uses.get(ref)) for ref in asked.control_documents)
        relied = replace(relied, control_documents=uses, imports=imports)
    if not outcome.accepted:
        mail = replies.rejection(envelope, outcome)
        record = _record(outcome, DeclarationStatus.REJECTED, fingerprint) if own else None
        return Reply(Answered("rejected", reference), mail, record, relied)
    if not own:  # TD-SENDER makes this impossible; never number someone else's declaration
        raise RuntimeError(f"job {view.job_id}: accepted a declaration the sender does not own")
    series = series_of(view.office_code, view.received_at, declaration.regime)
    prefix = f"{series.office}-{series.year:04d}-{series.regime}-"
    folders = tuple(
        (channel, settings.filing.folder_for(regime=declaration.regime, channel=channel.value))
        for channel in Channel
    )
    return Acceptance(
        reference=reference,
        series=series,
        channel=channel_inputs(
            declaration,
            office=view.office_code,
            as_of=transmission_date(view.received_at),
            reference=settings.reference,
        ),
        reply=replies.acceptance_template(envelope, outcome, prefix),
        office_copy=replies.office_copy_template(envelope, outcome, agent_address=view.sender),
        folders=folders,
        record=_record(outcome, DeclarationStatus.ACCEPTED, fingerprint),
        left=left_behind(declaration, view.received_at),
        relied=relied,
    )
