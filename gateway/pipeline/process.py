"""From a submitted mail to what must be answered: one outcome per declaration found.

Pure: bytes and a rule context in, values out; no store, no clock, no network. Numbering and
duplicate detection need the store and happen later, in the answering transaction
(``gateway.pipeline.answer``). Runs in the pipeline's worker processes (``pool``).

Each document is answered on its own: one that makes a reader or a rule fail is answered as
unreadable (``FMT-FAILED``), and the mail's other declarations are read and numbered as usual.
A mail beyond the analysis budget (``AnalysisBudget``: bytes, MIME parts, nesting) is not
parsed at all; its answer names the limit.
"""

from __future__ import annotations

import pickle
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from edi_formats.codec import (
    DeclarationIdentity,
    parse_declaration,
    peek_identity,
    split_document,
)
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.extract import ExtractedDocument, extract_documents
from edi_formats.models import DUA, OE
from gateway.mail.reading import decode_words, header_values
from validators.engine import RuleContext, validate
from validators.findings import Finding, has_errors
from validators.policy.dispatch import WantedFacts
from validators.policy.sender import not_an_agent
from validators.registry import RuleRegistry

__all__ = [
    "MAX_REFERENCES",
    "AnalysedMail",
    "Analysis",
    "AnalysisBudget",
    "NothingReadable",
    "Outcome",
    "ReadDeclaration",
    "SubmissionHeaders",
    "UnreadableDeclaration",
    "analyse",
    "is_automatic",
    "memory_exceeded",
    "over_budget",
    "read_headers",
    "time_exceeded",
]

MAX_REFERENCES = 20
"""Message-IDs of the submission's thread kept in a reply's References (RFC 5322 3.6.4
lets a long thread be trimmed)."""

