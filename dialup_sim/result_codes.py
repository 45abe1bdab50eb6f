"""Result codes: one vendor's profile, as data, and the two wire formats.

The profile is Microcom's (the company that defined MNP), with the "modified REL" connect
codes of ``\\V1``: ``CONNECT 9600/REL`` is 33, ``CONNECT 9600`` is 32. The numbers are the
"micro codes" table a 1990s communications library used to recognise Microcom modems:
0-10 as on every Hayes-compatible modem, 20-23 for reliable links up to 2400, 30 and 32 for
4800 and 9600, 33 for 9600/REL. 31 (4800/REL) follows the table's pattern (reliable = plain
+ 1) and is the only derived entry. Microcom's table stops at 9600; line rates it does not
list get the ZyXEL numbers (7200 = 24, 12000 = 25, 14400 = 13, 19200 = 14, 38400 = 28,
57600 = 18), which collide with no Microcom code, and their /REL form reports the same
number in numeric mode.

Formats (USR and Rockwell manuals): verbose is ``CR LF text CR LF``; numeric is the code and
``CR`` with nothing before it; CR and LF are the characters in S3 and S4.

X levels (Hayes): X0 reports only 0-4 and a bare ``CONNECT``; X1 adds the speed (and /REL)
and ``NO ANSWER``; X2 adds ``NO DIALTONE``; X3 adds ``BUSY`` but not ``NO DIALTONE``; X4
reports everything. A code the level hides is reported as ``NO CARRIER``, which is what a
modem that is not listening for busy or dial tone ends up seeing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

__all__ = [
    "LINE_RATES",
    "ConnectInfo",
    "Result",
    "connect_code",
    "format_info",
    "format_result",
    "visible_result",
]


class Result(Enum):
    """Call-progress and command outcomes (the connect speed travels in ``ConnectInfo``)."""

    OK = "OK"
    CONNECT = "CONNECT"
    RING = "RING"
    NO_CARRIER = "NO CARRIER"
    ERROR = "ERROR"
    NO_DIALTONE = "NO DIALTONE"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"


_BASIC_CODES: Final[dict[Result, int]] = {
    Result.OK: 0,
    Result.CONNECT: 1,
    Result.RING: 2,
    Result.NO_CARRIER: 3,
    Result.ERROR: 4,
    Result.NO_DIALTONE: 6,
    Result.BUSY: 7,
    Result.NO_ANSWER: 8,
}

# (line rate, reliable) -> (numeric code, verbose text)
_CONNECT_CODES: Final[dict[tuple[int, bool], tuple[int, str]]] = {
    (300, False): (1, "CONNECT"),
    (300, True): (20, "CONNECT/REL"),
    (600, False): (9, "CONNECT 600"),
    (600, True): (21, "CONNECT 600/REL"),
    (1200, False): (5, "CONNECT 1200"),
    (1200, True): (22, "CONNECT 1200/REL"),
    (2400, False): (10, "CONNECT 2400"),
    (2400, True): (23, "CONNECT 2400/REL"),
    (4800, False): (30, "CONNECT 4800"),
    (4800, True): (31, "CONNECT 4800/REL"),
    (9600, False): (32, "CONNECT 9600"),
    (9600, True): (33, "CONNECT 9600/REL"),
    # Rates beyond Microcom's table (ZyXEL numbering; /REL shares the plain number).
    (7200, False): (24, "CONNECT 7200"),
    (7200, True): (24, "CONNECT 7200/REL"),
    (12000, False): (25, "CONNECT 12000"),
    (12000, True): (25, "CONNECT 12000/REL"),
    (14400, False): (13, "CONNECT 14400"),
    (14400, True): (13, "CONNECT 14400/REL"),
    (19200, False): (14, "CONNECT 19200"),
    (19200, True): (14, "CONNECT 19200/REL"),
    (38400, False): (28, "CONNECT 38400"),
    (38400, True): (28, "CONNECT 38400/REL"),
    (57600, False): (18, "CONNECT 57600"),
    (57600, True): (18, "CONNECT 57600/REL"),
}

LINE_RATES: Final[tuple[int, ...]] = tuple(sorted({rate for rate, _ in _CONNECT_CODES}))
"""The line rates the profile can report, 300 to 57 600 bps."""

# Codes each X level reports besides OK, CONNECT, RING, NO CARRIER and ERROR.
_X_EXTRAS: Final[dict[int, frozenset[Result]]] = {
    0: frozenset(),
    1: frozenset({Result.NO_ANSWER}),
    2: frozenset({Result.NO_ANSWER, Result.NO_DIALTONE}),
    3: frozenset({Result.NO_ANSWER, Result.BUSY}),
    4: frozenset({Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE}),
}
_ALWAYS: Final = frozenset(
    {Result.OK, Result.CONNECT, Result.RING, Result.NO_CARRIER, Result.ERROR}
)


@dataclass(frozen=True, slots=True)
class ConnectInfo:
    """What the link negotiated, as the connect message reports it."""

    bps: int
    reliable: bool
    compression: bool = False

    def describe(self) -> str:
        """Human summary for logs and ``ATI6``: ``9600 MNP5``, ``9600 MNP4``, ``9600 NONE``."""
        if not self.reliable:
            return f"{self.bps} NONE"
        return f"{self.bps} {'MNP5' if self.compression else 'MNP4'}"


def visible_result(result: Result, x_level: int) -> Result:
    """The code a modem at ``x_level`` reports for ``result``."""
    if result in _ALWAYS or result in _X_EXTRAS[x_level]:
        return result
    return Result.NO_CARRIER


def connect_code(info: ConnectInfo, x_level: int, rel_codes: bool) -> tuple[int, str]:
    """Numeric code and text of the connect message for this link and settings."""
    if x_level == 0:
        return 1, "CONNECT"
    return _CONNECT_CODES[(info.bps, info.reliable and rel_codes)]


def format_result(
    result: Result,
    *,
    verbose: bool,
    x_level: int,
    cr: bytes = b"\r",
    lf: bytes = b"\n",
    connect: ConnectInfo | None = None,
    rel_codes: bool = True,
) -> bytes:
    """The bytes the modem sends to the DTE for ``result`` (``Q`` is the caller's business)."""
    shown = visible_result(result, x_level)
    if shown is Result.CONNECT:
        if connect is None:
            raise ValueError("a CONNECT result needs the negotiated link")
        code, text = connect_code(connect, x_level, rel_codes)
    else:
        code, text = _BASIC_CODES[shown], shown.value
    if verbose:
        return cr + lf + text.encode("ascii") + cr + lf
    return str(code).encode("ascii") + cr


def format_info(text: str, *, verbose: bool, cr: bytes = b"\r", lf: bytes = b"\n") -> bytes:
    """Information text (``ATI``, ``ATSn?``, ``AT&V``): framed like a verbose result in V1,
    followed by ``CR LF`` only in V0, as Hayes-compatible modems do."""
    body = (cr + lf).join(line.encode("ascii") for line in text.splitlines())
    if verbose:
        return cr + lf + body + cr + lf
    return body + cr + lf
