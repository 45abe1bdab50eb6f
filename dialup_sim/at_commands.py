"""Parser for the text of one AT command line (what follows ``AT``, up to CR).

Pure function of a string: no modem state. The line is parsed left to right and stops at the
first error, so the modem can execute the commands before it and then answer ``ERROR``, as
Hayes-compatible modems do. Letters are case-insensitive after the ``AT`` prefix; spaces
between commands are allowed. ``D`` takes the rest of the line (up to a ``;``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "BASE_COMMANDS",
    "AtCommand",
    "AtSyntaxError",
    "Command",
    "Dial",
    "ParsedLine",
    "ReadRegister",
    "SetRegister",
    "parse_command_line",
]


def _upto(high: int) -> frozenset[int]:
    return frozenset(range(high + 1))


BASE_COMMANDS: Final[dict[str, frozenset[int]]] = {
    # Accepted commands and the argument values each takes (absent argument = 0): the
    # Hayes set with the Rockwell and Microcom extensions that 1990s init strings carry.
    "A": _upto(0),
    "B": _upto(1),  # CCITT or Bell at 300/1200
    "E": _upto(1),
    "H": _upto(1),
    "I": _upto(7),
    "L": _upto(3),
    "M": _upto(3),
    "N": _upto(1),  # automode
    "O": _upto(1),
    "P": _upto(0),  # pulse dialling by default
    "T": _upto(0),  # tone dialling by default
    "Q": _upto(2),
    "V": _upto(1),
    "W": _upto(2),  # connect message: DTE rate, extended, DCE rate
    "X": _upto(4),
    "Y": _upto(1),  # long-space disconnect
    "Z": _upto(1),
    "&B": _upto(2),
    "&C": _upto(1),
    "&D": _upto(3),
    "&F": _upto(0),
    "&G": _upto(2),  # guard tone
    "&J": _upto(1),
    "&K": frozenset({0, 3, 4, 5, 6}),
    "&L": _upto(1),  # leased line
    "&M": _upto(0),
    "&P": _upto(1),  # pulse make/break ratio
    "&Q": _upto(6),
    "&R": _upto(1),
    "&S": _upto(1),  # DSR
    "&T": _upto(8),
    "&V": _upto(0),
    "&W": _upto(1),
    "&X": _upto(2),
    "&Y": _upto(1),
    "\\A": _upto(3),  # MNP block size
    "\\B": _upto(9),  # break length
    "\\C": _upto(2),  # auto-reliable buffer
    "\\G": _upto(1),  # modem-to-modem flow control
    "\\J": _upto(1),  # bps rate adjust
    "\\K": _upto(5),  # break handling
    "\\N": _upto(5),
    "\\Q": _upto(3),
    "\\T": _upto(90),  # inactivity timer
    "\\V": _upto(1),
    "\\X": _upto(1),
    "%C": _upto(3),
    "%E": _upto(2),  # auto-retrain
}
_PREFIXES: Final = frozenset("&\\%")
_DIAL_DIGITS: Final = frozenset("0123456789*#ABCD")
_DIAL_IGNORED: Final = frozenset(" -().")
_MAX_DIGITS: Final = 3


class AtSyntaxError(ValueError):
    """The line has a command the modem does not know or an argument out of range."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"at {position}: {reason}")
        self.position = position
        self.reason = reason


_ASCII_DIGITS = frozenset("0123456789")
"""``str.isdigit`` also accepts '²' and other digits ``int`` refuses."""


@dataclass(frozen=True, slots=True)
class Command:
    """A command with an optional numeric argument, e.g. ``E0``, ``&W``, ``\\N3``."""

    name: str
    arg: int = 0


@dataclass(frozen=True, slots=True)
class SetRegister:
    register: int
    value: int


@dataclass(frozen=True, slots=True)
class ReadRegister:
    register: int


@dataclass(frozen=True, slots=True)
class Dial:
    """A ``D`` command with its modifiers decoded."""

    number: str  # the digits to dial, separators dropped
    pulse: bool = False  # P (else T, tone)
    redial: bool = False  # L: dial the last number again
    stay_in_command: bool = False  # ; : return to command mode after dialling
    wait_quiet: bool = False  # @: wait for quiet answer
    pauses: int = 0  # commas, S8 seconds each
    dial_tone_waits: int = 0  # W


AtCommand = Command | SetRegister | ReadRegister | Dial


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """The commands parsed before the first error, and that error if there was one."""

    commands: tuple[AtCommand, ...]
    error: AtSyntaxError | None = None


class _Cursor:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def number(self) -> int | None:
        start = self.pos
        while self.peek() in _ASCII_DIGITS:
            self.pos += 1
        digits = self.text[start : self.pos]
        if not digits:
            return None
        if len(digits) > _MAX_DIGITS:
            raise AtSyntaxError(start, f"number {digits!r} too long")
        return int(digits)


def parse_command_line(
    body: str, commands: Mapping[str, frozenset[int]] = BASE_COMMANDS
) -> ParsedLine:
    """Parse the text after ``AT`` (without the terminating CR) against a command table."""
    cursor = _Cursor(body.upper())
    parsed: list[AtCommand] = []
    try:
        while True:
            while cursor.peek() == " ":
                cursor.take()
            if not cursor.peek():
                return ParsedLine(tuple(parsed))
            parsed.append(_parse_one(cursor, commands))
    except AtSyntaxError as exc:
        return ParsedLine(tuple(parsed), exc)


def _parse_one(cursor: _Cursor, table: Mapping[str, frozenset[int]]) -> AtCommand:
    start = cursor.pos
    letter = cursor.take()
    if letter == "D":
        return _parse_dial(cursor)
    if letter == "S":
        return _parse_register(cursor, start)
    name = letter
    if letter in _PREFIXES:
        second = cursor.take()
        if not second.isalpha():
            raise AtSyntaxError(start, f"{letter!r} needs a letter after it")
        name = letter + second
    allowed = table.get(name)
    if allowed is None:
        raise AtSyntaxError(start, f"unknown command {name!r}")
    arg = cursor.number()
    value = 0 if arg is None else arg
    if value not in allowed:
        raise AtSyntaxError(start, f"{name}{value} is not supported")
    return Command(name, value)


def _parse_register(cursor: _Cursor, start: int) -> AtCommand:
    register = cursor.number()
    if register is None:
        raise AtSyntaxError(start, "S needs a register number")
    op = cursor.take()
    if op == "?":
        return ReadRegister(register)
    if op == "=":
        value = cursor.number()
        return SetRegister(register, 0 if value is None else value)
    raise AtSyntaxError(start, f"S{register} needs '=' or '?'")


def _parse_dial(cursor: _Cursor) -> Dial:
    digits: list[str] = []
    pulse = redial = wait_quiet = stay = False
    pauses = waits = 0
    first = True
    while cursor.peek():
        position = cursor.pos
        char = cursor.take()
        if char == ";":
            stay = True
            break
        if char in _DIAL_DIGITS:
            digits.append(char)
        elif char == "T":
            pulse = False
        elif char == "P":
            pulse = True
        elif char == "L" and first:
            redial = True
        elif char == ",":
            pauses += 1
        elif char == "W":
            waits += 1
        elif char == "@":
            wait_quiet = True
        elif char == "!" or char in _DIAL_IGNORED:
            pass
        else:
            raise AtSyntaxError(position, f"{char!r} is not valid in a dial string")
        if char not in "TP ":
            first = False
    return Dial(
        number="".join(digits),
        pulse=pulse,
        redial=redial,
        stay_in_command=stay,
        wait_quiet=wait_quiet,
        pauses=pauses,
        dial_tone_waits=waits,
    )
