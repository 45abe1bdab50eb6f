"""What the call engines (the modem, the direct link) ask their I/O adapter to do.

Engines are sans-IO: inputs are method calls with the simulated time, outputs are these
events, drained with ``poll``. ``CallEngine`` is the surface the asyncio proxy drives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from dialup_sim.line import MnpLevel
from dialup_sim.stats import CallReport

__all__ = [
    "Answered",
    "CallEnded",
    "CallEngine",
    "CarrierChanged",
    "DialOutcome",
    "DialRequested",
    "Event",
    "ToCallee",
    "ToCaller",
]


@dataclass(frozen=True, slots=True)
class ToCaller:
    """Bytes for the calling program (the DTE): results, echo, data from the line."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ToCallee:
    """Bytes that have crossed the line and reach the called server."""

    data: bytes


@dataclass(frozen=True, slots=True)
class DialRequested:
    """The modem dialled ``number``: the adapter looks it up and answers ``dial_outcome``."""

    call_id: int
    number: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over: the adapter drops the server connection and frees the line.

    Sent exactly once for every ``DialRequested`` (and once for a direct call).
    """

    call_id: int
    report: CallReport


@dataclass(frozen=True, slots=True)
class Answered:
    """The modem picked up the incoming call ``call_id`` (``ATA`` or S0 rings): the adapter
    tells the calling modem (``DialOutcome.PICKED_UP``), with what this modem offers.

    Ended, like a dialled call, by exactly one ``CallEnded``."""

    call_id: int
    mnp: MnpLevel


@dataclass(frozen=True, slots=True)
class CarrierChanged:
    """DCD as the DTE should see it changed (``&C``), in order with the bytes around it:
    an adapter with a control line to drive (RFC 2217) reports it there."""

    on: bool


Event = ToCaller | ToCallee | DialRequested | CallEnded | Answered | CarrierChanged


class DialOutcome(Enum):
    """What the telephone network found at the dialled number."""

    ANSWERED = "answered"  # a modem picked up (the server accepted the connection)
    BUSY = "busy"  # every line of the number is in use
    RING_NO_ANSWER = "ring no answer"  # it rings, nobody answers (connection refused)
    NOT_IN_SERVICE = "not in service"  # no such number: no ringback, no carrier
    PICKED_UP = "picked up"  # a modem at the number went off hook just now


class CallEngine(Protocol):
    """One DTE's call, driven by an I/O adapter with simulated times."""

    def from_caller(self, data: bytes, now: float) -> None: ...

    def from_callee(self, data: bytes, now: float) -> None: ...

    def caller_closed(self, now: float) -> None: ...

    def callee_closed(self, now: float) -> None: ...

    def dial_outcome(
        self,
        call_id: int,
        outcome: DialOutcome,
        now: float,
        *,
        remote_mnp: MnpLevel | None = None,
    ) -> bool: ...

    def poll(self, now: float) -> list[Event]: ...

    def next_deadline(self) -> float | None: ...

    def settle_time(self) -> float | None: ...

    def caller_backlog(self, now: float) -> int: ...

    def callee_backlog(self, now: float) -> int: ...
