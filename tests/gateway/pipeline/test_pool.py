"""The analysis pool out of descriptors: it says so, and keeps its size for when they return.

A killed process is replaced on the next request. When the node was out of file
descriptors, starting the replacement failed and the dead process was dropped from the pool:
with one process, every later mail waited for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
from collections.abc import Iterator
from datetime import date

import pytest

from config import OfficeRegistry
from config.reference import shipped_reference
from gateway.pipeline.pool import AnalysisPool, Submission
from gateway.pipeline.process import AnalysisBudget, NothingReadable
from tests.gateway.pipeline.test_budget import part_bomb


def submission(raw: bytes) -> Submission:
    return Submission(raw, as_of=date(2026, 11, 2), addressed_office="118", sender_agent_code=None)


@contextlib.contextmanager
def no_descriptors_left() -> Iterator[None]:
    """Every descriptor number this process may still open is taken (holes too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))
    taken: list[int] = []
    try:
        with contextlib.suppress(OSError):
            while True:
                taken.append(os.open(os.devnull, os.O_RDONLY))
        yield
    finally:
        for fd in taken:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_a_replacement_that_cannot_start_keeps_its_place(offices: OfficeRegistry) -> None:
    pool = AnalysisPool(
        1,
        offices=offices,
        reference=shipped_reference(),
        budget=AnalysisBudget(max_parts=1_000_000, seconds=0.2),
    )
    try:
        await pool.start()
        with no_descriptors_left(), pytest.raises(OSError):
            # Seconds of parsing: killed at 0.2 s, and no process can take its place.
            await pool.analyse(submission(part_bomb(300_000)))
        assert pool.replaced == 1
        async with asyncio.timeout(30):  # descriptors again: the next mail is read
            analysis = await pool.analyse(submission(part_bomb(3)))
        assert isinstance(analysis.outcomes[0], NothingReadable)  # read, and found wanting
    finally:
        await pool.close()


async def test_a_start_without_descriptors_fails_and_is_tried_again(
    offices: OfficeRegistry,
) -> None:
    pool = AnalysisPool(1, offices=offices, reference=shipped_reference())
    try:
        with no_descriptors_left(), pytest.raises(OSError):
            await pool.start()
        async with asyncio.timeout(30):
            analysis = await pool.analyse(submission(part_bomb(3)))
        assert isinstance(analysis.outcomes[0], NothingReadable)  # read, and found wanting
    finally:
        await pool.close()
