"""Call-progress timing: how long dialling, ringing and the handshake take, simulated.

The S-registers give the limits (S6 blind-dial wait, S7 carrier wait, S8 comma pause, S11
tone length); these constants give what the network and the far modem take, chosen to
match a 1997 call: a tone or two of ringback, V.32 training, then the MNP link request.
The ring cadence of an incoming call is the exchange's, not the modem's: no register of
the modems simulated here sets it, so it is a setting of the line (``--ring-cadence``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CallTiming"]


@dataclass(frozen=True, slots=True)
class CallTiming:
    dial_tone_detect: float = 1.0  # X2/X4: time to hear the dial tone (else S6, blind)
    pulse_per_click: float = 0.1  # P: one loop break per unit of the digit (10 for 0)
    pulse_interdigit: float = 0.75
    answer_after: float = 3.0  # ringback until the far modem goes off hook
    training: float = 3.0  # answer tone, V.32 training
    mnp_negotiation: float = 0.5  # LR / LA exchange, when error control is attempted
    busy_detect: float = 2.0  # busy cadence recognised (X3/X4)
    ring_on: float = 2.0  # incoming call: seconds of ring (RI on, one RING result)
    ring_off: float = 4.0  # seconds of silence between two rings

    def __post_init__(self) -> None:
        if not (0 < self.ring_on < math.inf and 0 < self.ring_off < math.inf):
            raise ValueError("a ring cadence needs some ring and some silence")

    @property
    def ring_period(self) -> float:
        """From the start of one ring to the start of the next."""
        return self.ring_on + self.ring_off

    def dial_seconds(
        self, digits: str, *, pulse: bool, tone_length: float, pauses: int, comma: float
    ) -> float:
        """Time to send the digits and pauses of a dial string."""
        if pulse:
            clicks = sum(10 if d == "0" else int(d) for d in digits if d in "0123456789")
            sending = clicks * self.pulse_per_click + len(digits) * self.pulse_interdigit
        else:
            sending = 2 * tone_length * len(digits)
        return sending + pauses * comma
