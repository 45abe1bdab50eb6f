"""The one exception every declaration reader raises for input it cannot read.

A declaration that cannot be read still gets an answer: the pipeline turns this error into a
rejection, so it carries a stable code (for machines), a Spanish message (for the customs
broker) and where in the input the problem is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["SYNTAX_ERROR_CODES", "DeclarationSyntaxError"]

SYNTAX_ERROR_CODES: Final[dict[str, str]] = {
    "FMT-UNKNOWN": "the content is not a declaration in any known format",
    "FMT-EMPTY": "the document is empty",
    "FMT-ENCODING": "the bytes cannot be decoded in the declared or any accepted encoding",
    "FMT-RECORD": "unknown, misplaced or missing record",
    "FMT-FIELD": "wrong number of fields in a record, or a field that cannot be read",
    "FMT-CONTROL": "a field holds control characters",
    "FMT-VALUE": "a field holds a value the declaration model does not accept",
    "FMT-COUNT": "the trailer's record counts do not match the records sent",
    "FMT-TRUNCATED": "the document ends before its trailer record",
    "FMT-LIMIT": "the document exceeds a size limit (series, records or bytes)",
    "FMT-FAILED": "reading or checking the document failed in the gateway (a reader defect)",
    "JSON-SYNTAX": "the JSON text is not well formed",
    "EDI-SYNTAX": "EDIFACT syntax: bad UNA, unterminated segment, invalid segment tag",
    "EDI-CHARSET": "a byte or character the UNB syntax level does not allow, or an unknown level",
    "EDI-ENVELOPE": "UNB, UNH, UNT or UNZ missing, misplaced or malformed; references differ",
    "EDI-COUNT": "the segment count in UNT, the message count in UNZ or UNE, or CNT+5 is wrong",
    "EDI-TRUNCATED": "the interchange ends before its UNT or UNZ",
    "EDI-MESSAGE": "not a CUSDEC D.96B UN message",
    "EDI-SEGMENT": "a segment that cannot be mapped, out of order, repeated or missing",
    "EDI-VALUE": "an element value that cannot be read or that the declaration model refuses",
    "EDI-LIMIT": "too large to read, or a value D.96B cannot carry when writing",
}


class DeclarationSyntaxError(Exception):
    """Unreadable declaration: ``code`` (see SYNTAX_ERROR_CODES), Spanish ``message``, ``position``.

    ``position`` says where, in words a broker can follow ("línea 7, registro SER, campo
    subpartida"), or is None when the problem is the document as a whole.
    """

    def __init__(
        self,
        code: str,
        message: str,
        position: str | None = None,
        *,
        more: Sequence[DeclarationSyntaxError] = (),
    ) -> None:
        super().__init__(code, message, position)
        self.code = code
        self.message = message
        self.position = position
        self.more = tuple(more)
        """Further problems found in the same document (a reader that keeps going)."""

    @property
    def every(self) -> tuple[DeclarationSyntaxError, ...]:
        """This problem and the further ones, in the order found."""
        first = DeclarationSyntaxError(self.code, self.message, self.position)
        return (first, *self.more)

    def __str__(self) -> str:
        where = f" ({self.position})" if self.position else ""
        return f"{self.code}: {self.message}{where}"
