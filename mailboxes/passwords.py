"""Password hashing with Argon2id, a memory-hard KDF: a stolen store yields no passwords."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["PasswordHasher"]


@dataclass(frozen=True)
class PasswordHasher:
    """Argon2id with explicit costs; tests use small ones, production the RFC 9106 profile."""

    time_cost: int = 2
    memory_kib: int = 19 * 1024
    parallelism: int = 1

    @property
    def _argon2(self) -> _Argon2:
        return _Argon2(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism
        )

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def hash_async(self, password: str) -> str:
        return await asyncio.to_thread(self.hash, password)
