"""Every login of the node goes through ``LoginChecks``: SMTP, POP3, IMAP and the peers'.

It applies the penalty (``gateway.logins.penalty``) before each check, answers from the
cache of good logins when it can (``gateway.logins.cache``), and runs Argon2id on threads
of its own, behind a gate that serves clean clients first (``gateway.logins.gate``). A
flood of wrong guesses therefore costs at most ``check_threads`` cores, never the threads
the pipeline and the stores use, and never the turn of a client that has not failed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from config.logins import LoginLimits
from gateway.logins.cache import LoginCache
from gateway.logins.gate import FairGate
from gateway.logins.penalty import LoginPenalty, account_key, client_key
from mailboxes.passwords import PasswordHasher
from mailboxes.records import Account
from mailboxes.store import Store

__all__ = ["LoginChecks", "LoginRefused"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class LoginRefused(Exception):
    """Too many recent failures: the attempt was not checked. Answer a temporary failure."""


class LoginChecks:
    def __init__(
        self,
        store: Store,
        *,
        hasher: PasswordHasher,
        limits: LoginLimits | None = None,
        peer_secrets: Mapping[str, str] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.limits = limits = limits or LoginLimits()
        self.peer_secrets = dict(peer_secrets or {})
        self.penalty = LoginPenalty(limits)
        self.cache = LoginCache(size=limits.cache_size, max_age=limits.cache_seconds)
        self._monotonic = monotonic
        self._executor = ThreadPoolExecutor(limits.check_threads, "password-check")
        self._gate = FairGate(limits.check_threads, self._score)
        self._in_flight: dict[tuple[bytes, str], asyncio.Future[bool]] = {}
        self._dummy_hash = hasher.hash("no such account")
        self.verifications = 0
        """Argon2id verifications run so far (a cached login runs none)."""

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def now(self) -> float:
        if self._monotonic is not None:
            return self._monotonic()
        return asyncio.get_running_loop().time()

    # region the three kinds of login

    async def password(self, client: str | None, user: str, password: str) -> Account | None:
        """The account if ``password`` is its password; raises ``LoginRefused``."""

        async def check() -> Account | None:
            found = await self.store.credentials(user)
            if found is None:  # as costly as a real account: no enumeration by timing
                await self._verify(client_key(client), self._dummy_hash, password, b"")
                return None
            account, password_hash = found
            key = self.cache.key(account.address, password)
            if self.cache.hit(key, password_hash, self.now()):
                return account
            if not await self._verify(client_key(client), password_hash, password, key):
                return None
            self.cache.remember(key, password_hash, self.now())
            return account

        return await self.attempt(client, user, check)

    async def peer(self, client: str | None, node: str, secret: str) -> bool:
        """Whether ``secret`` is the one shared with peer ``node``; raises ``LoginRefused``."""
        expected = self.peer_secrets.get(node)

        async def check() -> bool | None:
            if expected is None:
                return None
            return hmac.compare_digest(secret.encode(), expected.encode()) or None

        return await self.attempt(client, f"peer:{node}", check) is not None

    def is_peer(self, user: str) -> bool:
        return "@" not in user and user in self.peer_secrets

    async def attempt(
        self, client: str | None, user: str, check: Callable[[], Awaitable[T | None]]
    ) -> T | None:
        """Run one login ``check`` (``None``: failed) under the penalty of ``client`` and
        ``user``; for logins checked elsewhere (APOP)."""
        address, account = client_key(client), account_key(user)
        admission = self.penalty.admit(address, account, self.now())
        if admission.refused:
            # Unchecked, but answered no sooner than a checked attempt would be: a guesser
            # that ignores the refusal gets one answer per longest delay, and costs a timer.
            log.debug("login from %s as %r refused: too many failures", address, user)
            await asyncio.sleep(self.limits.max_penalty_seconds)
            raise LoginRefused(address)
        if admission.wait > 0:
            await asyncio.sleep(admission.wait)
        result = await check()
        if result is None:
            self.penalty.failed(address, account, self.now())
            failures = self.penalty.failures(address, self.now())
            if failures >= 8 and failures & (failures - 1) == 0:  # 8, 16, 32...: not each one
                log.warning("%d failed logins from %s, latest as %r", failures, address, user)
        else:
            self.penalty.succeeded(address, account, self.now())
        return result

    # endregion

    def _score(self, client: str) -> int:
        return self.penalty.failures(client, self.now())

    async def _verify(self, client: str, password_hash: str, password: str, key: bytes) -> bool:
        """Argon2id on the check threads; identical checks under way are shared, not rerun."""
        flight = (key or self.cache.key("", password), password_hash)
        running = self._in_flight.get(flight)
        if running is None:
            running = asyncio.ensure_future(self._run(client, password_hash, password))
            self._in_flight[flight] = running
            running.add_done_callback(lambda _: self._in_flight.pop(flight, None))
        return await asyncio.shield(running)

    async def _run(self, client: str, password_hash: str, password: str) -> bool:
        await self._gate.acquire(client)
        try:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(
                self._executor, self.hasher.verify, password_hash, password
            )
        except BaseException:
            self._gate.release()
            raise
        future.add_done_callback(lambda _: self._gate.release())
        self.verifications += 1
        return await future
