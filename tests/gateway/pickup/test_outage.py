"""What a source's failed polls are worth in the log (``gateway.pickup.outage``)."""

from __future__ import annotations

from gateway.pickup.outage import Outage, Tell


def test_a_run_of_failures_is_told_at_its_start_then_at_the_8th_16th_32nd() -> None:
    outage = Outage()
    told = {n: outage.failed("refused") for n in range(1, 40)}
    assert [n for n, tell in told.items() if tell is not Tell.NOTHING] == [1, 8, 16, 32]
    assert (told[1], told[8], told[16]) == (Tell.NEW, Tell.STILL, Tell.STILL)


def test_another_reason_is_told_at_once_and_counts_on() -> None:
    outage = Outage()
    assert [outage.failed(reason) for reason in ("refused", "refused", "timed out")] == [
        Tell.NEW,
        Tell.NOTHING,
        Tell.NEW,
    ]
    assert outage.failures == 3


def test_a_poll_that_works_ends_the_run_and_says_how_long_it_was() -> None:
    outage = Outage()
    assert outage.worked() == 0  # nothing failed: nothing to tell
    for _ in range(5):
        outage.failed("refused")
    assert outage.worked() == 5
    assert outage.failed("refused") is Tell.NEW  # a new run
