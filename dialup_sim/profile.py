"""The modem's settings block: what ``&W`` stores, ``Z`` restores and ``&F`` resets.

Factory values are those of a 9600-bps MNP modem set up for Teledespacho: echo on, verbose
results, X4, auto-reliable MNP (``\\N3``) with MNP 5 compression on (``%C1``) and the
"modified REL" connect messages (``\\V1``), so that a negotiated link announces itself as
``CONNECT 9600/REL``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

from dialup_sim.sregisters import SRegisters

__all__ = ["ErrorControl", "ModemProfile"]


class ErrorControl(IntEnum):
    """Microcom ``\\N`` operating modes."""

    NORMAL = 0  # buffered, no MNP
    DIRECT = 1  # unbuffered, no MNP
    RELIABLE = 2  # MNP or hang up
    AUTO_RELIABLE = 3  # MNP if the far end has it, else NORMAL


@dataclass(slots=True)
class ModemProfile:
    """Everything a command line can change. Mutable: the modem edits its active copy."""

    echo: bool = True  # E
    verbose: bool = True  # V
    quiet: int = 0  # Q0 results, Q1 none, Q2 none of RING/CONNECT/NO CARRIER when answering
    x_level: int = 4  # X
    speaker: int = 1  # M (stored only)
    volume: int = 2  # L (stored only)
    error_control: ErrorControl = ErrorControl.AUTO_RELIABLE  # \N
    compression: bool = True  # %C
    rel_codes: bool = True  # \V
    dcd_mode: int = 1  # &C: 0 DCD always on, 1 follows carrier
    dtr_mode: int = 2  # &D: 0 ignore, 1 online-command, 2 hang up, 3 reset
    flow_control: int = 3  # &K: 0 none, 3 RTS/CTS, 4 XON/XOFF
    registers: SRegisters = field(default_factory=SRegisters)

    def copy(self) -> ModemProfile:
        return replace(self, registers=self.registers.copy())

    @property
    def detects_busy(self) -> bool:
        """X3 and X4 listen for the busy tone; below that the modem waits out S7."""
        return self.x_level >= 3

    @property
    def detects_dial_tone(self) -> bool:
        """X2 and X4 wait for dial tone; the others dial blind after S6 seconds."""
        return self.x_level in (2, 4)

    def describe(self) -> str:
        """The ``AT&V`` listing of the active settings."""
        flags = (
            f"E{int(self.echo)} L{self.volume} M{self.speaker} Q{self.quiet} "
            f"V{int(self.verbose)} X{self.x_level} &C{self.dcd_mode} &D{self.dtr_mode} "
            f"&K{self.flow_control} \\N{int(self.error_control)} \\V{int(self.rel_codes)} "
            f"%C{int(self.compression)}"
        )
        regs = " ".join(
            f"S{n:02d}:{self.registers[n]:03d}" for n in (0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
        )
        return f"ACTIVE PROFILE:\n{flags}\n{regs}"
