"""MNP class 4 framing over the line: what error control costs in time, and what noise does.

The modem strips start and stop bits and sends synchronous, bit-oriented LT frames: opening
flag, header ``[LI=2, type 4, N(S)]`` (data phase optimisation), up to 256 data octets, a
16-bit FCS and a closing flag, so 7 octets of overhead, plus the zeros that bit stuffing
inserts after every five consecutive ones (counted exactly on the frame's bits). At 9600
bps that is about 1 150 data octets a second instead of 960 without error control.

Data reaches the far DTE only when a whole frame has arrived and its FCS checked (store
and forward). Noise is a bit-error rate: a frame with any flipped bit fails its FCS and
is discarded, so are the frames after it (go-back-N, window k = 8); the sender learns of
it when the receiver sees the next frame out of sequence (or from its own acknowledgement
timer), then sends again from the bad frame with a smaller frame (adaptive packet
assembly halves it, down to 64 octets, and doubles it back after 8 clean frames). After
10 failed retransmissions of the same data the modem gives up and drops the carrier.
Errors therefore cost time and never corrupt data. LA (acknowledgement) frames on the
reverse channel are not charged.

With MNP 5 the octets framed are the compressor's output; the receiver decompresses them.
"""

from __future__ import annotations

import math
from binascii import crc_hqx
from collections import deque
from dataclasses import dataclass
from typing import Final

from dialup_sim.mnp5 import Mnp5Decoder, Mnp5Encoder
from dialup_sim.noise import BitErrors
from dialup_sim.stats import DirectionStats

__all__ = [
    "FRAME_OVERHEAD",
    "MAX_FRAME",
    "MAX_RETRANSMISSIONS",
    "MIN_FRAME",
    "WINDOW",
    "MnpDirection",
    "frame_bits",
]

FRAME_OVERHEAD: Final = 7  # flag + 3 header octets + 2 FCS octets + flag
MAX_FRAME: Final = 256
MIN_FRAME: Final = 64
WINDOW: Final = 8
MAX_RETRANSMISSIONS: Final = 10
GROW_AFTER: Final = 8  # clean frames before the frame size doubles again
ACK_TIMER: Final = 0.5  # seconds, beyond the round trip, before an unanswered frame is resent


def frame_bits(seq: int, payload: bytes) -> int:
    """Bits one LT frame occupies on the line, zero-bit insertion included."""
    header = bytes((2, 4, seq & 0xFF))
    fcs = crc_hqx(header + payload, 0xFFFF).to_bytes(2, "little")
    body = header + payload + fcs
    # Octets go out least significant bit first; reading the little-endian integer from the
    # top reverses the whole bit stream, which keeps every run of ones intact. A run of n
    # ones gets n // 5 stuffed zeros, which is what counting non-overlapping "11111" gives.
    stuffed = bin(int.from_bytes(body, "little")).count("11111")
    return 8 * (len(body) + 2) + stuffed


@dataclass(slots=True)
class _Frame:
    seq: int
    payload: bytes
    offset: int  # position of its first octet in the framed stream
    end: float


