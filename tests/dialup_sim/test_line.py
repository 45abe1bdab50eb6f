"""The line without error control: 10 bits a character, latency, noise, carrier loss."""

from __future__ import annotations

import random

import pytest

from dialup_sim.line import Link, LinkParams, LossReason, MnpLevel
from dialup_sim.noise import NoiseSettings
from tests.dialup_sim.linerun import run_link
from tests.dialup_sim.samples import mail_text


def test_48000_bytes_at_9600_without_error_control_take_50_seconds() -> None:
    data = mail_text(48_000)
    link = Link(LinkParams(9600, MnpLevel.NONE), start=0.0)
    link.send_up(data, 0.0)
    arrivals = run_link(link)
    assert arrivals.to_callee == data
    assert arrivals.last_at == pytest.approx(50.0, rel=0.01)


@pytest.mark.parametrize("bps", [300, 2400, 14400, 57600])
def test_other_rates_cost_ten_bits_a_character(bps: int) -> None:
    link = Link(LinkParams(bps), start=5.0)
    link.send_up(b"x" * 1200, 5.0)
    assert run_link(link).last_at == pytest.approx(5.0 + 12_000 / bps)


def test_latency_is_added_once_and_bytes_flow_one_by_one() -> None:
    link = Link(LinkParams(9600, latency=0.25), start=0.0)
    link.send_down(b"abc", 0.0)
    assert link.poll(0.25) == (b"", b"")
    assert link.poll(0.25 + 10 / 9600) == (b"", b"a")
    assert link.poll(0.25 + 30 / 9600) == (b"", b"bc")


def test_writes_queue_behind_each_other_and_the_line_idles_between() -> None:
    link = Link(LinkParams(9600), start=0.0)
    link.send_up(b"a" * 960, 0.0)
    link.send_up(b"b" * 960, 0.5)  # queued behind the first second
    link.send_up(b"c", 10.0)  # the line was idle: starts at once
    arrivals = run_link(link)
    assert arrivals.to_callee == b"a" * 960 + b"b" * 960 + b"c"
    assert arrivals.last_at == pytest.approx(10.0 + 10 / 9600)


def test_backlog_is_what_has_not_reached_the_line() -> None:
    link = Link(LinkParams(9600), start=0.0)
    link.send_up(b"x" * 960, 0.0)
    assert link.up.backlog(0.0) == 960
    assert link.up.backlog(0.5) == 480
    assert link.up.backlog(2.0) == 0


def test_noise_without_error_control_corrupts_bytes_reproducibly() -> None:
    data = mail_text(20_000)

    def send() -> tuple[bytes, int]:
        link = Link(LinkParams(9600), 0.0, NoiseSettings(ber=1e-4), random.Random(3))
        link.send_up(data, 0.0)
        received = bytes(run_link(link).to_callee)
        return received, link.up.stats.corrupted

    received, corrupted = send()
    assert len(received) == len(data)
    assert received != data
    differing = sum(1 for a, b in zip(received, data, strict=True) if a != b)
    assert differing == corrupted
    assert 5 <= corrupted <= 40  # about 200 000 bits * 1e-4
    assert send() == (received, corrupted)


def test_carrier_loss_stops_delivery_at_the_drop() -> None:
    link = Link(LinkParams(9600), 0.0, NoiseSettings(drop_after=1.0))
    link.send_up(b"x" * 9600, 0.0)
    arrivals = run_link(link)
    assert link.lost_at == 1.0
    assert link.loss_reason is LossReason.CARRIER
    assert len(arrivals.to_callee) == 960
    link.send_up(b"more", 2.0)
    assert link.poll(100.0) == (b"", b"")


def test_a_rate_outside_the_profile_is_refused() -> None:
    with pytest.raises(ValueError):
        LinkParams(9601)
    with pytest.raises(ValueError):
        LinkParams(9600, latency=-1.0)


def test_carrier_drops_once_the_byte_limit_has_crossed() -> None:
    link = Link(LinkParams(9600), 0.0, NoiseSettings(drop_after_bytes=1000))
    link.send_up(b"u" * 600, 0.0)
    link.send_down(b"d" * 600, 0.0)
    arrivals = run_link(link)
    assert len(arrivals.to_callee) + len(arrivals.to_caller) == 1000  # both directions count
    assert link.loss_reason is LossReason.CARRIER
    assert link.lost_at is not None and link.lost_at < 1.0  # 600 characters take 0.625 s
    assert link.poll(100.0) == (b"", b"")


def test_below_the_byte_limit_the_carrier_holds() -> None:
    link = Link(LinkParams(9600), 0.0, NoiseSettings(drop_after_bytes=1000))
    link.send_up(b"u" * 999, 0.0)
    assert len(run_link(link).to_callee) == 999
    assert link.lost_at is None
    with pytest.raises(ValueError):
        NoiseSettings(drop_after_bytes=0)
