"""The failed-login penalty, sans-IO: facts and the time in, a delay out.

As Dovecot's auth penalty and Postfix's anvil: each failure on a client address, and on an
account, doubles the delay of the next attempt there (``penalty_seconds``, then twice that,
up to ``max_penalty_seconds``). Attempts waiting on the same key take turns, one per step,
so a hundred connections from one address guess no faster than one. An attempt whose turn
is further away than the longest delay is refused without a check (and answered, as
temporary failure, after the longest delay): the guesser learns nothing and costs a timer.

The account's penalty does not apply to an address that logged in to that account lately
(``trust_seconds``): someone guessing an agent's password elsewhere cannot lock the agent
out of its own office. The address's own penalty always applies. Time is a float of seconds
on any monotonic clock; the caller reads it.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from config.logins import LoginLimits

__all__ = ["Admission", "LoginPenalty", "client_key"]

_MAX_DOUBLINGS: Final = 30

K = TypeVar("K")
V = TypeVar("V")


def client_key(host: str | None) -> str:
    """What a client address is penalised as: IPv4 as is, IPv6 by its /64 (one customer)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def account_key(user: str) -> str:
    """Accounts by name as typed (lowercased, bounded), known or not: no enumeration."""
    return user.strip().lower()[:320]


@dataclass(frozen=True, slots=True)
class Admission:
    """``wait`` seconds before checking; ``refused``: do not check, answer a temporary failure."""

    wait: float
    refused: bool = False


@dataclass(slots=True)
class _Record:
    failures: int
    last_failure: float
    next_turn: float


class _Bounded(Generic[K, V]):
    """A mapping that forgets its least recently used keys beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._limit:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)


class LoginPenalty:
    def __init__(self, limits: LoginLimits) -> None:
        self.limits = limits
        self._clients: _Bounded[str, _Record] = _Bounded(limits.tracked)
        self._accounts: _Bounded[str, _Record] = _Bounded(limits.tracked)
        self._trusted: _Bounded[tuple[str, str], float] = _Bounded(limits.tracked)

    def step(self, failures: int) -> float:
        """The delay after ``failures`` recent failures (0 for none)."""
        if failures <= 0:
            return 0.0
        doubled = self.limits.penalty_seconds * (1 << min(failures - 1, _MAX_DOUBLINGS))
        return min(doubled, self.limits.max_penalty_seconds)

    def admit(self, client: str, account: str, now: float) -> Admission:
        """An attempt arrives: how long it waits; its turn is reserved."""
        records = self._live(client, account, now)
        if not records:
            return Admission(0.0)
        turn = max(now, *(record.next_turn for record in records))
        wait = turn - now
        if wait > self.limits.max_penalty_seconds:
            return Admission(0.0, refused=True)
        for record in records:
            record.next_turn = turn + self.step(record.failures)
        return Admission(wait)

    def failed(self, client: str, account: str, now: float) -> None:
        for table, key in ((self._clients, client), (self._accounts, account)):
            record = self._fresh(table, key, now)
            if record is None:
                record = _Record(0, now, now)
            record.failures += 1
            record.last_failure = now
            record.next_turn = max(record.next_turn, now + self.step(record.failures))
            table.put(key, record)

    def succeeded(self, client: str, account: str, now: float) -> None:
        """The address is forgiven and trusted for the account; the account's count stands
        (whoever guesses it elsewhere is still slowed down)."""
        self._clients.pop(client)
        if self.limits.trust_seconds > 0:
            self._trusted.put((client, account), now + self.limits.trust_seconds)

    def failures(self, client: str, now: float) -> int:
        """Recent failures of an address: the order in which password checks are served."""
        record = self._fresh(self._clients, client, now)
        return 0 if record is None else record.failures

    def _live(self, client: str, account: str, now: float) -> list[_Record]:
        records = []
        client_record = self._fresh(self._clients, client, now)
        if client_record is not None:
            records.append(client_record)
        trusted_until = self._trusted.get((client, account))
        if trusted_until is None or trusted_until < now:
            account_record = self._fresh(self._accounts, account, now)
            if account_record is not None:
                records.append(account_record)
        return records

    def _fresh(self, table: _Bounded[str, _Record], key: str, now: float) -> _Record | None:
        record = table.get(key)
        if record is not None and now - record.last_failure > self.limits.forget_after_seconds:
            table.pop(key)
            return None
        return record
