"""From a submitted mail to what must be answered: one outcome per declaration found.

Pure: bytes and a rule context in, values out; no store, no clock, no network. Numbering and
duplicate detection need the store and happen later, in the answering transaction
(``gateway.pipeline.answer``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

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
from validators.policy.sender import not_an_agent
from validators.registry import RuleRegistry

__all__ = [
    "MAX_REFERENCES",
    "Analysis",
    "NothingReadable",
    "Outcome",
    "ReadDeclaration",
    "SubmissionHeaders",
    "UnreadableDeclaration",
    "analyse",
    "is_automatic",
    "read_headers",
]

MAX_REFERENCES = 20
"""Message-IDs of the submission's thread kept in a reply's References (RFC 5322 3.6.4
lets a long thread be trimmed)."""

_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_MSG_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")


@dataclass(frozen=True, slots=True)
class SubmissionHeaders:
    """What the replies need from the submission's header: threading and a subject to quote."""

    message_id: str | None = None
    references: str | None = None
    subject: str | None = None
    automatic: bool = False
    """Sent by a program, not a person (RFC 3834 §2, §5): answering it could start a loop."""


@dataclass(frozen=True, slots=True)
class ReadDeclaration:
    """A declaration that was read and validated; accepted when no finding is an error."""

    document: ExtractedDocument
    declaration: DUA | OE
    findings: tuple[Finding, ...]

    @property
    def accepted(self) -> bool:
        return not has_errors(self.findings)


@dataclass(frozen=True, slots=True)
class UnreadableDeclaration:
    """A document found in the mail that could not be read as a declaration.

    ``identity`` is what could still be read of it (the reference from a legible header
    record, say), so that the rejection names the declaration it answers.
    """

    document: ExtractedDocument
    error: DeclarationSyntaxError
    identity: DeclarationIdentity = field(default_factory=DeclarationIdentity)


@dataclass(frozen=True, slots=True)
class NothingReadable:
    """The mail held no declaration at all; ``notes`` say what it held instead."""

    notes: tuple[str, ...]


Outcome = ReadDeclaration | UnreadableDeclaration | NothingReadable


@dataclass(frozen=True, slots=True)
class Analysis:
    headers: SubmissionHeaders
    outcomes: tuple[Outcome, ...]


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
    document: ExtractedDocument, context: RuleContext, registry: RuleRegistry | None
) -> Outcome:
    try:
        declaration = parse_declaration(document.data, document.format)
    except DeclarationSyntaxError as error:
        return UnreadableDeclaration(document, error, peek_identity(document.data, document.format))
    findings = validate(declaration, context, registry)
    if context.sender_agent_code is None:
        findings.insert(0, not_an_agent(declaration, context))
    return ReadDeclaration(document, declaration, tuple(findings))


def _messages(document: ExtractedDocument) -> list[ExtractedDocument]:
    """Each message of an EDIFACT interchange is a declaration of its own."""
    parts = split_document(document.data, document.format)
    if len(parts) == 1:
        return [document]
    return [
        ExtractedDocument(
            part, f"{document.source}, mensaje {number} del intercambio", document.format
        )
        for number, part in enumerate(parts, start=1)
    ]


def analyse(raw: bytes, context: RuleContext, registry: RuleRegistry | None = None) -> Analysis:
    """Every declaration in ``raw``, read and validated; or why there is none.

    ``context.sender_agent_code`` None means the sender is no agent: every declaration is
    then rejected under TD-SENDER. Only a bug raises.
    """
    extraction = extract_documents(raw)
    outcomes: tuple[Outcome, ...]
    if extraction.documents:
        documents = [part for found in extraction.documents for part in _messages(found)]
        outcomes = tuple(_read(document, context, registry) for document in documents)
    else:
        outcomes = (NothingReadable(tuple(extraction.notes)),)
    return Analysis(read_headers(raw), outcomes)
