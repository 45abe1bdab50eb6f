"""S-registers: the modem's numeric settings, readable with ``ATSn?`` and set with ``ATSn=v``.

Defaults follow the Rockwell RCV336ACX table (tcpser uses the same values), so programs that
tune S7 or S12 get what a 1997 modem would have given them. Times are in each register's
own unit; the helpers that turn them into seconds live here so nobody repeats the units.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULTS",
    "REGISTER_COUNT",
    "RING_COUNT_RESET",
    "SRegisterError",
    "SRegisters",
]

REGISTER_COUNT: Final = 31
"""Registers S0..S30 exist; any other number is an ``ERROR``."""

DEFAULTS: Final[dict[int, int]] = {
    0: 0,  # rings before auto-answer (0 = off)
    1: 0,  # ring counter (cleared after RING_COUNT_RESET seconds without a ring)
    2: 43,  # escape character '+' (128..255 disables the escape)
    3: 13,  # command line terminator (CR)
    4: 10,  # response formatting character (LF)
    5: 8,  # command line editing character (BS)
    6: 2,  # seconds to wait for dial tone when dialling blind
    7: 50,  # seconds to wait for carrier after dialling
    8: 2,  # seconds of pause for a comma in the dial string
    9: 6,  # carrier detect response time, 0.1 s
    10: 14,  # lost carrier to hang-up delay, 0.1 s
    11: 95,  # DTMF tone duration, ms
    12: 50,  # escape guard time, 1/50 s
    25: 5,  # DTR change detect time, 0.01 s
    30: 0,  # inactivity timer, 10 s units (0 = off)
}

RING_COUNT_RESET: Final = 8.0
"""Seconds without a ring after which S1 starts again from zero (Hayes)."""

_LIMITS: Final[dict[int, tuple[int, int]]] = {3: (0, 127), 4: (0, 127), 5: (0, 127)}


class SRegisterError(ValueError):
    """A register number or value outside what the modem accepts (answered with ``ERROR``)."""


class SRegisters:
    """The register file of one modem; copied for ``&W`` and restored by ``Z``."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[int, int] | None = None) -> None:
        self._values = [DEFAULTS.get(n, 0) for n in range(REGISTER_COUNT)]
        for number, value in (values or {}).items():
            self.set(number, value)

    def get(self, number: int) -> int:
        self._check_number(number)
        return self._values[number]

    def set(self, number: int, value: int) -> None:
        self._check_number(number)
        low, high = _LIMITS.get(number, (0, 255))
        if not low <= value <= high:
            raise SRegisterError(f"S{number} takes {low}..{high}, not {value}")
        self._values[number] = value

    def copy(self) -> SRegisters:
        clone = SRegisters()
        clone._values = list(self._values)
        return clone

    def __getitem__(self, number: int) -> int:
        return self.get(number)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SRegisters) and other._values == self._values

    # Derived values, in seconds or as bytes, so the units are converted in one place.

    @property
    def escape_char(self) -> int | None:
        """The escape character, or ``None`` when S2 > 127 disables the escape sequence."""
        value = self._values[2]
        return None if value > 127 else value

    @property
    def guard_time(self) -> float:
        return self._values[12] / 50.0

    @property
    def carrier_wait(self) -> float:
        return float(self._values[7])

    @property
    def dial_tone_wait(self) -> float:
        return float(self._values[6])

    @property
    def comma_pause(self) -> float:
        return float(self._values[8])

    @property
    def lost_carrier_delay(self) -> float:
        return self._values[10] / 10.0

    @property
    def dtmf_duration(self) -> float:
        return self._values[11] / 1000.0

    @property
    def cr(self) -> bytes:
        return bytes((self._values[3],))

    @property
    def lf(self) -> bytes:
        return bytes((self._values[4],))

    @property
    def backspace(self) -> int:
        return self._values[5]

    @staticmethod
    def _check_number(number: int) -> None:
        if not 0 <= number < REGISTER_COUNT:
            raise SRegisterError(f"there is no register S{number}")
