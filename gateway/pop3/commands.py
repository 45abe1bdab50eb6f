"""Parsing one POP3 command line into a ``Command`` (RFC 1939 section 3, RFC 2449 section 4).

Parsing only checks the *shape* of a command: a known keyword and the right number and form
of arguments. Whether the command is allowed now is the state table's business
(``gateway.pop3.state``), and whether message 7 exists is the session's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from gateway.pop3 import replies
from gateway.pop3.errors import BadCommand

__all__ = ["KEYWORDS", "Command", "parse_command"]

# Twenty digits: clients ask TOP n 2^63-1 for "the whole message" (no number is that big).
_NUMBER: Final = re.compile(r"[0-9]{1,20}")
_APOP_DIGEST: Final = re.compile(r"[0-9a-fA-F]{32}")
_KEYWORD: Final = re.compile(r"[A-Za-z]{3,4}")


@dataclass(frozen=True, slots=True)
class _Arity:
    """How many space-separated arguments a keyword takes, and whether they are numbers."""

    minimum: int
    maximum: int
    numeric: bool = False


#: Every keyword this server understands and the arguments it takes. PASS is special: its
#: one argument is the rest of the line, spaces included (RFC 1939 section 7). RFC 1939's
#: 40-character cap on arguments is not enforced: user names here are mail addresses, often
#: longer, so only the 255-octet line limit applies. LAST (RFC 1725) is not supported.
KEYWORDS: Final[dict[str, _Arity]] = {
    "USER": _Arity(1, 1),
    "PASS": _Arity(1, 1),
    "APOP": _Arity(2, 2),
    "QUIT": _Arity(0, 0),
    "CAPA": _Arity(0, 0),
    "STAT": _Arity(0, 0),
    "LIST": _Arity(0, 1, numeric=True),
    "RETR": _Arity(1, 1, numeric=True),
    "DELE": _Arity(1, 1, numeric=True),
    "NOOP": _Arity(0, 0),
    "RSET": _Arity(0, 0),
    "TOP": _Arity(2, 2, numeric=True),
    "UIDL": _Arity(0, 1, numeric=True),
    "STLS": _Arity(0, 0),
    "AUTH": _Arity(0, 2),
}


@dataclass(frozen=True, slots=True)
class Command:
    """A syntactically valid command. ``args`` are strings; numeric ones are digits only."""

    keyword: str
    args: tuple[str, ...] = ()
    # Keep secrets (PASS argument) out of reprs and logs.
    _secret: bool = field(default=False, repr=False, compare=False)

    def __repr__(self) -> str:
        shown = ("***",) if self._secret else self.args
        return f"Command({self.keyword!r}, {shown!r})"

    def number(self, index: int) -> int:
        """Argument ``index`` as an int; only valid for keywords declared numeric."""
        return int(self.args[index])


def parse_command(line: bytes) -> Command:
    """Parse one line (terminator already removed).

    Raises:
        BadCommand: empty line, undecodable bytes, control characters, unknown keyword, or
            wrong arguments. Its ``reply`` is the ``-ERR`` line to send.
    """
    if not line.strip(b" \t"):
        raise BadCommand(replies.EMPTY_COMMAND)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise BadCommand(replies.BAD_ENCODING) from None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise BadCommand(replies.WRONG_ARGUMENTS)
    keyword, _, rest = text.partition(" ")
    if not _KEYWORD.fullmatch(keyword):
        raise BadCommand(replies.UNKNOWN_COMMAND)
    keyword = keyword.upper()
    arity = KEYWORDS.get(keyword)
    if arity is None:
        raise BadCommand(replies.UNKNOWN_COMMAND)
    if keyword == "PASS":
        if not rest:
            raise BadCommand(replies.WRONG_ARGUMENTS)
        return Command(keyword, (rest,), _secret=True)
    args = tuple(rest.split())
    if not arity.minimum <= len(args) <= arity.maximum:
        raise BadCommand(replies.WRONG_ARGUMENTS)
    if arity.numeric and not all(_NUMBER.fullmatch(arg) for arg in args):
        raise BadCommand(replies.WRONG_ARGUMENTS)
    if keyword == "APOP":
        if not _APOP_DIGEST.fullmatch(args[1]):
            raise BadCommand(replies.WRONG_ARGUMENTS)
        args = (args[0], args[1].lower())
    return Command(keyword, args)
