"""Log records a test waits for: an event per record, not a sleep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Told", "told"]


class Told(logging.Handler):
    """A logger's records, and a way to wait for those that say something (records
    logged on the event loop's thread, as the node's background passes log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._said = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._said.set()

    async def said(self, words: str, *, times: int = 1, within: float = 10) -> None:
        """Until ``words`` have been said ``times`` times, for at most ``within`` seconds in
        all (however many other records come meanwhile)."""
        async with asyncio.timeout(within):
            while sum(words in record.getMessage() for record in self.records) < times:
                self._said.clear()
                await self._said.wait()

    def at(self, level: int) -> list[logging.LogRecord]:
        return [record for record in self.records if record.levelno >= level]


@contextmanager
def told(name: str) -> Iterator[Told]:
    """What the logger ``name`` says (every level) while in the ``with`` block."""
    handler = Told()
    logger = logging.getLogger(name)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
