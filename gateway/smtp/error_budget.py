"""How many errors and idle commands one SMTP session may spend before it is closed.

aiosmtpd answers any number of commands on one connection. A client that never logged in
pipelined 100 000 ``NOOP``s, or 100 000 ``VRFY``s each answered ``530``, and had them all
answered in 0.8 s: it could go on for its whole login time, reconnect and go on again, a core
of the node for one client. Postfix ends a session at its 20th error
(``smtpd_hard_error_limit``) and counts each ``NOOP``, ``RSET``, ``VRFY`` or ``ETRN`` past
the 100th (``smtpd_junk_command_limit``) as an error; both counts start again when a message
is delivered. So does the node, counting greetings (``EHLO``, ``HELO``) and ``HELP`` among
the idle commands too: a session greets once, or twice around ``STARTTLS``. (``ETRN`` and
``EXPN`` are refused here, so each is an error already.)

Sans-IO: the session tells it each idle command and each reply; it says when the session
has spent its errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["HARD_ERROR_LIMIT", "IDLE_COMMANDS", "JUNK_COMMAND_LIMIT", "ErrorBudget"]

HARD_ERROR_LIMIT: Final = 20
JUNK_COMMAND_LIMIT: Final = 100
IDLE_COMMANDS: Final = frozenset({"NOOP", "RSET", "VRFY", "HELP", "EHLO", "HELO"})
"""Commands that deliver nothing: past ``JUNK_COMMAND_LIMIT`` each counts as an error."""


@dataclass(slots=True)
class ErrorBudget:
    errors: int = 0
    idle: int = 0

    def command(self, verb: str) -> None:
        """A command came; an idle one past the limit is an error."""
        if verb in IDLE_COMMANDS:
            self.idle += 1
            if self.idle > JUNK_COMMAND_LIMIT:
                self.errors += 1

    def replied(self, reply: str) -> None:
        """A reply went out: a refusal (4xx, 5xx) is an error; ``421`` ends the session
        anyway."""
        if reply[:1] in ("4", "5") and not reply.startswith("421"):
            self.errors += 1

    def delivered(self) -> None:
        """A message was taken: the session starts its counts again."""
        self.errors = self.idle = 0

    @property
    def spent(self) -> bool:
        return self.errors >= HARD_ERROR_LIMIT
