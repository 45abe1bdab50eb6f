"""A direct call (already dialled): data, the server hanging up, carrier loss."""

from __future__ import annotations

import pytest

from dialup_sim.direct import DirectCall
from dialup_sim.events import CallEnded, DialOutcome, ToCallee, ToCaller
from dialup_sim.line import LinkParams, MnpLevel
from dialup_sim.noise import NoiseSettings


def test_data_both_ways_at_line_speed() -> None:
    call = DirectCall(1, LinkParams(9600), 0.0)
    call.from_caller(b"x" * 96, 0.0)  # 0.1 s at 960 characters a second
    call.from_callee(b"y" * 48, 0.0)  # 0.05 s
    assert call.poll(0.05) == [ToCallee(b"x" * 48), ToCaller(b"y" * 48)]
    assert call.poll(0.1) == [ToCallee(b"x" * 48)]
    assert call.dial_outcome(1, DialOutcome.ANSWERED, 0.1) is False


def test_server_close_drains_then_ends() -> None:
    call = DirectCall(7, LinkParams(9600, MnpLevel.MNP4), 0.0)
    call.from_callee(b"221 bye\r\n", 0.0)
    call.callee_closed(0.0)
    assert call.poll(0.0) == []
    deadline = call.next_deadline()
    assert deadline is not None
    events = call.poll(deadline)
    assert events[0] == ToCaller(b"221 bye\r\n")
    assert isinstance(events[1], CallEnded)
    assert events[1].report.reason == "remote hung up"
    assert events[1].report.ended_at == pytest.approx(deadline)
    assert call.next_deadline() is None


def test_caller_close_ends_at_once() -> None:
    call = DirectCall(2, LinkParams(9600), 0.0)
    call.from_caller(b"x" * 1000, 0.0)
    call.caller_closed(0.5)
    crossed, ended = call.poll(0.5)
    assert crossed == ToCallee(b"x" * 480)  # what had crossed in half a second
    assert isinstance(ended, CallEnded)
    assert ended.report.reason == "caller hung up"
    assert ended.report.up.delivered == 480
    assert call.poll(10.0) == []


def test_carrier_loss_ends_the_call() -> None:
    call = DirectCall(3, LinkParams(9600), 0.0, noise=NoiseSettings(drop_after=2.0))
    call.from_caller(b"x" * 9600, 0.0)
    events = call.poll(5.0)
    assert events[0] == ToCallee(b"x" * 1920)
    assert isinstance(events[1], CallEnded)
    assert events[1].report.reason == "carrier lost"


def test_unreachable_server() -> None:
    call = DirectCall(4, LinkParams(9600), 0.0)
    call.unreachable(0.1)
    (event,) = call.poll(0.1)
    assert isinstance(event, CallEnded) and event.report.reason == "no answer"
