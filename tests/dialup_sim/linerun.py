"""Run a ``Link`` to completion on its own deadlines (a perfect fake clock)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialup_sim.line import Link


@dataclass
class Arrivals:
    to_callee: bytearray = field(default_factory=bytearray)
    to_caller: bytearray = field(default_factory=bytearray)
    first_at: float | None = None
    last_at: float = 0.0


def run_link(link: Link, *, until: float = 1e6) -> Arrivals:
    arrivals = Arrivals()
    while True:
        deadline = link.next_event()
        if deadline is None or deadline > until or link.lost_at is not None:
            return arrivals
        up, down = link.poll(deadline)
        if up or down:
            arrivals.first_at = deadline if arrivals.first_at is None else arrivals.first_at
            arrivals.last_at = deadline
        arrivals.to_callee += up
        arrivals.to_caller += down