_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_MSG_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")
# A boundary parameter, or a line that may be a MIME delimiter ("--boundary", "--boundary--").
_MIME_SHAPE: Final = re.compile(
    rb'boundary[ \t]*=[ \t]*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))|^--([^\r\n]{1,202})\r?$',
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class AnalysisBudget:
    """How much of the gateway one submission may take; beyond it, the mail is not read.

    Counted before anything is parsed, so a mail of a hundred thousand MIME parts costs a
    scan of its bytes, not ten seconds of the parser. ``seconds`` is enforced by the pool:
    the worker process that overruns it is killed and replaced.
    """

    max_bytes: int = 32 * 1024 * 1024
    max_parts: int = 1000
    max_depth: int = 20
    seconds: float = 30.0
    memory: int = 768 * 1024 * 1024
    """Bytes of memory reading one mail may take in its process, beyond what the process
    holds before its first mail (tables, rules); enforced there by the kernel
    (``pool``). A 13 MB flat DUA of 99 999 series takes about 330 MiB to read."""

    def __post_init__(self) -> None:
        limits = (self.max_bytes, self.max_parts, self.max_depth, self.memory)
        if min(limits) < 1 or self.seconds <= 0:
            raise ValueError("every analysis limit must be positive")


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class SubmissionHeaders:
    """What the replies need from the submission's header: threading and a subject to quote."""

    message_id: str | None = None
    references: str | None = None
    subject: str | None = None
    automatic: bool = False
    """Sent by a program, not a person (RFC 3834 §2, §5): answering it could start a loop."""


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class ReadDeclaration:
    """A declaration that was read and validated; accepted when no finding is an error."""

    document: ExtractedDocument
    declaration: DUA | OE
    findings: tuple[Finding, ...]

    @property
    def accepted(self) -> bool:
        return not has_errors(self.findings)


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class UnreadableDeclaration:
    """A document found in the mail that could not be read as a declaration.

    ``identity`` is what could still be read of it (the reference from a legible header
    record, say), so that the rejection names the declaration it answers.
    """

    document: ExtractedDocument
    error: DeclarationSyntaxError
    identity: DeclarationIdentity = field(default_factory=DeclarationIdentity)


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class NothingReadable:
    """The mail held no declaration at all; ``notes`` say what it held instead."""

    notes: tuple[str, ...]


Outcome = ReadDeclaration | UnreadableDeclaration | NothingReadable


@dataclass(frozen=True)  # not slotted: crosses the pool's pipe (see gateway.mail.template)
class Analysis:
    headers: SubmissionHeaders
    outcomes: tuple[Outcome, ...]
    problems: tuple[str, ...] = ()
    """For the operator's log: what failed in the gateway while reading (a traceback per
    document answered ``FMT-FAILED``); never shown to the agent."""


class AnalysedMail(NamedTuple):
    """What the node needs of a mail's ``Analysis``, and the analysis as its pickle.

    The node reads the answer's facts and commits with these few values; the analysis itself
    (the declarations as read, their findings) goes back to a worker process to be decided,
    as the bytes it came as. Unpickling it in the node cost more than everything else the
    node did with it; it is unpickled there only when an answer must be decided again in the
    transaction. A named tuple, not a dataclass: it unpickles without Python code.
    """

    headers: SubmissionHeaders
    problems: tuple[str, ...]
    """As ``Analysis.problems``: for the operator's log."""
    outcome_count: int
    references: tuple[tuple[str, str], ...]
    """The (agent code, reference) pairs whose answers on file the job may need
    (``core.references_on_file``)."""
    wanted: tuple[WantedFacts, ...]
    """The facts its declarations may need to be validated again (``core.wanted_facts``)."""
    pickled: bytes
    kept: int | None = None
    """The key under which the process that read the mail still holds its analysis, for
    deciding it there without unpickling it (``pool``); None: not held."""

    @classmethod
    def of(
        cls,
        analysis: Analysis,
        references: tuple[tuple[str, str], ...] = (),
        wanted: tuple[WantedFacts, ...] = (),
        kept: int | None = None,
    ) -> AnalysedMail:
        data = pickle.dumps(analysis, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(
            analysis.headers,
            analysis.problems,
            len(analysis.outcomes),
            references,
            wanted,
            data,
            kept,
        )

    def analysis(self) -> Analysis:
        analysis = pickle.loads(self.pickled)  # noqa: S301 - pickled by ``of``, in our process
        assert isinstance(analysis, Analysis)
        return analysis


_WANTED: Final = ("message-id", "references", "subject", "auto-submitted", "precedence", "list-id")


def read_headers(raw: bytes) -> SubmissionHeaders:
    """The submission's Message-ID, References and Subject, when present and readable.

    Read from the header bytes (``gateway.mail.reading``), not parsed with the email package:
    only these few fields are needed.
    """
    fields = {
        name: " ".join(value.split())
        for name, value in header_values(raw, _WANTED).items()
        if value.strip()
    }
    message_id = fields.get("message-id")
    if message_id is not None and not _MSG_ID.fullmatch(message_id):
        message_id = None  # not a msg-id we can thread to
    references = _MSG_ID.findall(fields.get("references", ""))[-MAX_REFERENCES:]
    subject = " ".join(decode_words(fields.get("subject", "")).split())
    return SubmissionHeaders(
        message_id=message_id,
        references=" ".join(references) or None,
        subject=subject or None,
        automatic=is_automatic(fields),
    )


def is_automatic(fields: Mapping[str, str]) -> bool:
    """Whether the mail says a program sent it: RFC 3834's signs and the older conventions.

    ``Auto-Submitted`` other than ``no`` (auto-replies, receipts, this node's own answers),
    ``Precedence: bulk|junk|list`` and a ``List-Id`` (mailing lists). ``fields`` are the
    header's values by lower-case name.
    """
    auto_submitted = fields.get("auto-submitted", "no").split(";")[0].strip().lower()
    precedence = fields.get("precedence", "").strip().lower()
    return (
        auto_submitted != "no"
        or precedence in _AUTOMATIC_PRECEDENCE
        or fields.get("list-id") is not None
    )


def _read(
    document: ExtractedDocument,
    context: RuleContext,
    registry: RuleRegistry | None,
    problems: list[str],
) -> Outcome:
    try:
        declaration = parse_declaration(document.data, document.format)
    except DeclarationSyntaxError as error:
        return UnreadableDeclaration(document, error, peek_identity(document.data, document.format))
    except MemoryError:
        raise  # the mail's budget, not this document's defect: the whole mail is answered
    except Exception:
        return _failed(document, problems)
    try:
        findings = validate(declaration, context, registry)
    except MemoryError:
        raise
    except Exception:
        return _failed(document, problems)
    if context.sender_agent_code is None:
        findings.insert(0, not_an_agent(declaration, context))
    return ReadDeclaration(document, declaration, tuple(findings))


def _failed(document: ExtractedDocument, problems: list[str]) -> UnreadableDeclaration:
    """The answer to a document that made a reader or the rule engine fail: a defect of the
    gateway this document triggers, answered at once (retrying would fail the same way) and
    on its own, so the mail's other declarations are still numbered."""
    problems.append(f"{document.source}: {traceback.format_exc()}")
    error = DeclarationSyntaxError(
        "FMT-FAILED",
        "la aduana no pudo leer ni validar este documento: su contenido hizo fallar el "
        "programa de recepción. Ninguna otra declaración del mensaje se ve afectada. "
        "Revise el documento y vuelva a transmitirlo; si el problema continúa, comuníquese "
        "con la intendencia de aduana.",
    )
    return UnreadableDeclaration(document, error, peek_identity(document.data, document.format))


def _messages(document: ExtractedDocument, problems: list[str]) -> list[ExtractedDocument]:
    """Each message of an EDIFACT interchange is a declaration of its own."""
    try:
        parts = split_document(document.data, document.format)
    except MemoryError:
        raise
    except Exception:  # answered whole: reading it will say what is wrong, or fail alone
        problems.append(f"{document.source}: {traceback.format_exc()}")
        return [document]
    if len(parts) == 1:
        return [document]
    return [
        ExtractedDocument(
            part, f"{document.source}, mensaje {number} del intercambio", document.format
        )
        for number, part in enumerate(parts, start=1)
    ]


def over_budget(raw: bytes, budget: AnalysisBudget) -> str | None:
    """Why ``raw`` is beyond ``budget``, in a broker's words; None when it is within it.

    Counts MIME parts and nesting from the delimiter lines of the boundaries the mail
    declares, in one scan that stops at the first limit passed: a part bomb is refused for
    the price of reading ``max_parts`` delimiters. A mail too short to hold more delimiter
    lines than ``max_parts``, and naming ``boundary`` no more often than ``max_depth``, can
    pass neither limit: it is not scanned (most declaration mails are a few kilobytes, and
    the scan cost ten times the count).
    """
    if len(raw) > budget.max_bytes:
        return (
            f"el mensaje tiene {len(raw):,} bytes y la aduana examina mensajes de hasta "
            f"{budget.max_bytes:,} bytes; no se examinó. Envíe sus declaraciones en mensajes "
            "más pequeños."
        ).replace(",", " ")
    if len(raw) < _fewest_bytes(budget.max_parts + 1) and (
        raw.lower().count(b"boundary") <= budget.max_depth
    ):
        return None
    return _scanned(raw, budget)


def _fewest_bytes(delimiters: int) -> int:
    """The shortest mail with this many delimiter lines: each is ``--`` and one character
    of a boundary, and all but the last end in a line break."""
    return 4 * delimiters - 1


def _scanned(raw: bytes, budget: AnalysisBudget) -> str | None:
    """``over_budget`` for the parts and the nesting, found by scanning ``raw``.

    Each boundary declared opens a container (a nesting level: ``boundary`` names it, once);
    each delimiter line of an open boundary is a part.
    """
    open_containers: list[bytes] = []  # boundaries of the multiparts open here, innermost last
    parts = 0
    for found in _MIME_SHAPE.finditer(raw):
        declared = found.group(1) or found.group(2)
        if declared is not None:
            open_containers.append(declared.rstrip())
            if len(open_containers) > budget.max_depth:
                return (
                    f"el mensaje anida partes MIME a más de {budget.max_depth} niveles (mensajes "
                    f"dentro de mensajes) y la aduana examina hasta {budget.max_depth}; no se "
                    "examinó. Adjunte la declaración directamente a un mensaje nuevo."
                )
            continue
        line = found.group(3).rstrip(b" \t")
        closing = line.endswith(b"--") and line[:-2] in open_containers
        boundary = line[:-2] if closing else line
        if boundary not in open_containers:
            continue  # a text line that starts with two dashes
        del open_containers[open_containers.index(boundary) + (0 if closing else 1) :]
        if closing:
            continue
        parts += 1
        if parts > budget.max_parts:
            return (
                f"el mensaje tiene más de {budget.max_parts:,} partes MIME (adjuntos y "
                f"secciones) y la aduana examina mensajes de hasta {budget.max_parts:,} partes; "
                "no se examinó. Envíe sus declaraciones en mensajes con menos adjuntos."
            ).replace(",", " ")
    return None


def time_exceeded(headers: SubmissionHeaders, budget: AnalysisBudget) -> Analysis:
    """The answer to a mail whose reading took longer than the budget allows."""
    seconds = "el segundo" if budget.seconds == 1 else f"los {budget.seconds:g} segundos"
    return _interrupted(headers, seconds)


def memory_exceeded(headers: SubmissionHeaders, budget: AnalysisBudget) -> Analysis:
    """The answer to a mail whose reading needed more memory than the budget allows."""
    megabytes = max(1, round(budget.memory / (1024 * 1024)))
    return _interrupted(headers, f"los {megabytes:,} MB de memoria".replace(",", " "))


def _interrupted(headers: SubmissionHeaders, limit: str) -> Analysis:
    note = (
        f"la lectura del mensaje excedió {limit} que la aduana dedica "
        "a un mensaje y se interrumpió. Envíe sus declaraciones en mensajes más pequeños o "
        "más simples."
    )
    return Analysis(headers, (NothingReadable((note,)),))


def analyse(
    raw: bytes,
    context: RuleContext,
    registry: RuleRegistry | None = None,
    budget: AnalysisBudget | None = None,
) -> Analysis:
    """Every declaration in ``raw``, read and validated; or why there is none.

    ``context.sender_agent_code`` None means the sender is no agent: every declaration is
    then rejected under TD-SENDER. A mail beyond ``budget`` gets one outcome naming the
    limit. Only a bug outside the readers and the rules raises.
    """
    headers = read_headers(raw)
    beyond = None if budget is None else over_budget(raw, budget)
    if beyond is not None:
        return Analysis(headers, (NothingReadable((beyond,)),))
    extraction = extract_documents(raw)
    problems: list[str] = []
    outcomes: tuple[Outcome, ...]
    if extraction.documents:
        documents = [part for found in extraction.documents for part in _messages(found, problems)]
        outcomes = tuple(_read(document, context, registry, problems) for document in documents)
    else:
        outcomes = (NothingReadable(tuple(extraction.notes)),)
    return Analysis(headers, outcomes, tuple(problems))
