"""Exclusive maildrop locks (RFC 1939 section 4), held in process by the POP3 server.

One node serves a maildrop from one process, so a set of locked addresses is enough. The
server takes the lock only after the credentials are good (so ``[IN-USE]`` tells nothing to
someone who does not know the password) and releases it when the connection ends, however
it ends.
"""

from __future__ import annotations

__all__ = ["MaildropLocks"]


class MaildropLocks:
    """The set of maildrops (normalised addresses) some session currently holds."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    def acquire(self, address: str) -> bool:
        """Take the lock; ``False`` if another session already holds it."""
        if address in self._held:
            return False
        self._held.add(address)
        return True

    def release(self, address: str) -> None:
        self._held.discard(address)

    def __contains__(self, address: object) -> bool:
        return address in self._held

    def __len__(self) -> int:
        return len(self._held)
