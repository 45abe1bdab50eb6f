"""The modem's settings block: what ``&W`` stores, ``Z`` restores and ``&F`` resets.

The fields are what the modem acts on; ``options`` keeps the last value of every command
typed (modelled or not), which ``AT&V`` lists. Which command sets which field is the
vendor's business (``dialup_sim.vendors``): ``&K`` is flow control on a Rockwell modem and
compression on a Sportster. The defaults here are those of the default (Hayes/Rockwell)
profile as Teledespacho ships it: echo on, verbose results, X4, auto-reliable MNP
(``\\N3``) with MNP 5 compression on (``%C1``) and the "modified REL" connect messages
(``\\V1``), so that a negotiated link announces itself as ``CONNECT 9600/REL``.
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
    LAPM = 4  # V.42 LAPM or hang up (Rockwell \\N4; no simulated modem speaks LAPM)


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
    connect_form: int = 0  # W: 0 CONNECT at the DTE rate, 1 W0 + carrier/protocol, 2 DCE rate
    registers: SRegisters = field(default_factory=SRegisters)
    options: dict[str, int] = field(default_factory=dict)  # last value of each command

    def copy(self) -> ModemProfile:
        return replace(self, registers=self.registers.copy(), options=dict(self.options))

    def set(self, name: str, value: int) -> None:
        """Set the field ``name`` from a command's number, in the field's own type."""
        current = getattr(self, name)
        if isinstance(current, bool):
            setattr(self, name, bool(value))
        elif isinstance(current, ErrorControl):
            setattr(self, name, ErrorControl(value))
        else:
            setattr(self, name, value)
