"""The MNP 5 coder: exact round trips, run-length, code lengths, what it gains and loses."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialup_sim.mnp5 import MAX_RUN_EXTRA, Mnp5Decoder, Mnp5Encoder, compressed_size
from tests.dialup_sim.samples import mail_text, random_bytes


def round_trip(chunks: list[bytes], flush_after: list[bool]) -> bytes:
    encoder, decoder = Mnp5Encoder(), Mnp5Decoder()
    out = bytearray()
    for chunk, flush in zip(chunks, flush_after, strict=True):
        coded = encoder.encode(chunk) + (encoder.flush() if flush else b"")
        for i in range(0, len(coded), 3):  # the decoder gets odd-sized pieces
            out += decoder.decode(coded[i : i + 3])
    out += decoder.decode(encoder.flush())
    return bytes(out)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.binary(max_size=300), st.text("ab\x00", max_size=600).map(str.encode)),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_round_trip_of_any_bytes_in_any_pieces(pieces: list[tuple[bytes, bool]]) -> None:
    chunks = [chunk for chunk, _ in pieces]
    assert round_trip(chunks, [flush for _, flush in pieces]) == b"".join(chunks)


def test_long_runs_round_trip_across_the_count_cap() -> None:
    data = b"z" * (3 * (MAX_RUN_EXTRA + 3) + 7) + b"end"
    assert round_trip([data], [True]) == data


def test_a_run_of_ten_costs_four_symbols() -> None:
    # Ten equal bytes go as three bytes plus a count of seven.
    ten = compressed_size(b"\x00" * 10)
    four_symbols = compressed_size(b"\x00\x00\x00\x07")
    assert ten == four_symbols


def test_code_lengths_of_a_fresh_table() -> None:
    # Fresh table: rank = byte value. FLUSH is 11 bits; output is padded to octets.
    assert compressed_size(b"\x00") == 2  # 4 + 11 bits
    assert compressed_size(b"A") == 3  # rank 65: 9 bits
    assert compressed_size(b"\xff") == 3  # rank 255: 11 bits


def test_frequent_bytes_get_short_codes() -> None:
    encoder = Mnp5Encoder()
    encoder.encode(b"e")  # "e" climbs to rank 0
    before = encoder.encode(b"")
    assert before == b""
    coded = encoder.encode(b"ezez") + encoder.flush()
    # 'e' (rank 0, 4 bits), 'z' (first time, rank 122: 9 bits), 'e' 4, 'z' now rank 1: 4.
    assert len(coded) * 8 >= 4 + 9 + 4 + 4 + 11


def test_text_compresses_and_random_bytes_grow() -> None:
    text, noise = mail_text(40_000), random_bytes(40_000)
    assert len(text) / compressed_size(text) > 1.4
    ratio = len(noise) / compressed_size(noise)
    assert 0.85 < ratio < 0.95  # about 12 % expansion, as the MNP 5 literature says
