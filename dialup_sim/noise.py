"""Line noise as a bit-error rate, and the carrier-loss plan, from one seeded RNG.

Errors are independent bit flips with probability ``ber``. Rather than drawing once per
bit, the gap to the next flipped bit is drawn from the geometric distribution, so a clean
line costs nothing and a 48 kB transfer costs a handful of draws. Everything random in a
call comes from a ``random.Random`` the caller seeds, so a test sees the same noise twice.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["BitErrors", "CarrierLoss", "NoiseSettings"]


@dataclass(frozen=True, slots=True)
class NoiseSettings:
    """Impairments of one call.

    ``ber``: probability that any bit on the line is flipped. ``drop_after``: simulated
    seconds online after which the carrier is lost. ``drop_per_minute``: probability that
    the carrier is lost within any one simulated minute online (a constant hazard).
    ``drop_after_bytes``: the carrier is lost once this many bytes have been delivered
    across the line, both directions together (the test rig's switch, ``dialup_sim.control``).
    """

    ber: float = 0.0
    drop_after: float | None = None
    drop_per_minute: float = 0.0
    drop_after_bytes: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.ber < 1.0:
            raise ValueError(f"bit-error rate must be in [0, 1), not {self.ber}")
        if not 0.0 <= self.drop_per_minute < 1.0:
            raise ValueError(f"drop probability must be in [0, 1), not {self.drop_per_minute}")
        if self.drop_after is not None and self.drop_after < 0:
            raise ValueError("drop_after must not be negative")
        if self.drop_after_bytes is not None and self.drop_after_bytes < 1:
            raise ValueError("drop_after_bytes must be at least 1")


class BitErrors:
    """Places bit errors on a stream of bits at a given rate."""

    __slots__ = ("_ber", "_gap", "_log_keep", "_rng")

    def __init__(self, ber: float, rng: random.Random) -> None:
        self._ber = ber
        self._rng = rng
        self._log_keep = math.log1p(-ber) if ber > 0 else 0.0
        self._gap = self._draw_gap()

    @property
    def ber(self) -> float:
        return self._ber

    def _draw_gap(self) -> int:
        """Number of good bits before the next bad one (``-1`` means never)."""
        if self._ber <= 0:
            return -1
        return int(math.log(1.0 - self._rng.random()) / self._log_keep)

    def error_positions(self, bits: int) -> list[int]:
        """Positions of the flipped bits among the next ``bits`` bits on the line."""
        if self._gap < 0:
            return []
        positions: list[int] = []
        offset = 0
        while self._gap < bits - offset:
            offset += self._gap
            positions.append(offset)
            offset += 1
            self._gap = self._draw_gap()
        self._gap -= bits - offset
        return positions

    def corrupt_async(self, data: bytes) -> tuple[bytes, int]:
        """Send ``data`` as 8N1 characters (10 bits each) and return what arrives.

        A flipped data bit flips that bit. A flipped start bit makes the receiver lose
        character sync: it samples garbage, modelled as a random byte. A flipped stop bit
        only raises a framing error the DTE never sees over TCP, so the byte survives.
        Returns the received bytes and how many of them differ from what was sent.
        """
        positions = self.error_positions(10 * len(data))
        if not positions:
            return data, 0
        out = bytearray(data)
        damaged: set[int] = set()
        for position in positions:
            index, bit = divmod(position, 10)
            if bit == 0:
                out[index] = self._rng.randrange(256)
            elif bit <= 8:
                out[index] ^= 1 << (bit - 1)
        for index in {p // 10 for p in positions}:
            if out[index] != data[index]:
                damaged.add(index)
        return bytes(out), len(damaged)

    def frame_damaged(self, bits: int) -> bool:
        """Whether a frame of ``bits`` bits takes at least one error (its FCS then fails)."""
        return bool(self.error_positions(bits))


class CarrierLoss:
    """When the carrier drops, decided once when the call goes online."""

    @staticmethod
    def plan(settings: NoiseSettings, online_at: float, rng: random.Random) -> float | None:
        """Absolute simulated time of the drop, or ``None`` if the carrier holds."""
        candidates: list[float] = []
        if settings.drop_after is not None:
            candidates.append(online_at + settings.drop_after)
        if settings.drop_per_minute > 0:
            rate = -math.log1p(-settings.drop_per_minute) / 60.0
            candidates.append(online_at + rng.expovariate(rate))
        return min(candidates) if candidates else None
