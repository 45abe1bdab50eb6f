"""MNP class 5 data compression: run-length stage, then adaptive frequency encoding.

Run-length: after three identical bytes, one count byte says how many more copies were
dropped (0..250, so a run is at most 253 long; longer runs start again).

Adaptive frequency encoding (Toby Nixon's description; code table as in Held's *Complete
Modem Reference*): every byte value has a count and a rank, ranks ordered by count. A byte
is sent as the code of its current rank, then its count goes up and it moves ahead of the
values with a lower count; the receiver does the same and so stays in step. Codes are a
3-bit header that says how many body bits follow:

    ranks   0-3    4 bits      ranks  32-63   8 bits
    ranks   4-7    5 bits      ranks  64-127  9 bits
    ranks   8-15   6 bits      ranks 128-254 10 bits
    ranks  16-31   7 bits      rank 255 and FLUSH (code 256) 11 bits

Only ranks 0-31 are shorter than a byte, which is why text gains and zipped data grows.
Choices where the sources are silent: the count byte goes through the AFE stage like any
other byte; counts are 8-bit and all are halved when one would pass 255; ties move the
promoted value to the front of its count group. FLUSH ends a burst: the encoder closes any
pending run, sends FLUSH and pads to the octet, and both ends reset the run-length state
(the frequency tables carry on). Bits are packed into octets most significant first.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_RUN_EXTRA", "Mnp5Decoder", "Mnp5Encoder", "compressed_size"]

MAX_RUN_EXTRA: Final = 250
_MAX_COUNT: Final = 255
_FLUSH: Final = 256


def _build_codes() -> tuple[tuple[int, int], ...]:
    codes: list[tuple[int, int]] = [(rank, 4) for rank in range(4)]
    for header in range(2, 7):
        base = 1 << header
        codes.extend(
            ((header << header) | (rank - base), 3 + header) for rank in range(base, 2 * base)
        )
    codes.extend(((7 << 7) | (rank - 128), 10) for rank in range(128, 255))
    codes.append(((7 << 8) | (127 << 1), 11))  # rank 255
    codes.append(((7 << 8) | (127 << 1) | 1, 11))  # FLUSH
    return tuple(codes)


_CODES: Final = _build_codes()
_BODY_BITS: Final = (1, 1, 2, 3, 4, 5, 6, 7)


class _FrequencyTable:
    """Counts and ranks shared in behaviour by the encoder and the decoder."""

    __slots__ = ("by_rank", "count", "group_start", "rank")

    def __init__(self) -> None:
        self.count = [0] * 256
        self.rank = list(range(256))  # byte value -> rank
        self.by_rank = list(range(256))  # rank -> byte value
        self.group_start = [0] * (_MAX_COUNT + 2)  # count -> first rank holding it

    def promote(self, value: int) -> None:
        count = self.count
        old = count[value]
        if old == _MAX_COUNT:
            self._halve()
            old = count[value]
        start = self.group_start[old]
        here = self.rank[value]
        if here != start:
            other = self.by_rank[start]
            self.by_rank[start], self.by_rank[here] = value, other
            self.rank[value], self.rank[other] = start, here
        count[value] = old + 1
        if start == 0 or count[self.by_rank[start - 1]] != old + 1:
            self.group_start[old + 1] = start
        self.group_start[old] = start + 1

    def _halve(self) -> None:
        count = self.count
        for value in range(256):
            count[value] >>= 1
        previous = -1
        for position, value in enumerate(self.by_rank):
            if count[value] != previous:
                previous = count[value]
                self.group_start[previous] = position


class Mnp5Encoder:
    """Compresses a byte stream; keep one per direction for the life of the link."""

    __slots__ = ("_acc", "_bits", "_counting", "_extra", "_last", "_run", "_table")

    def __init__(self) -> None:
        self._table = _FrequencyTable()
        self._acc = 0
        self._bits = 0
        self._last = -1
        self._run = 0
        self._counting = False
        self._extra = 0

    def encode(self, data: bytes) -> bytes:
        """Compress ``data``; returns the whole octets ready so far (bits may stay pending)."""
        out = bytearray()
        last, run, counting, extra = self._last, self._run, self._counting, self._extra
        for byte in data:
            if counting:
                if byte == last and extra < MAX_RUN_EXTRA:
                    extra += 1
                    continue
                self._symbol(extra, out)
                counting = False
                last, run = -1, 0
            self._symbol(byte, out)
            if byte == last:
                run += 1
                if run == 3:
                    counting, extra = True, 0
            else:
                last, run = byte, 1
        self._last, self._run, self._counting, self._extra = last, run, counting, extra
        return bytes(out)

    def flush(self) -> bytes:
        """End the burst: close a pending run, send FLUSH, pad to a whole octet."""
        out = bytearray()
        if self._counting:
            self._symbol(self._extra, out)
        self._last, self._run, self._counting, self._extra = -1, 0, False, 0
        code, length = _CODES[_FLUSH]
        self._put(code, length, out)
        if self._bits:
            self._put(0, 8 - self._bits, out)
        return bytes(out)

    @property
    def pending(self) -> bool:
        """Whether anything is held back (bits or a run count) that only ``flush`` sends."""
        return self._bits > 0 or self._counting

    def _symbol(self, value: int, out: bytearray) -> None:
        table = self._table
        code, length = _CODES[table.rank[value]]
        self._put(code, length, out)
        table.promote(value)

    def _put(self, code: int, length: int, out: bytearray) -> None:
        acc = (self._acc << length) | code
        bits = self._bits + length
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
        self._acc = acc & ((1 << bits) - 1)
        self._bits = bits


class Mnp5Decoder:
    """Decompresses what ``Mnp5Encoder`` produced, fed in pieces of any size.

    Every bit string is a valid code sequence, so there is nothing to reject: damaged input
    decodes to damaged output. That never happens here, since MNP 4 below only delivers
    frames whose FCS checked.
    """

    __slots__ = ("_acc", "_bits", "_expect_count", "_last", "_run", "_table")

    def __init__(self) -> None:
        self._table = _FrequencyTable()
        self._acc = 0
        self._bits = 0
        self._last = -1
        self._run = 0
        self._expect_count = False

    def decode(self, data: bytes) -> bytes:
        out = bytearray()
        acc, bits = self._acc, self._bits
        for byte in data:
            acc = (acc << 8) | byte
            bits += 8
            while bits >= 11:  # enough for the longest code
                acc, bits = self._take(acc, bits, out)
        while bits >= 3:
            before = bits
            acc, bits = self._take(acc, bits, out)
            if bits == before:
                break
        self._acc, self._bits = acc, bits
        return bytes(out)

    def _take(self, acc: int, bits: int, out: bytearray) -> tuple[int, int]:
        """Decode one code from the top of ``acc`` if it is all there."""
        header = (acc >> (bits - 3)) & 7
        body_bits = _BODY_BITS[header]
        if bits < 3 + body_bits:
            return acc, bits
        body = (acc >> (bits - 3 - body_bits)) & ((1 << body_bits) - 1)
        used = 3 + body_bits
        if header <= 1:
            rank = header * 2 + body
        elif header < 7 or body < 127:
            rank = (1 << header) + body
        else:
            if bits < 11:
                return acc, bits
            used = 11
            rank = 255 + ((acc >> (bits - 11)) & 1)
        bits -= used
        if rank == _FLUSH:
            bits -= bits % 8
            self._last, self._run, self._expect_count = -1, 0, False
        else:
            self._emit(self._table.by_rank[rank], out)
        return acc & ((1 << bits) - 1), bits

    def _emit(self, value: int, out: bytearray) -> None:
        self._table.promote(value)
        if self._expect_count:
            out.extend(bytes((self._last,)) * value)
            self._expect_count = False
            self._last, self._run = -1, 0
            return
        out.append(value)
        if value == self._last:
            self._run += 1
            if self._run == 3:
                self._expect_count = True
        else:
            self._last, self._run = value, 1


def compressed_size(data: bytes) -> int:
    """Octets MNP 5 needs for ``data`` sent as one burst (flush included)."""
    encoder = Mnp5Encoder()
    return len(encoder.encode(data)) + len(encoder.flush())
