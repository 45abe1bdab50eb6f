"""The office's decision on a mailbox request: what refuses an approval (pure), and the
approval or rejection committed with the letter that tells the requester.

Used by ``teledispatch account approve|reject``; the facts are read first, the decision is
taken on them, the letter composed, and only then one transaction commits it all.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from config.clock import Clock
from config.offices import OfficeRegistry
from gateway.lane import in_lane
from gateway.registration.letters import Origin, approval, rejection
from mailboxes.records import Recipient
from mailboxes.registrations import (
    AlreadyDecided,
    Letter,
    MailboxRequest,
    MailboxRequests,
    RequestState,
)
from mailboxes.store import AccountExists, Store
from validators.ruc import ruc_problem

__all__ = [
    "Approved",
    "Decided",
    "DecisionRefused",
    "Facts",
    "RegistrationOffice",
    "approval_problems",
    "new_password",
]

_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/l/I: the password may be read aloud or copied from paper."""


def new_password(length: int = 12) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True, slots=True)
class Facts:
    """What the store and the topology say about a request when it is decided."""

    mailbox_taken: bool
    """An account with the requested address exists on this node."""
    mailbox_homed_on: str | None
    """The node the topology says hosts the requested address, when it is another one."""
    agent_code_holder: str | None
    """The address already holding the requested agent code."""


def approval_problems(
    request: MailboxRequest, facts: Facts, *, registry: OfficeRegistry, domain: str
) -> list[str]:
    """Why ``request`` cannot be approved (empty: it can)."""
    problems: list[str] = []
    if request.state is not RequestState.PENDING:
        problems.append(
            f"request {request.number} is already {request.state.value} "
            f"(by {request.decided_by} on {request.decided_at:%Y-%m-%d %H:%M} UTC)"
        )
    if facts.mailbox_taken:
        problems.append(f"{request.mailbox} already has a mailbox on this node")
    if facts.mailbox_homed_on is not None:
        problems.append(f"{request.mailbox} is hosted by node {facts.mailbox_homed_on}")
    if request.mailbox.rpartition("@")[2] == domain.lower():
        problems.append(f"{request.mailbox} is in the customs domain {domain}")
    if facts.agent_code_holder is not None:
        problems.append(
            f"agent code {request.agent_code} already belongs to {facts.agent_code_holder}"
        )
    ruc = ruc_problem(request.ruc)
    if ruc is not None:
        problems.append(f"RUC: {ruc}")
    unknown = [code for code in request.offices if code not in registry]
    if unknown:
        problems.append(f"no such office in the registry: {', '.join(unknown)}")
    if not request.offices:
        problems.append("the request names no office")
    return problems


class DecisionRefused(Exception):
    """The decision cannot be taken; ``problems`` say why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Decided:
    request: MailboxRequest
    letter_to: str
    """Where the letter went, in words: a mailbox here, a peer, or held here."""
    reachable: bool
    """Whether the requester can read the letter without the password it carries."""


@dataclass(frozen=True, slots=True)
class Approved(Decided):
    password: str


class RegistrationOffice:
    """Decides requests on one node's store; ``hosted_elsewhere`` is the router's lookup."""

    def __init__(
        self,
        store: Store,
        *,
        registration_address: str,
        domain: str,
        registry: OfficeRegistry,
        clock: Clock,
        hosted_elsewhere: Callable[[str], str | None],
        server: str | None = None,
    ) -> None:
        self._store = store
        self._requests = MailboxRequests(store)
        self._address = registration_address
        self._domain = domain
        self._registry = registry
        self._clock = clock
        self._elsewhere = hosted_elsewhere
        self._server = server

    @property
    def requests(self) -> MailboxRequests:
        return self._requests

    async def _get(self, number: int) -> MailboxRequest:
        request = await self._requests.get(number)
        if request is None:
            raise DecisionRefused([f"there is no request {number}"])
        return request

    async def _route(self, address: str) -> tuple[Recipient, str, bool]:
        node = self._elsewhere(address)
        if node is not None:
            return Recipient(address, relay_to=node), f"relayed to node {node} for {address}", True
        if await self._store.get_account(address) is not None:
            return Recipient(address), f"delivered to the mailbox {address}", True
        return Recipient(address), f"held at this node under {address} (no route to it)", False

    async def approve(self, number: int, *, by: str) -> Approved:
        request = await self._get(number)
        facts = Facts(
            mailbox_taken=await self._store.get_account(request.mailbox) is not None,
            mailbox_homed_on=self._elsewhere(request.mailbox),
            agent_code_holder=await self._requests.agent_code_holder(request.agent_code),
        )
        problems = approval_problems(request, facts, registry=self._registry, domain=self._domain)
        if problems:
            raise DecisionRefused(problems)
        password = new_password()
        password_hash = await self._store.hasher.hash_async(password)
        origin = Origin(self._address, self._domain, self._clock.now())
        raw = await in_lane(approval, origin, request, password=password, server=self._server)
        if request.requester == request.mailbox:
            target, where, reachable = Recipient(request.mailbox), "filed in the new mailbox", False
        else:
            target, where, reachable = await self._route(request.requester)
        try:
            decided = await self._requests.approve(
                number, password_hash=password_hash, by=by, letter=Letter(target, raw)
            )
        except AlreadyDecided as exc:
            raise DecisionRefused([f"request {number} was decided meanwhile"]) from exc
        except AccountExists as exc:
            raise DecisionRefused(["the address or the agent code was taken meanwhile"]) from exc
        return Approved(decided, where, reachable, password)

    async def reject(self, number: int, *, reason: str, by: str) -> Decided:
        request = await self._get(number)
        if request.state is not RequestState.PENDING:
            raise DecisionRefused([f"request {number} is already {request.state.value}"])
        if not reason.strip():
            raise DecisionRefused(["a rejection needs its reason (--reason)"])
        origin = Origin(self._address, self._domain, self._clock.now())
        raw = await in_lane(rejection, origin, request, reason=reason.strip())
        target, where, reachable = await self._route(request.requester)
        try:
            decided = await self._requests.reject(
                number, reason=reason.strip(), by=by, letter=Letter(target, raw)
            )
        except AlreadyDecided as exc:
            raise DecisionRefused([f"request {number} was decided meanwhile"]) from exc
        return Decided(decided, where, reachable)
