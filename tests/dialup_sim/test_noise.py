"""The bit-error source and the carrier-loss plan."""

from __future__ import annotations

import random

import pytest

from dialup_sim.noise import BitErrors, CarrierLoss, NoiseSettings


def test_a_clean_line_has_no_errors() -> None:
    errors = BitErrors(0.0, random.Random(1))
    assert errors.error_positions(10**7) == []
    assert errors.corrupt_async(b"abc") == (b"abc", 0)


def test_error_count_follows_the_rate() -> None:
    errors = BitErrors(1e-3, random.Random(1))
    total = sum(len(errors.error_positions(10_000)) for _ in range(100))
    assert total == pytest.approx(1000, rel=0.1)


def test_positions_are_within_each_block_and_sorted() -> None:
    errors = BitErrors(0.05, random.Random(2))
    for _ in range(50):
        positions = errors.error_positions(100)
        assert positions == sorted(positions)
        assert all(0 <= p < 100 for p in positions)


def test_same_seed_same_errors() -> None:
    first = BitErrors(1e-2, random.Random(9)).error_positions(10_000)
    second = BitErrors(1e-2, random.Random(9)).error_positions(10_000)
    assert first == second and first


def test_carrier_loss_plan() -> None:
    rng = random.Random(4)
    assert CarrierLoss.plan(NoiseSettings(), 10.0, rng) is None
    assert CarrierLoss.plan(NoiseSettings(drop_after=5.0), 10.0, rng) == 15.0
    drops = [CarrierLoss.plan(NoiseSettings(drop_per_minute=0.5), 0.0, rng) for _ in range(400)]
    within_a_minute = sum(1 for d in drops if d is not None and d <= 60.0)
    assert within_a_minute == pytest.approx(200, rel=0.2)


@pytest.mark.parametrize(
    "options", [{"ber": -0.1}, {"ber": 1.0}, {"drop_per_minute": 1.0}, {"drop_after": -1.0}]
)
def test_impossible_settings_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        NoiseSettings(**options)
