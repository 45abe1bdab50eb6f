"""The POP3 core's exceptions.

Two families, as in h11: ``Pop3Error`` means the *peer* did something the protocol refuses
and carries the ``-ERR`` line to send back; ``Pop3UsageError`` means the *adapter* misused the
core's API (a bug on our side) and has no wire form. The session catches ``Pop3Error`` at its
single command boundary and writes ``exc.reply``; it never lets one escape to the adapter.
"""

from __future__ import annotations

from gateway.pop3.replies import Reply

__all__ = ["BadCommand", "CommandRefused", "Pop3Error", "Pop3UsageError"]


class Pop3Error(Exception):
    """The peer's request cannot be honoured; ``reply`` is the answer to send."""

    #: Whether this error counts towards the session's bad-command limit.
    counts_as_bad_command: bool = False

    def __init__(self, reply: Reply) -> None:
        if reply.ok:
            raise ValueError("a Pop3Error carries an -ERR reply")
        super().__init__(reply.text)
        self.reply = reply


class BadCommand(Pop3Error):
    """Malformed, unknown, over-long or out-of-state command: the client is misbehaving."""

    counts_as_bad_command = True


class CommandRefused(Pop3Error):
    """A well-formed command that cannot be carried out (no such message, already deleted)."""


class Pop3UsageError(RuntimeError):
    """The adapter called the core out of turn (e.g. answered a request nobody made)."""
