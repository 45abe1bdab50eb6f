"""Parser for the text of one AT command line (what follows ``AT``, up to CR).

Pure function of a string: no modem state. The line is parsed left to right and stops at the
first error, so the modem can execute the commands before it and then answer ``ERROR``, as
Hayes-compatible modems do. Letters are case-insensitive after the ``AT`` prefix; spaces
between commands are allowed. ``D`` takes the rest of the line (up to a ``;``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "AtCommand",
    "AtSyntaxError",
    "Command",
    "Dial",
    "ParsedLine",
    "ReadRegister",
    "SetRegister",
    "parse_command_line",
]

# Accepted commands and the argument values each takes (absent argument = 0).
_COMMANDS: Final[dict[str, frozenset[int]]] = {
    "A": frozenset({0}),
    "E": frozenset({0, 1}),
    "H": frozenset({0, 1}),
    "I": frozenset({0, 1, 2, 3, 4, 6}),
    "L": frozenset({0, 1, 2, 3}),
    "M": frozenset({0, 1, 2, 3}),
    "O": frozenset({0, 1}),
    "Q": frozenset({0, 1, 2}),
    "V": frozenset({0, 1}),
    "X": frozenset({0, 1, 2, 3, 4}),
    "Z": frozenset({0, 1}),
    "&C": frozenset({0, 1}),
    "&D": frozenset({0, 1, 2, 3}),
    "&F": frozenset({0}),
    "&K": frozenset({0, 3, 4}),
    "&V": frozenset({0}),
    "&W": frozenset({0, 1}),
    "\\N": frozenset({0, 1, 2, 3}),
    "\\V": frozenset({0, 1}),
    "\\Q": frozenset({0, 1, 2, 3}),
    "\\J": frozenset({0, 1}),
    "%C": frozenset({0, 1}),
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


def parse_command_line(body: str) -> ParsedLine:
    """Parse the text after ``AT`` (without the terminating CR)."""
    cursor = _Cursor(body.upper())
    commands: list[AtCommand] = []
    try:
        while True:
            while cursor.peek() == " ":
                cursor.take()
            if not cursor.peek():
                return ParsedLine(tuple(commands))
            commands.append(_parse_one(cursor))
    except AtSyntaxError as exc:
        return ParsedLine(tuple(commands), exc)


def _parse_one(cursor: _Cursor) -> AtCommand:
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
    allowed = _COMMANDS.get(name)
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
