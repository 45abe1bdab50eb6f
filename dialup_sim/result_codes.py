"""Result codes: each vendor's table, as data, and the two wire formats.

Three tables, one per named profile (``dialup_sim.vendors``); docs/modem.md lists each with
the manual it comes from.

- ``HAYES``: the Hayes numbering that Rockwell's data pumps kept (0-8, 10 = 2400,
  11 = 4800, 12 = 9600, 13 = 7200, 14 = 12000, 15 = 14400, 16 = 19200, 17 = 38400,
  18 = 57600). Error control does not change the number; ``\\V1`` appends ``/REL`` to the
  words. ``W1`` adds Rockwell's extended messages (``CARRIER``, ``PROTOCOL``, ``COMPRESSION``)
  before ``CONNECT``.
- ``USR``: U.S. Robotics' numbering, as the Courier V.34 manual's table gives it (13 = 9600,
  18 = 4800, 20 = 7200, 21 = 12000, 25 = 14400, 6 = NO DIAL TONE, 8 = NO ANSWER, only
  after a dial with ``@``; 11 = RINGING and 12 = VOICE, which the simulator never sends);
  ``&A1`` appends ``/ARQ`` to the words, the number stays. X0 to X7.
- ``MICROCOM``: the "micro codes" table a 1990s communications library used for Microcom
  modems: 20-23 for reliable links up to 2400, 30/32 for 4800/9600 and 33 for 9600/REL; 31
  (4800/REL) follows the table's pattern. Rates Microcom did not list use ZyXEL's numbers.

Formats (USR and Rockwell manuals): verbose is ``CR LF text CR LF``; numeric is the code and
``CR`` with nothing before it; CR and LF are the characters in S3 and S4. A code the X level
hides is reported as ``NO CARRIER``, which is what a modem that is not listening for busy or
dial tone ends up seeing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

__all__ = [
    "HAYES",
    "LINE_RATES",
    "MICROCOM",
    "USR",
    "ConnectInfo",
    "Result",
    "ResultTable",
    "connect_code",
    "format_info",
    "format_result",
    "progress_messages",
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


_ALWAYS: Final = frozenset(
    {Result.OK, Result.CONNECT, Result.RING, Result.NO_CARRIER, Result.ERROR}
)
_HAYES_X: Final[dict[int, frozenset[Result]]] = {
    0: frozenset(),
    1: frozenset({Result.NO_ANSWER}),
    2: frozenset({Result.NO_ANSWER, Result.NO_DIALTONE}),
    3: frozenset({Result.NO_ANSWER, Result.BUSY}),
    4: frozenset({Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE}),
}


@dataclass(frozen=True, slots=True)
class ResultTable:
    """One vendor's result codes and what each X level reports."""

    name: str
    basic: Mapping[Result, tuple[int, str]]
    connect: Mapping[int, int]  # line rate -> code of "CONNECT <rate>"
    reliable_suffix: str  # appended to the words of a reliable link ("/REL", "/ARQ")
    x_extras: Mapping[int, frozenset[Result]]  # beyond OK, CONNECT, RING, NO CARRIER, ERROR
    connect_reliable: Mapping[int, int] = field(default_factory=dict)  # own codes, if any
    carrier: Mapping[int, int] = field(default_factory=dict)  # W1: "CARRIER <rate>" codes
    protocol: Mapping[str, int] = field(default_factory=dict)  # W1: "PROTOCOL: ..." codes
    compression: Mapping[str, int] = field(default_factory=dict)  # W1: "COMPRESSION: ..."

    @property
    def x_levels(self) -> range:
        return range(len(self.x_extras))


def _basic(no_dialtone: str = "NO DIALTONE") -> dict[Result, tuple[int, str]]:
    return {
        Result.OK: (0, "OK"),
        Result.CONNECT: (1, "CONNECT"),
        Result.RING: (2, "RING"),
        Result.NO_CARRIER: (3, "NO CARRIER"),
        Result.ERROR: (4, "ERROR"),
        Result.NO_DIALTONE: (6, no_dialtone),
        Result.BUSY: (7, "BUSY"),
        Result.NO_ANSWER: (8, "NO ANSWER"),
    }


HAYES: Final = ResultTable(
    name="Hayes / Rockwell",
    basic=_basic(),
    connect={
        300: 1,
        600: 9,
        1200: 5,
        2400: 10,
        4800: 11,
        7200: 13,
        9600: 12,
        12000: 14,
        14400: 15,
        19200: 16,
        38400: 17,
        57600: 18,
    },
    reliable_suffix="/REL",
    x_extras=_HAYES_X,
    carrier={
        300: 40,
        1200: 46,
        2400: 47,
        4800: 48,
        7200: 49,
        9600: 50,
        12000: 51,
        14400: 52,
    },
    protocol={"NONE": 70, "ALTERNATE, +CLASS 4": 82},
    compression={"CLASS 5": 66, "NONE": 69},
)

