"""The telephone line between two modems: rate, framing, latency, noise, carrier loss.

Sans-IO: callers pass the simulated time (seconds) to every call; nothing here reads a
clock. Bytes go in with ``send_up``/``send_down`` (up = caller to callee) and come out of
``poll`` once the model says they have arrived at the far DTE.

Without error control the modem sends each byte as an 8N1 character: 10 bits, so 960
bytes a second at 9600 bps, back to back, each arriving one latency after its stop bit;
noise corrupts the bytes. With MNP 4/5 see ``mnp``. The DTE side is taken as locked at a
higher rate with hardware flow control, so only the line limits throughput.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from dialup_sim.mnp import MnpDirection
from dialup_sim.noise import BitErrors, CarrierLoss, NoiseSettings
from dialup_sim.result_codes import LINE_RATES, ConnectInfo
from dialup_sim.stats import DirectionStats

__all__ = [
    "AsyncDirection",
    "Direction",
    "Link",
    "LinkParams",
    "LossReason",
    "MnpLevel",
]

_EPSILON = 1e-9


class MnpLevel(Enum):
    """Error control on the link (and what a far-end modem can do)."""

    NONE = "none"
    MNP4 = "4"
    MNP5 = "5"


class LossReason(Enum):
    CARRIER = "carrier lost"
    RETRANSMISSIONS = "retransmission limit"


@dataclass(frozen=True, slots=True)
class LinkParams:
    """What the two modems agreed on, plus the one-way delay of the line."""

    bps: int
    mnp: MnpLevel = MnpLevel.NONE
    latency: float = 0.0

    def __post_init__(self) -> None:
        if self.bps not in LINE_RATES:
            raise ValueError(f"line rate {self.bps} is not one of {LINE_RATES}")
        if self.latency < 0:
            raise ValueError("latency must not be negative")

    @property
    def connect_info(self) -> ConnectInfo:
        return ConnectInfo(
            self.bps,
            reliable=self.mnp is not MnpLevel.NONE,
            compression=self.mnp is MnpLevel.MNP5,
        )


class Direction(Protocol):
    """One direction of a link."""

    stats: DirectionStats
    failed_at: float | None
    last_delivery: float

    def send(self, data: bytes, now: float) -> None: ...

    def advance(self, now: float) -> None: ...

    def take(self, until: float) -> bytes: ...

    def next_event(self) -> float | None: ...

    def settle_time(self) -> float | None: ...

    def backlog(self, now: float) -> int: ...

    def idle(self) -> bool: ...


class _Segment:
    __slots__ = ("data", "done", "start")

    def __init__(self, start: float, data: bytes) -> None:
        self.start = start
        self.data = data
        self.done = 0


class AsyncDirection:
    """No error control: 8N1 characters back to back, noise corrupts bytes."""

    BITS_PER_CHAR = 10

    def __init__(self, bps: int, latency: float, errors: BitErrors | None = None) -> None:
        self._char_time = self.BITS_PER_CHAR / bps
        self._latency = latency
        self._errors = errors if errors is not None and errors.ber > 0 else None
        self._segments: deque[_Segment] = deque()
        self._busy_until = -math.inf
        self.failed_at: float | None = None
        self.last_delivery = -math.inf
        self.stats = DirectionStats()

    def send(self, data: bytes, now: float) -> None:
        if not data:
            return
        start = max(now, self._busy_until)
        self._segments.append(_Segment(start, data))
        self._busy_until = start + len(data) * self._char_time
        self.last_delivery = self._busy_until + self._latency
        self.stats.accepted += len(data)
        self.stats.line_bits += self.BITS_PER_CHAR * len(data)

    def advance(self, now: float) -> None:
        """Nothing to do: arrival times follow from the send times."""

    def take(self, until: float) -> bytes:
        parts: list[bytes] = []
        segments = self._segments
        offset = self._latency
        char_time = self._char_time
        while segments:
            segment = segments[0]
            arrived = int((until - segment.start - offset) / char_time + _EPSILON)
            arrived = min(max(arrived, 0), len(segment.data))
            if arrived > segment.done:
                parts.append(segment.data[segment.done : arrived])
                segment.done = arrived
            if arrived < len(segment.data):
                break
            segments.popleft()
        if not parts:
            return b""
        data = b"".join(parts)
        if self._errors is not None:
            data, damaged = self._errors.corrupt_async(data)
            self.stats.corrupted += damaged
        self.stats.delivered += len(data)
        return data

    def next_event(self) -> float | None:
        if not self._segments:
            return None
        segment = self._segments[0]
        return segment.start + (segment.done + 1) * self._char_time + self._latency

    def settle_time(self) -> float | None:
        """When everything queued now will have arrived (``None``: nothing queued)."""
        return self._busy_until + self._latency if self._segments else None

    def backlog(self, now: float) -> int:
        """Characters accepted and not yet on the line."""
        if self._busy_until <= now:
            return 0
        return math.ceil((self._busy_until - now) / self._char_time - _EPSILON)

    def idle(self) -> bool:
        return not self._segments


def _direction(params: LinkParams, errors: BitErrors | None) -> Direction:
    if params.mnp is MnpLevel.NONE:
        return AsyncDirection(params.bps, params.latency, errors)
    return MnpDirection(params.bps, params.latency, errors, compress=params.mnp is MnpLevel.MNP5)


class Link:
    """Both directions of one call plus the carrier: the whole line model."""

    def __init__(
        self,
        params: LinkParams,
        start: float,
        noise: NoiseSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        noise = noise or NoiseSettings()
        rng = rng or random.Random(0)
        self.params = params
        self.started_at = start
        self.up: Direction = _direction(params, BitErrors(noise.ber, rng))
        self.down: Direction = _direction(params, BitErrors(noise.ber, rng))
        self._planned_drop = CarrierLoss.plan(noise, start, rng)
        self._bytes_left = noise.drop_after_bytes  # None: no byte limit on the carrier
        self.lost_at: float | None = None
        self.loss_reason: LossReason | None = None

    def send_up(self, data: bytes, now: float) -> None:
        if self.lost_at is None:
            self.up.send(data, now)

    def send_down(self, data: bytes, now: float) -> None:
        if self.lost_at is None:
            self.down.send(data, now)

    def poll(self, now: float) -> tuple[bytes, bytes]:
        """Bytes that reached (the callee, the caller) by ``now``."""
        if self.lost_at is not None:
            return b"", b""
        self.up.advance(now)
        self.down.advance(now)
        loss, reason = self._loss()
        until = now if loss is None else min(now, loss)
        to_callee = self.up.take(until)
        to_caller = self.down.take(until)
        if loss is not None and now >= loss:
            self.lost_at, self.loss_reason = loss, reason
        if self._bytes_left is not None and (to_callee or to_caller):
            to_callee, to_caller = self._spend(to_callee, to_caller, until)
        return to_callee, to_caller

    def _spend(self, to_callee: bytes, to_caller: bytes, now: float) -> tuple[bytes, bytes]:
        """Count what crossed against the byte limit; the byte that reaches it is the last
        (upstream first when both directions delivered in the same poll)."""
        left = self._bytes_left
        assert left is not None
        kept_up = to_callee[:left]
        kept_down = to_caller[: left - len(kept_up)]
        self.up.stats.delivered -= len(to_callee) - len(kept_up)  # lost with the carrier
        self.down.stats.delivered -= len(to_caller) - len(kept_down)
        to_callee, to_caller = kept_up, kept_down
        left -= len(to_callee) + len(to_caller)
        self._bytes_left = left
        if left == 0 and self.lost_at is None:
            self.lost_at, self.loss_reason = now, LossReason.CARRIER
        return to_callee, to_caller

    def next_event(self) -> float | None:
        if self.lost_at is not None:
            return None
        candidates = [
            t
            for t in (self.up.next_event(), self.down.next_event(), self._loss()[0])
            if t is not None
        ]
        return min(candidates) if candidates else None

    def settle_time(self) -> float | None:
        """When everything queued now will have arrived: ``None`` if nothing is queued,
        infinity if the model cannot tell yet (frames still to be built or resent)."""
        if self.lost_at is not None:
            return None
        times = [t for t in (self.up.settle_time(), self.down.settle_time()) if t is not None]
        return max(times) if times else None

    def _loss(self) -> tuple[float | None, LossReason | None]:
        best: tuple[float | None, LossReason | None] = (self._planned_drop, LossReason.CARRIER)
        for failed in (self.up.failed_at, self.down.failed_at):
            if failed is not None and (best[0] is None or failed < best[0]):
                best = (failed, LossReason.RETRANSMISSIONS)
        return best if best[0] is not None else (None, None)
