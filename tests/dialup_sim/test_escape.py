"""``+++`` timing on the detector alone: guard before, within, after (S12 = 1 s)."""

from __future__ import annotations

from dialup_sim.escape import EscapeDetector

GUARD = 1.0
PLUS = ord("+")


def feed_bytes(detector: EscapeDetector, timed: list[tuple[float, bytes]]) -> None:
    for when, data in timed:
        for byte in data:  # one byte at a time, as a slow DTE would
            detector.feed(bytes((byte,)), when, PLUS, GUARD)


def test_clean_escape_completes_after_the_post_guard() -> None:
    detector = EscapeDetector(0.0)
    feed_bytes(detector, [(5.0, b"+"), (5.1, b"+"), (5.2, b"+")])
    assert detector.deadline(GUARD) == 6.2
    assert not detector.expired(6.19, GUARD)
    assert detector.expired(6.2, GUARD)
    assert not detector.expired(7.0, GUARD)  # only once


def test_no_pre_guard_no_escape() -> None:
    detector = EscapeDetector(0.0)
    feed_bytes(detector, [(5.0, b"x"), (5.5, b"+++")])
    assert detector.deadline(GUARD) is None


def test_pluses_too_far_apart_are_data() -> None:
    detector = EscapeDetector(0.0)
    feed_bytes(detector, [(5.0, b"+"), (5.6, b"+"), (6.1, b"+")])
    assert detector.deadline(GUARD) is None


def test_a_byte_during_the_post_guard_cancels() -> None:
    detector = EscapeDetector(0.0)
    feed_bytes(detector, [(5.0, b"+++"), (5.5, b"A")])
    assert not detector.expired(10.0, GUARD)


def test_a_fourth_plus_cancels() -> None:
    detector = EscapeDetector(0.0)
    feed_bytes(detector, [(5.0, b"+++"), (5.9, b"+")])
    assert not detector.expired(10.0, GUARD)


def test_plus_inside_text_is_not_an_escape() -> None:
    detector = EscapeDetector(0.0)
    feed_bytes(detector, [(5.0, b"a+++")])
    assert not detector.expired(10.0, GUARD)


def test_a_late_plus_may_start_a_new_sequence() -> None:
    detector = EscapeDetector(0.0)
    feed_bytes(detector, [(5.0, b"+"), (7.0, b"+"), (7.1, b"+"), (7.2, b"+")])
    assert detector.expired(8.2, GUARD)


def test_disabled_escape_character() -> None:
    detector = EscapeDetector(0.0)
    for byte in b"+++":
        detector.feed(bytes((byte,)), 5.0, None, GUARD)
    assert not detector.expired(10.0, GUARD)
