"""The registration desk: the one door of a node open without SMTP AUTH.

The SMTP handler asks it, for its registration address only, whether a sender and a client
may hand in a request now (``admit``: rate limits per sender address and per client
address), and gives it the mail (``receive``). The desk reads the form off the event loop,
files the mail in the registration address's INBOX and, when it is a complete request, a
pending request under a new number, and answers the requester, all in one transaction
before the ``250``.

Where answers go: the requester is usually not hosted anywhere this deployment knows. The
node's only outbound path is its peers' relay queue (the routing snapshot's ``remote_node``, the
same route replies to agents homed on another node take). An address a peer hosts gets its answer
relayed there; any other address gets it filed here, under that address: held at the node
until its owner can read it. When the requested mailbox is the requester's own address, as
it usually is, the approved account finds the whole exchange in its INBOX. Nothing is ever
sent to a domain the deployment does not host: the desk is not a relay.
"""

from __future__ import annotations

import email.parser
import email.policy
import time
from collections.abc import Callable

from config.clock import Clock
from config.offices import OfficeRegistry
from config.registration import RegistrationSettings
from gateway.lane import in_lane
from gateway.limiter import RateLimiter
from gateway.registration.form import IncompleteRequest, MailboxRequestForm, read_request
from gateway.registration.letters import Origin, acknowledgement, incomplete
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.records import Recipient
from mailboxes.registrations import (
    Letter,
    MailboxRequest,
    MailboxRequests,
    NumberTaken,
    RequestState,
)
from mailboxes.store import Store

__all__ = ["NULL_SENDER", "RegistrationDesk", "Replies"]

NULL_SENDER = "<>"
_NUMBER_ATTEMPTS = 5


class Replies:
    """The SMTP replies of the registration desk (RFC 5321 codes, RFC 3463 enhanced codes)."""

    NEEDS_RETURN_PATH = "550 5.7.1 A mailbox request needs a return address"
    TOO_BIG = "552 5.3.4 A mailbox request is a short form: message too big"
    RATE_LIMITED = "450 4.7.1 Too many mailbox requests from you; try again later"
    ALONE = "452 4.5.3 Send the mailbox request in a message of its own"


def _read(
    raw: bytes, sender: str, registry: OfficeRegistry, domain: str
) -> tuple[MailboxRequestForm | IncompleteRequest, str | None, bool]:
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    message_id = headers.get("Message-ID")
    auto = str(headers.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(headers.get("Precedence", "")).strip().lower()
    # RFC 3834 §2: never answer what a machine sent (or a list), lest two machines loop.
    automatic = not auto.startswith("no") or precedence in {"bulk", "list", "junk"}
    outcome = read_request(raw, sender=sender, registry=registry, domain=domain)
    return outcome, (str(message_id).strip() or None) if message_id else None, automatic


class RegistrationDesk:
    def __init__(
        self,
        store: Store,
        *,
        address: str,
        domain: str,
        offices: Callable[[], OfficeRegistry],
        settings: RegistrationSettings,
        clock: Clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._requests = MailboxRequests(store)
        self.address = normalize_address(address)
        self._domain = domain.lower()
        self._offices = offices
        self.max_size = settings.max_size
        self._clock = clock
        self._monotonic = monotonic
        window = settings.window_minutes * 60.0
        self._by_sender = RateLimiter(settings.per_sender, window)
        self._by_client = RateLimiter(settings.per_client, window)

    def is_registration(self, address: str) -> bool:
        try:
            return normalize_address(address) == self.address
        except InvalidAddress:
            return False

    def check_sender(self, address: str, mail_options: list[str]) -> str | None:
        """For a session without AUTH, at MAIL: the refusal, or ``None`` to go on."""
        if address.strip() in ("", NULL_SENDER):
            return Replies.NEEDS_RETURN_PATH
        for option in mail_options:
            name, _, value = option.partition("=")
            if name.upper() == "SIZE" and value.isdigit() and int(value) > self.max_size:
                return Replies.TOO_BIG
        return None

    def admit(self, sender: str, client: str) -> str | None:
        """At RCPT of the registration address: the refusal, or ``None`` to accept.

        Both windows are counted only when both allow, so a sender refused by one limit
        does not use up the other."""
        now = self._monotonic()
        sender_key = sender.lower()
        if not self._by_sender.would_allow(sender_key, now):
            return Replies.RATE_LIMITED
        if not self._by_client.allow(client, now):
            return Replies.RATE_LIMITED
        self._by_sender.allow(sender_key, now)
        return None

    def route(self, address: str) -> Recipient:
        """Where a letter to ``address`` goes: a peer's relay queue, or a mailbox here."""
        return Recipient(address, relay_to=self._store.routing.current.remote_node(address))

    async def receive(self, sender: str, client: str, raw: bytes) -> str:
        """File the mail and answer it; the SMTP reply to give once that is committed."""
        if len(raw) > self.max_size:
            return Replies.TOO_BIG
        original = Recipient(self.address)
        if sender in ("", NULL_SENDER):  # a notice handed over by a peer: keep it, that is all
            await self._requests.file_unfit(original=original, raw=raw, answer=None)
            return "250 2.0.0 Kept; a notice is not a request"
        sender = normalize_address(sender)
        outcome, message_id, automatic = await in_lane(
            _read, raw, sender, self._offices(), self._domain
        )
        origin = Origin(self.address, self._domain, self._clock.now(), message_id)
        if isinstance(outcome, IncompleteRequest):
            answer = None
            if not automatic:
                letter = await in_lane(incomplete, origin, to=sender, problems=outcome.problems)
                answer = Letter(self.route(sender), letter)
            await self._requests.file_unfit(original=original, raw=raw, answer=answer)
            return "250 2.0.0 Received, but not a complete request: the answer says why"
        for _ in range(_NUMBER_ATTEMPTS):
            number = await self._requests.next_number()
            request = MailboxRequest(
                number=number,
                requester=sender,
                client=client,
                mailbox=outcome.mailbox,
                agent_code=outcome.agent_code,
                agency=outcome.agency,
                ruc=outcome.ruc,
                contact=outcome.contact,
                offices=outcome.offices,
                state=RequestState.PENDING,
                received_at=origin.date,
            )
            answer = None
            if not automatic:
                letter = await in_lane(acknowledgement, origin, request)
                answer = Letter(self.route(sender), letter)
            try:
                await self._requests.file(request, original=original, raw=raw, answer=answer)
            except NumberTaken:
                continue
            return f"250 2.0.0 Mailbox request {number} filed"
        raise RuntimeError("no free request number after several attempts")
