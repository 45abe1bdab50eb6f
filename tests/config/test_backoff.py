"""The reconnection schedule shared by the office watcher and the store's change notices, and
how often a lasting failure is told."""

from __future__ import annotations

from config.backoff import Backoff, told_again


def test_backoff_doubles_up_to_its_maximum_and_resets() -> None:
    backoff = Backoff(initial=0.5, maximum=3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_a_lasting_failure_is_told_again_at_the_8th_16th_32nd() -> None:
    assert [n for n in range(1, 130) if told_again(n)] == [8, 16, 32, 64, 128]