USR: Final = ResultTable(
    name="U.S. Robotics",
    basic=_basic("NO DIAL TONE"),
    connect={
        300: 1,
        1200: 5,
        2400: 10,
        4800: 18,
        7200: 20,
        9600: 13,
        12000: 21,
        14400: 25,
    },  # a Sportster 14,400 has no faster modulation: others answer code 1
    reliable_suffix="/ARQ",
    x_extras={
        0: frozenset(),
        1: frozenset({Result.NO_ANSWER}),
        2: frozenset({Result.NO_ANSWER, Result.NO_DIALTONE}),
        3: frozenset({Result.NO_ANSWER, Result.BUSY}),
        4: frozenset({Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE}),
        5: frozenset({Result.NO_ANSWER, Result.BUSY}),
        6: frozenset({Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE}),
        7: frozenset({Result.NO_ANSWER, Result.BUSY, Result.NO_DIALTONE}),
    },
)

MICROCOM: Final = ResultTable(
    name="Microcom",
    basic=_basic(),
    connect={
        300: 1,
        600: 9,
        1200: 5,
        2400: 10,
        4800: 30,
        9600: 32,
        7200: 24,
        12000: 25,
        14400: 13,
        19200: 14,
        38400: 28,
        57600: 18,
    },
    connect_reliable={
        300: 20,
        600: 21,
        1200: 22,
        2400: 23,
        4800: 31,
        9600: 33,
        7200: 24,
        12000: 25,
        14400: 13,
        19200: 14,
        38400: 28,
        57600: 18,
    },
    reliable_suffix="/REL",
    x_extras=_HAYES_X,
)

LINE_RATES: Final[tuple[int, ...]] = tuple(sorted(HAYES.connect))
"""The line rates every table can report, 300 to 57 600 bps."""


def visible_result(result: Result, x_level: int, table: ResultTable = HAYES) -> Result:
    """The code a modem at ``x_level`` reports for ``result``."""
    if result in _ALWAYS or result in table.x_extras[x_level]:
        return result
    return Result.NO_CARRIER


def connect_code(
    info: ConnectInfo, x_level: int, rel_codes: bool, table: ResultTable = HAYES
) -> tuple[int, str]:
    """Numeric code and text of the connect message for this link and settings."""
    if x_level == 0:
        return 1, "CONNECT"
    reliable = info.reliable and rel_codes
    codes = table.connect_reliable if reliable and table.connect_reliable else table.connect
    code = codes.get(info.bps, 1)
    text = "CONNECT" if info.bps == 300 else f"CONNECT {info.bps}"
    return code, text + (table.reliable_suffix if reliable else "")


def progress_messages(info: ConnectInfo, table: ResultTable) -> list[tuple[int, str]]:
    """Rockwell's ``W1`` messages before ``CONNECT``: carrier, protocol, compression."""
    messages: list[tuple[int, str]] = []
    if info.bps in table.carrier:
        messages.append((table.carrier[info.bps], f"CARRIER {info.bps}"))
    protocol = "ALTERNATE, +CLASS 4" if info.reliable else "NONE"
    if protocol in table.protocol:
        messages.append((table.protocol[protocol], f"PROTOCOL: {protocol}"))
    compression = "CLASS 5" if info.compression else "NONE"
    if compression in table.compression:
        messages.append((table.compression[compression], f"COMPRESSION: {compression}"))
    return messages


def _frame(code: int, text: str, verbose: bool, cr: bytes, lf: bytes) -> bytes:
    if verbose:
        return cr + lf + text.encode("ascii") + cr + lf
    return str(code).encode("ascii") + cr


def format_result(
    result: Result,
    *,
    verbose: bool,
    x_level: int,
    cr: bytes = b"\r",
    lf: bytes = b"\n",
    connect: ConnectInfo | None = None,
    rel_codes: bool = True,
    table: ResultTable = HAYES,
    extended: bool = False,
) -> bytes:
    """The bytes the modem sends to the DTE for ``result`` (``Q`` is the caller's business).

    ``extended`` (Rockwell ``W1``) puts the carrier, protocol and compression messages
    before a ``CONNECT``."""
    shown = visible_result(result, x_level, table)
    if shown is not Result.CONNECT:
        code, text = table.basic[shown]
        return _frame(code, text, verbose, cr, lf)
    if connect is None:
        raise ValueError("a CONNECT result needs the negotiated link")
    out = b""
    if extended and x_level > 0:
        for code, text in progress_messages(connect, table):
            out += _frame(code, text, verbose, cr, lf)
    code, text = connect_code(connect, x_level, rel_codes, table)
    return out + _frame(code, text, verbose, cr, lf)


def format_info(text: str, *, verbose: bool, cr: bytes = b"\r", lf: bytes = b"\n") -> bytes:
    """Information text (``ATI``, ``ATSn?``, ``AT&V``): framed like a verbose result in V1,
    followed by ``CR LF`` only in V0, as Hayes-compatible modems do."""
    body = (cr + lf).join(line.encode("ascii") for line in text.splitlines())
    if verbose:
        return cr + lf + body + cr + lf
    return body + cr + lf
