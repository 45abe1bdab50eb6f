"""DUP: what the answer on file for an agent's reference means for a new submission.

An *accepted* reference is final: the same declaration again gets the same answer (no second
number); a different declaration under it is rejected, naming the accepted number. A
*rejected* reference is not final: a rejection consumes no number, so the broker may correct
the declaration and resend it under the same reference, and it is validated anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edi_formats.models import DUA, OE
from validators.context import transmission_date
from validators.findings import Finding
from validators.rules.pipeline import reference_taken

__all__ = ["AcceptedOnFile", "Repeat", "Taken", "duplicate"]


@dataclass(frozen=True, slots=True)
class AcceptedOnFile:
    """The accepted answer on file for the reference, as DUP needs it."""

    number: str
    channel: str | None
    document_digest: str | None
    """None for answers recorded before digests were kept: taken as the same document."""
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    """The same declaration again: answer with the reply on file."""

    number: str
    channel: str | None


@dataclass(frozen=True, slots=True)
class Taken:
    """Another declaration under an accepted reference: rejected with this finding."""

    finding: Finding


def duplicate(
    declaration: DUA | OE, fingerprint: str, on_file: AcceptedOnFile | None
) -> Repeat | Taken | None:
    """DUP's decision; None when the declaration is judged on its own (no accepted answer)."""
    if on_file is None:
        return None
    if on_file.document_digest in (None, fingerprint):
        return Repeat(on_file.number, on_file.channel)
    accepted_on = transmission_date(on_file.received_at) if on_file.received_at else None
    return Taken(reference_taken(declaration, number=on_file.number, accepted_on=accepted_on))
