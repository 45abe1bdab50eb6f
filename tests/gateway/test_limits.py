"""``gateway.limits``: the connection counts, the log gate and asyncio's accept failures."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource

import pytest

from gateway.limits import (
    FD_RESERVE,
    ConnectionLimits,
    FullStoreLog,
    RateLimitedLog,
    Refusal,
    fd_bounded_cap,
    peer_address,
    quiet_accept_errors,
)


def test_per_address_cap_then_global_cap() -> None:
    limits = ConnectionLimits(max_connections=3, max_per_address=2)
    assert limits.admit("10.0.0.1") is None
    assert limits.admit("10.0.0.1") is None
    assert limits.admit("10.0.0.1") is Refusal.ADDRESS_FULL
    assert limits.admit("10.0.0.2") is None
    assert limits.admit("10.0.0.3") is Refusal.NODE_FULL
    assert limits.total == 3
    limits.release("10.0.0.1")
    assert limits.open_from("10.0.0.1") == 1
    assert limits.admit("10.0.0.3") is None


def test_release_without_admit_is_a_bug() -> None:
    limits = ConnectionLimits(max_connections=3, max_per_address=2)
    with pytest.raises(RuntimeError):
        limits.release("10.0.0.1")


def test_peer_address_of_ipv4_ipv6_and_unix() -> None:
    assert peer_address(("127.0.0.1", 5000)) == "127.0.0.1"
    assert peer_address(("::1", 5000, 0, 0)) == "::1"
    assert peer_address("") == ""


def test_log_gate_says_how_many_were_held_back() -> None:
    gate = RateLimitedLog(interval=10)
    assert gate.due(0.0) == 0
    assert [gate.due(t) for t in (1.0, 2.0, 9.9)] == [None, None, None]
    assert gate.due(10.0) == 3
    assert gate.due(15.0) is None


def test_a_failure_held_back_is_a_debug_line_and_the_next_traceback_counts_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = RateLimitedLog(interval=60)
    logger = logging.getLogger("tests.passes")
    with caplog.at_level(logging.DEBUG, logger="tests.passes"):
        for now in (0.0, 1.0, 2.0, 61.0):
            try:
                raise OSError(111, "Connection refused")
            except OSError:
                gate.exception(logger, now, "pass %s", "failed")
    assert [(r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records] == [
        ("ERROR", "pass failed (0 more since the last such line)", True),
        ("DEBUG", "pass failed: [Errno 111] Connection refused", False),
        ("DEBUG", "pass failed: [Errno 111] Connection refused", False),
        ("ERROR", "pass failed (2 more since the last such line)", True),
    ]


def test_a_full_store_is_told_once_a_minute_and_once_when_it_has_room(
    caplog: pytest.LogCaptureFixture,
) -> None:
    full = FullStoreLog("SMTP deliveries", interval=60)
    logger = logging.getLogger("tests.full")
    with caplog.at_level(logging.DEBUG, logger="tests.full"):
        full.taken(logger)  # nothing was refused: nothing to say
        for now in (0.0, 1.0, 59.0, 60.0, 61.0):
            full.refused(logger, now, "database or disk is full")
        full.taken(logger)
        full.taken(logger)
        full.refused(logger, 62.0, "database or disk is full")  # a new shortage: told at once
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "ERROR",
            "the store is full (database or disk is full): SMTP deliveries are refused"
            " until there is room (0 more since the last such line)",
        ),
        (
            "ERROR",
            "the store is full (database or disk is full): SMTP deliveries are refused"
            " until there is room (2 more since the last such line)",
        ),
        (
            "WARNING",
            "the store has room again: SMTP deliveries are taken, after 5 refused for want of room",
        ),
        (
            "ERROR",
            "the store is full (database or disk is full): SMTP deliveries are refused"
            " until there is room (0 more since the last such line)",
        ),
    ]


def test_cap_is_lowered_to_fit_the_descriptor_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert fd_bounded_cap(10**9) == soft - FD_RESERVE
    assert fd_bounded_cap(5) == 5


async def test_accept_failures_are_one_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.get_running_loop()
    others: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: others.append(context))
    restore = quiet_accept_errors(loop, interval=60)
    try:
        with caplog.at_level(logging.ERROR, logger="gateway.limits"):
            for _ in range(3200):  # what asyncio reports at the descriptor limit
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(errno.EMFILE, "Too many open files"),
                    }
                )
            loop.call_exception_handler({"message": "something else"})
    finally:
        restore()
    lines = [r for r in caplog.records if r.name == "gateway.limits"]
    assert len(lines) == 1
    assert "Too many open files" in lines[0].getMessage()
    assert lines[0].exc_info is None  # no traceback
    assert others == [{"message": "something else"}]  # other errors reach the old handler
    loop.call_exception_handler({"message": "socket.accept() out of system resource"})
    assert len(others) == 2  # restored: the old handler has everything again
    loop.set_exception_handler(None)


async def test_the_accept_retry_on_a_listener_closed_at_shutdown_is_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After an EMFILE asyncio retries ``accept`` a second later; at shutdown the listener
    may be closed by then, and the retry's ``ValueError`` was logged with a traceback."""
    loop = asyncio.get_running_loop()
    others: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: others.append(context))
    restore = quiet_accept_errors(loop, interval=60)
    try:
        with caplog.at_level(logging.DEBUG, logger="gateway.limits"):
            loop.call_exception_handler(
                {
                    "message": "Exception in callback BaseSelectorEventLoop._start_serving(...)",
                    "exception": ValueError("Invalid file descriptor: -1"),
                }
            )
    finally:
        restore()
        loop.set_exception_handler(None)
    assert others == []
    assert [r.levelno for r in caplog.records if r.name == "gateway.limits"] == [logging.DEBUG]
