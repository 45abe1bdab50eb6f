"""Counters of one call: kept by the line model, printed on hang-up, shown by ``ATI6``."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CallReport", "DirectionStats"]


@dataclass(slots=True)
class DirectionStats:
    """One direction of the line (caller to callee is "up")."""

    accepted: int = 0  # octets taken from the sending DTE
    delivered: int = 0  # octets handed to the receiving DTE
    frames: int = 0  # MNP frames sent, retransmissions included
    retransmissions: int = 0  # MNP frames that had to be sent again
    line_bits: int = 0  # bits put on the line (framing and retransmissions included)
    corrupted: int = 0  # octets that arrived damaged (no error control only)


@dataclass(slots=True)
class CallReport:
    """What happened on one call, in simulated seconds."""

    call_id: int
    number: str = ""
    result: str = ""  # the connect message, or the failure result
    mode: str = ""  # e.g. "9600 MNP5"
    dialed_at: float | None = None
    connected_at: float | None = None
    ended_at: float | None = None
    reason: str = ""
    overrun: int = 0  # octets from the DTE lost to a full buffer (no RTS/CTS, &K0/&K4)
    up: DirectionStats = field(default_factory=DirectionStats)
    down: DirectionStats = field(default_factory=DirectionStats)

    @property
    def online_seconds(self) -> float:
        if self.connected_at is None or self.ended_at is None:
            return 0.0
        return self.ended_at - self.connected_at

    @property
    def dialing_seconds(self) -> float:
        if self.dialed_at is None:
            return 0.0
        end = self.connected_at if self.connected_at is not None else self.ended_at
        return 0.0 if end is None else end - self.dialed_at

    @property
    def retransmissions(self) -> int:
        return self.up.retransmissions + self.down.retransmissions

    def summary(self) -> str:
        """One line for the proxy's log."""
        where = f" to {self.number}" if self.number else ""
        mode = f", {self.mode}" if self.mode else ""
        return (
            f"call {self.call_id}{where} ended ({self.reason or self.result}){mode}: "
            f"{self.up.delivered} B up, {self.down.delivered} B down, "
            f"{self.online_seconds:.2f} s online (simulated), "
            f"{self.dialing_seconds:.2f} s dialing, "
            f"{self.retransmissions} retransmissions, "
            f"{self.up.corrupted + self.down.corrupted} corrupted octets"
        )

    def diagnostics(self, *, current: bool = False) -> str:
        """The ``ATI6`` listing of the last call (or the ``current`` one, so far), one
        ``NAME value`` per line, upper case."""
        lines = [
            "CURRENT CALL" if current else "LAST CALL",
            f"NUMBER {self.number or '-'}",
            f"RESULT {self.result or '-'}",
            f"MODE {self.mode or '-'}",
            f"DIALING {self.dialing_seconds:.2f} S",
            f"ONLINE {self.online_seconds:.2f} S",
            f"SENT {self.up.delivered}",
            f"RECEIVED {self.down.delivered}",
            f"FRAMES {self.up.frames + self.down.frames}",
            f"RETRANSMISSIONS {self.retransmissions}",
            f"CORRUPTED {self.up.corrupted + self.down.corrupted}",
            f"OVERRUN {self.overrun}",
            f"ENDED {(self.reason or '-').upper()}",
        ]
        return "\n".join(lines)
