"""CONTRL: the syntax report for an interchange that could not be read (ISO 9735, version 3).

D.96B's CUSRES answers a declaration's content and says it does not replace CONTRL, so an
interchange rejected for its syntax (bad UNA or separators, a character its level does not
allow, an envelope that does not add up) is answered with a CONTRL as well: UCI names the
interchange (its control reference, sender and recipient) with action 4 (rejected) and, for an
envelope error, the ISO 9735 error code (0085); a problem inside a message adds UCM (the
message reference and type) and UCS (the segment position) with the code.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from edi_formats.edifact import codes as c
from edi_formats.edifact.identity import RequestReferences
from edi_formats.edifact.segments import Element
from edi_formats.edifact.syntax import SegmentSpec, write_interchange
from edi_formats.errors import DeclarationSyntaxError

__all__ = ["INTERCHANGE_ERRORS", "is_syntax_error", "render_contrl", "syntax_error_code"]

INTERCHANGE_ERRORS: Final = frozenset(
    {"EDI-SYNTAX", "EDI-CHARSET", "EDI-ENVELOPE", "EDI-COUNT", "EDI-TRUNCATED", "EDI-MESSAGE"}
)
"""The reader's codes for problems of the interchange's syntax, not of the declaration."""

REJECTED: Final = "4"
"""0083 action: this level and all lower levels rejected."""

_IN_MESSAGE: Final = re.compile(r"segmento (\d+) del mensaje \(([A-Z0-9]{3})\)")


def is_syntax_error(error: DeclarationSyntaxError) -> bool:
    """Whether ``error`` is about the interchange's syntax (CONTRL), not its content (CUSRES)."""
    if error.code not in INTERCHANGE_ERRORS:
        return False
    return not (error.code == "EDI-COUNT" and "(CNT)" in (error.position or ""))


def syntax_error_code(error: DeclarationSyntaxError) -> str:
    """The ISO 9735 syntax error code (0085) closest to the reader's finding."""
    text = f"{error.message} {error.position or ''}"
    if error.code == "EDI-CHARSET":
        return "2" if "juego de caracteres" in text else "21"
    if error.code == "EDI-SYNTAX":
        return "20" if "UNA" in text else "18"
    if error.code == "EDI-COUNT":
        return "29"  # control count does not match number of instances received
    if error.code == "EDI-MESSAGE":
        return "17"  # no agreement for this message type
    if error.code == "EDI-TRUNCATED" or "falta" in text:
        return "13"  # missing
    if "referencia" in text:
        return "28"  # references do not match
    return "12"  # invalid value


def render_contrl(
    error: DeclarationSyntaxError,
    request: RequestReferences,
    *,
    office: str | None,
    prepared: datetime,
    control_reference: str,
) -> bytes:
    """A CONTRL rejecting the interchange ``request`` describes, for ``error``."""
    code = syntax_error_code(error)
    place = _IN_MESSAGE.search(error.position or "")
    sender: Element = (request.sender or "", request.sender_qualifier or "")
    recipient: Element = (request.recipient or "", request.recipient_qualifier or "")
    uci: list[Element | None] = [
        request.control_reference or "",
        sender,
        recipient,
        REJECTED,
        None if place else code,
    ]
    body: list[SegmentSpec] = [("UCI", uci)]
    if place is not None:
        message_type = (request.message_type or c.CUSDEC.type, "D", "96B", "UN")
        body.append(("UCM", [request.message_reference or "", message_type, REJECTED, code]))
        body.append(("UCS", [place.group(1), code]))
    me = f"ADUANA{office}" if office else "ADUANAS"
    return write_interchange(
        sender=(me, c.PARTNER_QUALIFIER),
        recipient=(request.sender or "DESPACHADOR", request.sender_qualifier or ""),
        prepared=prepared,
        control_reference=control_reference,
        message_type=c.CONTRL,
        body=body,
    )
