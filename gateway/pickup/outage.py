"""How a source's failed polls are told: once when they start, then ever more rarely.

A source down polls and fails every ``poll_seconds`` (a minute by default) for as long as it
is down. A line per poll says nothing new after the first; the operator needs to read that
it failed and why, that it still fails now and then, and that it works again. A value with
no clock and no logger: the worker asks it what to say.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from config.backoff import told_again

__all__ = ["Outage", "Tell"]


class Tell(Enum):
    """What a failed poll is worth in the log."""

    NOTHING = "nothing"
    """A failure like the last one, in the middle of a run."""
    NEW = "new"
    """The first failure of a run, or one for another reason than the last."""
    STILL = "still"
    """The same failure again, for the 8th, 16th, 32nd… time in a row."""


@dataclass
class Outage:
    """One source's run of failed polls."""

    failures: int = 0
    """Failed polls in a row (0: the last one worked)."""
    reason: str | None = None

    def failed(self, reason: str) -> Tell:
        """Count a failed poll, and say what it is worth."""
        self.failures += 1
        changed, self.reason = reason != self.reason, reason
        if self.failures == 1 or changed:
            return Tell.NEW
        return Tell.STILL if told_again(self.failures) else Tell.NOTHING

    def worked(self) -> int:
        """A poll worked: how many had failed in a row before it (0: nothing to tell)."""
        failures, self.failures, self.reason = self.failures, 0, None
        return failures
