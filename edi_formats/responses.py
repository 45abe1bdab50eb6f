"""The office's machine-readable answer to one declaration: accepted (number, channel) or not.

It is attached to every reply mail in the format the agent used (flat or JSON; EDIFACT CUSRES
later), so the agent's software can file the number without reading the Spanish text. A
declaration that could not even be read still gets one: ``from_syntax_error`` makes the
finding, and reference, type and office are whatever could be recovered (or None).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from edi_formats.errors import DeclarationSyntaxError

__all__ = [
    "Channel",
    "DeclarationResponse",
    "FindingLike",
    "ResponseFinding",
    "ResponseStatus",
]

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def _one_line(value: Any) -> Any:
    """Control characters (a message's line breaks) become one space: responses are records."""
    if isinstance(value, str):
        return _CONTROL.sub(" ", value).strip()
    return value


OneLine = Annotated[str, BeforeValidator(_one_line), Field(min_length=1)]


class ResponseStatus(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Channel(StrEnum):
    """Control channel assigned on acceptance (seed 004 VI.16)."""

    VERDE = "verde"
    NARANJA = "naranja"
    ROJO = "rojo"


class FindingLike(Protocol):
    """What a rule engine finding offers (``validators.findings.Finding`` fits)."""

    @property
    def rule_id(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def field(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def citation(self) -> str | None: ...


class ResponseFinding(BaseModel):
    """One reason for rejection (error) or observation (warning), as the agent receives it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: OneLine
    severity: Literal["error", "warning"]
    field: OneLine | None = None
    message: OneLine
    citation: OneLine | None = None

    @classmethod
    def from_finding(cls, finding: FindingLike) -> ResponseFinding:
        return cls(
            rule_id=finding.rule_id,
            severity=str(finding.severity),  # type: ignore[arg-type]
            field=finding.field or None,
            message=finding.message,
            citation=finding.citation or None,
        )

    @classmethod
    def from_syntax_error(cls, error: DeclarationSyntaxError) -> ResponseFinding:
        """An unreadable declaration's finding: the error code is the rule id."""
        return cls(
            rule_id=error.code,
            severity="error",
            field=error.position or None,
            message=error.message,
            citation="formato de transmisión (docs/formats.md)",
        )


class DeclarationResponse(BaseModel):
    """The answer to one declaration.

    ``number`` and ``channel`` are set exactly when ``status`` is accepted; findings may
    hold warnings on an acceptance, and hold every error of a rejection.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: ResponseStatus
    document_type: Literal["DUA", "OE"] | None = None
    office: Annotated[str, Field(pattern=r"^\d{3}$")] | None = None
    agent_reference: OneLine | None = None
    number: Annotated[str, Field(pattern=r"^\d{3}-\d{4}-\d{2}-\d{6}$")] | None = None
    channel: Channel | None = None
    received_at: AwareDatetime
    findings: tuple[ResponseFinding, ...] = ()

    @model_validator(mode="after")
    def _number_only_on_acceptance(self) -> DeclarationResponse:
        accepted = self.status is ResponseStatus.ACCEPTED
        if accepted != (self.number is not None) or accepted != (self.channel is not None):
            raise ValueError("number and channel go with an accepted status, and only with it")
        if not accepted and not any(f.severity == "error" for f in self.findings):
            raise ValueError("a rejection needs at least one error finding")
        return self

    @classmethod
    def rejected_unreadable(
        cls,
        error: DeclarationSyntaxError,
        received_at: datetime,
        *,
        office: str | None = None,
        agent_reference: str | None = None,
        document_type: Literal["DUA", "OE"] | None = None,
    ) -> DeclarationResponse:
        """The rejection of a declaration that could not be read (its reference if legible)."""
        return cls(
            status=ResponseStatus.REJECTED,
            office=office,
            agent_reference=agent_reference,
            document_type=document_type,
            received_at=received_at,
            findings=tuple(ResponseFinding.from_syntax_error(each) for each in error.every),
        )
