"""MNP 4 framing and MNP 5 compression on the line: cost in time, and noise as delay."""

from __future__ import annotations

import random

import pytest

from dialup_sim.line import Link, LinkParams, LossReason, MnpLevel
from dialup_sim.mnp import FRAME_OVERHEAD, MAX_FRAME, MIN_FRAME, MnpDirection, frame_bits
from dialup_sim.noise import BitErrors, NoiseSettings
from tests.dialup_sim.linerun import run_link
from tests.dialup_sim.samples import mail_text, random_bytes


def transfer_time(mnp: MnpLevel, data: bytes, **link_options: float) -> float:
    link = Link(LinkParams(9600, mnp, **link_options), start=0.0)
    link.send_up(data, 0.0)
    arrivals = run_link(link)
    assert arrivals.to_callee == data
    return arrivals.last_at


def test_frame_cost_is_seven_octets_plus_stuffed_zeros() -> None:
    zeros = frame_bits(0, bytes(256))
    assert zeros >= 8 * (256 + FRAME_OVERHEAD)
    assert zeros - 8 * (256 + FRAME_OVERHEAD) < 16  # only the header and FCS can stuff
    ones = frame_bits(0, b"\xff" * 256)
    assert ones - 8 * (256 + FRAME_OVERHEAD) >= 2048 // 5 - 2


def test_mnp4_moves_about_1150_characters_a_second_at_9600() -> None:
    data = random_bytes(48_000)
    rate = len(data) / transfer_time(MnpLevel.MNP4, data)
    assert rate == pytest.approx(1150, rel=0.02)


def test_mnp4_on_text_is_also_near_1150() -> None:
    data = mail_text(48_000)
    assert len(data) / transfer_time(MnpLevel.MNP4, data) == pytest.approx(1150, rel=0.02)


def test_mnp5_is_faster_than_mnp4_on_text_and_slower_on_random_bytes() -> None:
    text, noise = mail_text(48_000), random_bytes(48_000)
    assert transfer_time(MnpLevel.MNP5, text) < 0.8 * transfer_time(MnpLevel.MNP4, text)
    assert transfer_time(MnpLevel.MNP5, noise) > 1.05 * transfer_time(MnpLevel.MNP4, noise)


def test_store_and_forward_releases_a_frame_only_when_it_is_complete() -> None:
    link = Link(LinkParams(9600, MnpLevel.MNP4, latency=0.1), start=0.0)
    link.send_up(b"y" * MAX_FRAME, 0.0)
    frame_time = frame_bits(0, b"y" * MAX_FRAME) / 9600
    assert link.poll(frame_time + 0.1 - 1e-6) == (b"", b"")
    assert link.poll(frame_time + 0.1) == (b"y" * MAX_FRAME, b"")
    assert frame_time == pytest.approx(0.219, abs=0.002)


def test_noise_under_mnp_delays_but_never_corrupts() -> None:
    data = mail_text(30_000)
    clean = transfer_time(MnpLevel.MNP4, data)
    link = Link(LinkParams(9600, MnpLevel.MNP4), 0.0, NoiseSettings(ber=1e-4), random.Random(5))
    link.send_up(data, 0.0)
    arrivals = run_link(link)
    assert arrivals.to_callee == data
    assert link.up.stats.retransmissions > 0
    assert link.up.stats.corrupted == 0
    assert arrivals.last_at > 1.1 * clean


def test_an_error_shrinks_the_frames() -> None:
    direction = MnpDirection(9600, 0.0, BitErrors(5e-4, random.Random(1)))
    direction.send(mail_text(10_000), 0.0)
    sizes = set()
    t = 0.0
    while (deadline := direction.next_event()) is not None:
        t = deadline
        direction.advance(t)
        direction.take(t)
        sizes.add(direction.frame_size)
    assert min(sizes) < MAX_FRAME
    assert min(sizes) >= MIN_FRAME


def test_hopeless_noise_hangs_up_after_ten_retransmissions() -> None:
    data = mail_text(20_000)
    link = Link(LinkParams(9600, MnpLevel.MNP4), 0.0, NoiseSettings(ber=5e-3), random.Random(2))
    link.send_up(data, 0.0)
    arrivals = run_link(link)
    assert link.loss_reason is LossReason.RETRANSMISSIONS
    assert data.startswith(bytes(arrivals.to_callee))  # what got through is intact
    assert len(arrivals.to_callee) < len(data)
    assert link.up.stats.retransmissions >= 10


def test_the_window_limits_throughput_on_a_long_delay() -> None:
    data = random_bytes(20_000)
    near = transfer_time(MnpLevel.MNP4, data)
    far = transfer_time(MnpLevel.MNP4, data, latency=2.0)
    # Eight 256-octet frames (1.75 s) then wait for the 4 s round trip.
    assert far > 2 * near