class MnpDirection:
    """One direction of an MNP 4 (optionally MNP 5) link, as a discrete-event model."""

    def __init__(
        self,
        bps: int,
        latency: float,
        errors: BitErrors | None = None,
        *,
        compress: bool = False,
    ) -> None:
        self._bit_time = 1.0 / bps
        self._latency = latency
        self._errors = errors if errors is not None and errors.ber > 0 else None
        self._encoder = Mnp5Encoder() if compress else None
        self._decoder = Mnp5Decoder() if compress else None
        self._raw = bytearray()  # from the DTE, not yet compressed or framed
        self._octets = bytearray()  # ready to frame (compressed under MNP 5)
        self._line_free = -math.inf
        self._frame_size = MAX_FRAME
        self._clean_run = 0
        self._seq = 0
        self._next_offset = 0
        self._doomed: list[_Frame] = []  # the first bad frame and those sent after it
        self._detect_at: float | None = None
        self._acks: deque[float] = deque()  # acknowledgement arrivals of good frames
        self._deliveries: deque[tuple[float, bytes]] = deque()
        self._failure_offset = -1
        self._failures = 0
        self.failed_at: float | None = None
        self.last_delivery = -math.inf
        self.stats = DirectionStats()

    @property
    def frame_size(self) -> int:
        """The current maximum data octets per frame (adaptive packet assembly)."""
        return self._frame_size

    def send(self, data: bytes, now: float) -> None:
        self.advance(now)
        if not data or self.failed_at is not None:
            return
        self._raw += data
        self.stats.accepted += len(data)
        self._line_free = max(self._line_free, now)

    def advance(self, now: float) -> None:
        """Run the model up to ``now``: start frames, detect errors, go back."""
        while True:
            start = self._next_start()
            detect = self._detect_at
            if detect is not None and detect <= now and (start is None or detect <= start):
                self._go_back(detect)
            elif start is not None and start <= now:
                self._start_frame(start)
            else:
                return

    def take(self, until: float) -> bytes:
        """Octets delivered to the far DTE by ``until`` (decompressed under MNP 5)."""
        deliveries = self._deliveries
        if not deliveries or deliveries[0][0] > until:
            return b""
        parts: list[bytes] = []
        while deliveries and deliveries[0][0] <= until:
            parts.append(deliveries.popleft()[1])
        data = b"".join(parts)
        if self._decoder is not None:
            data = self._decoder.decode(data)
        self.stats.delivered += len(data)
        return data

    def next_event(self) -> float | None:
        candidates = [t for t in (self._next_start(), self._detect_at) if t is not None]
        if self._deliveries:
            candidates.append(self._deliveries[0][0])
        return min(candidates) if candidates else None

    def settle_time(self) -> float | None:
        """When everything queued now will have arrived; infinity while frames are still
        to be built or resent (their timing depends on what happens meanwhile)."""
        if self.failed_at is not None:
            return None
        if self._has_data() or self._doomed:
            return math.inf
        return self._deliveries[-1][0] if self._deliveries else None

    def backlog(self, now: float) -> int:
        """Octets accepted from the DTE and not yet framed: what flow control watches."""
        return len(self._raw) + len(self._octets)

    def idle(self) -> bool:
        return (
            not (self._has_data() or self._doomed or self._deliveries) or self.failed_at is not None
        )

    # The model.

    def _has_data(self) -> bool:
        return bool(
            self._raw or self._octets or (self._encoder is not None and self._encoder.pending)
        )

    def _next_start(self) -> float | None:
        if self.failed_at is not None or not self._has_data():
            return None
        start = self._line_free
        acks = self._acks
        while acks and acks[0] <= start:
            acks.popleft()
        outstanding = len(acks) + len(self._doomed)
        if outstanding < WINDOW:
            return start
        needed = outstanding - WINDOW  # index of the acknowledgement that opens the window
        if needed >= len(acks):
            return None  # only going back can open the window
        return max(start, acks[needed])

    def _fill(self, size: int) -> None:
        encoder = self._encoder
        if encoder is None:
            if self._raw:
                self._octets += self._raw
                self._raw.clear()
            return
        while len(self._octets) < size and self._raw:
            chunk = bytes(self._raw[:size])
            del self._raw[:size]
            self._octets += encoder.encode(chunk)
        if not self._raw and len(self._octets) < size and encoder.pending:
            self._octets += encoder.flush()

    def _start_frame(self, start: float) -> None:
        size = self._frame_size
        self._fill(size)
        payload = bytes(self._octets[:size])
        del self._octets[:size]
        seq = self._seq
        self._seq = (seq + 1) & 0xFF
        bits = frame_bits(seq, payload)
        end = start + bits * self._bit_time
        self._line_free = end
        frame = _Frame(seq, payload, self._next_offset, end)
        self._next_offset += len(payload)
        stats = self.stats
        stats.frames += 1
        stats.line_bits += bits
        damaged = self._errors is not None and self._errors.frame_damaged(bits)
        if self._doomed:
            if len(self._doomed) == 1 and self._detect_at is not None:
                # The receiver sees this frame out of sequence and answers at once.
                self._detect_at = min(self._detect_at, end + 2 * self._latency)
            self._doomed.append(frame)
        elif damaged:
            self._doomed.append(frame)
            self._detect_at = end + 2 * self._latency + ACK_TIMER
        else:
            arrival = end + self._latency
            self._deliveries.append((arrival, payload))
            self._acks.append(arrival + self._latency)
            self.last_delivery = arrival
            if frame.offset == self._failure_offset:
                self._failures = 0
            self._clean_run += 1
            if self._clean_run >= GROW_AFTER and self._frame_size < MAX_FRAME:
                self._frame_size = min(MAX_FRAME, self._frame_size * 2)
                self._clean_run = 0

    def _go_back(self, when: float) -> None:
        doomed = self._doomed
        first = doomed[0]
        if first.offset == self._failure_offset:
            self._failures += 1
        else:
            self._failure_offset, self._failures = first.offset, 1
        self.stats.retransmissions += len(doomed)
        self._detect_at = None
        if self._failures > MAX_RETRANSMISSIONS:
            self.failed_at = when
            doomed.clear()
            return
        self._octets[0:0] = b"".join(frame.payload for frame in doomed)
        self._next_offset = first.offset
        self._seq = first.seq
        doomed.clear()
        self._frame_size = max(MIN_FRAME, self._frame_size // 2)
        self._clean_run = 0
        self._line_free = max(self._line_free, when)
