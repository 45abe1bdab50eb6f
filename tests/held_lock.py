"""How long a pass over a large mail holds the interpreter's lock in one call.

A thread in one call into C (a count, a replace over megabytes) keeps the lock for the
call's length, and the event loop waits meanwhile. Measured in CPU time, as a share of the
whole pass, so that it says the same on a busy machine.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["longest_call_share"]


def longest_call_share(fn: Callable[[], object]) -> float:
    """The longest single call into C while ``fn`` ran, as a share of all ``fn``'s CPU
    time."""
    longest, started = 0.0, 0.0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal longest, started
        if event == "c_call":
            started = time.thread_time()
        elif event in ("c_return", "c_exception"):
            longest = max(longest, time.thread_time() - started)

    begin = time.thread_time()
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return longest / (time.thread_time() - begin)
