"""Recent good logins, so a client that reconnects does not pay Argon2id each time.

An entry is keyed by HMAC-SHA256 of (account, password) under a secret drawn when the
process starts: only the very password that succeeded finds it, a wrong one never does, and
the table holds no password (nor anything that can be checked against one without the
secret). The entry remembers the stored hash it was verified against; the caller compares
it with the account's current hash, so a changed password (from any process sharing the
database) evicts it at the next lookup. Bounded in size (least recently used go first) and
in age. Sans-IO: the time is given.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["LoginCache"]


@dataclass(frozen=True, slots=True)
class _Entry:
    password_hash: str
    stored_at: float


class LoginCache:
    def __init__(self, *, size: int, max_age: float, secret: bytes | None = None) -> None:
        self.size = size
        self.max_age = max_age
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()

    def key(self, account: str, password: str) -> bytes:
        message = (
            account.encode("utf-8", "surrogatepass")
            + b"\0"
            + password.encode("utf-8", "surrogatepass")
        )
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def hit(self, key: bytes, password_hash: str, now: float) -> bool:
        """Whether this login succeeded lately against the account's current ``password_hash``."""
        entry = self._entries.get(key)
        if entry is None:
            return False
        if entry.password_hash != password_hash or now - entry.stored_at > self.max_age:
            del self._entries[key]  # the password changed, or it is too old to vouch
            return False
        self._entries.move_to_end(key)
        return True

    def remember(self, key: bytes, password_hash: str, now: float) -> None:
        if self.size <= 0:
            return
        self._entries[key] = _Entry(password_hash, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
