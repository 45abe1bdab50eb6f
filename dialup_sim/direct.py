"""A call that is already up: what ``--direct`` gives a mail client that knows no AT commands.

The connection from the client is the established call: bytes cross the line model both
ways and nothing else is said. When the server closes, its last bytes still cross the
line and then the carrier drops; when the line drops (noise, planned carrier loss) or the
client goes away, the call ends at once. Sans-IO like the modem.
"""

from __future__ import annotations

import random

from dialup_sim.events import CallEnded, DialOutcome, Event, ToCallee, ToCaller
from dialup_sim.line import Link, LinkParams, MnpLevel
from dialup_sim.noise import NoiseSettings
from dialup_sim.result_codes import connect_code
from dialup_sim.stats import CallReport

__all__ = ["DirectCall"]


class DirectCall:
    """One direct call: a ``Link`` between the client and the server, and its report."""

    def __init__(
        self,
        call_id: int,
        params: LinkParams,
        now: float,
        *,
        noise: NoiseSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.call_id = call_id
        self._link = Link(params, now, noise, rng)
        info = params.connect_info
        self._report = CallReport(
            call_id,
            number="direct",
            result=connect_code(info, 4, True)[1],
            mode=info.describe(),
            dialed_at=now,
            connected_at=now,
        )
        self._out: list[Event] = []
        self._ended = False
        self._remote_closed_at: float | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    def from_caller(self, data: bytes, now: float) -> None:
        self._advance(now)
        if not self._ended:
            self._link.send_up(data, now)

    def from_callee(self, data: bytes, now: float) -> None:
        self._advance(now)
        if not self._ended:
            self._link.send_down(data, now)

    def caller_closed(self, now: float) -> None:
        self._advance(now)
        self._end(now, "caller hung up")

    def callee_closed(self, now: float) -> None:
        if self._remote_closed_at is None:
            self._remote_closed_at = now
        self._advance(now)

    def unreachable(self, now: float) -> None:
        """The server could not be reached: the call ends before any byte crossed."""
        self._advance(now)
        self._end(now, "no answer")

    def dial_outcome(
        self,
        call_id: int,
        outcome: DialOutcome,
        now: float,
        *,
        remote_mnp: MnpLevel | None = None,
    ) -> bool:
        return False  # nothing is ever dialled

    def poll(self, now: float) -> list[Event]:
        self._advance(now)
        out, self._out = self._out, []
        return out

    def next_deadline(self) -> float | None:
        return None if self._ended else self._link.next_event()

    def settle_time(self) -> float | None:
        """When the line will have delivered everything queued now (see ``Link``)."""
        return None if self._ended else self._link.settle_time()

    def caller_backlog(self, now: float) -> int:
        return self._link.up.backlog(now)

    def callee_backlog(self, now: float) -> int:
        return self._link.down.backlog(now)

    def _advance(self, now: float) -> None:
        if self._ended:
            return
        link = self._link
        to_callee, to_caller = link.poll(now)
        if to_callee:
            self._out.append(ToCallee(to_callee))
        if to_caller:
            self._out.append(ToCaller(to_caller))
        if link.lost_at is not None:
            reason = link.loss_reason.value if link.loss_reason is not None else "lost"
            self._end(link.lost_at, reason)
        elif self._remote_closed_at is not None and link.down.idle():
            self._end(max(self._remote_closed_at, link.down.last_delivery), "remote hung up")

    def _end(self, when: float, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        report = self._report
        report.ended_at = when
        report.reason = reason
        report.up, report.down = self._link.up.stats, self._link.down.stats
        self._out.append(CallEnded(self.call_id, report))
