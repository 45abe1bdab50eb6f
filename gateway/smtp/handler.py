"""Policy of the SMTP server: who may submit, to whom, and the durable hand-off to the store.

aiosmtpd owns the protocol; this handler decides. AUTH PLAIN and LOGIN are implemented here
(rather than through aiosmtpd's synchronous ``authenticator``) because checking an Argon2
hash takes tens of milliseconds and must not block the event loop.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import logging
import secrets
import weakref
from base64 import b64decode
from dataclasses import dataclass
from typing import Protocol

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, Session

from gateway.allowance import SubmissionAllowance
from gateway.chaos import Stage
from gateway.directory import LocalDirectory, intake_office_code
from gateway.eventlog import event
from gateway.lane import by_size, in_lane, serve_as
from gateway.limits import FAILURE_LOG_INTERVAL, FullStoreLog, RateLimitedLog
from gateway.logins import LoginChecks, LoginRefused
from gateway.registration.desk import RegistrationDesk
from gateway.routing.handover import HandoverError, handover_office
from gateway.routing.router import RoutingSnapshot
from gateway.smtp import replies
from gateway.smtp.trace import ForgedSender, SubmissionFacts, prepare_submission
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.errors import StoreError
from mailboxes.line_ends import canonical_line_ends
from mailboxes.records import Account, Recipient
from mailboxes.registrations import MailboxRequests
from mailboxes.schema import Role
from mailboxes.store import StorageFull, Store

__all__ = ["MAX_RECIPIENTS", "SubmissionHandler"]

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 100
"""RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients."""

INLINE_MAX_SIZE = 64 * 1024
INLINE_MAX_HEADER = 4 * 1024
"""A submission of at most ``INLINE_MAX_SIZE`` octets whose header section ends within the
first ``INLINE_MAX_HEADER`` is prepared (``prepare_submission``) on the event loop: for a
declaration's mail that takes tens of microseconds, less than the hop to a thread and back,
and even a header of one-character fields is read within a millisecond or two."""


def _prepared_quickly(raw: bytes) -> bool:
    """Whether ``prepare_submission`` has little to do: few header lines, few octets."""
    if len(raw) > INLINE_MAX_SIZE:
        return False
    # where the header reading stops, looked for in place (a slice would copy it)
    return raw.find(b"\n\r\n", 0, INLINE_MAX_HEADER) >= 0 or (
        raw.find(b"\n\n", 0, INLINE_MAX_HEADER) >= 0
    )


def _resolved(envelope: Envelope) -> dict[str, Recipient]:
    """Where each accepted RCPT goes, decided once at RCPT time and reused at DATA."""
    found = _RESOLVED.get(envelope)
    if found is None:
        found = _RESOLVED[envelope] = {}
    return found


_RESOLVED: weakref.WeakKeyDictionary[Envelope, dict[str, Recipient]] = weakref.WeakKeyDictionary()


def _declared_size(mail_options: list[str]) -> int:
    """The size a ``MAIL`` command declares (aiosmtpd has checked its digits), or 1."""
    for option in mail_options:
        name, _, value = option.partition("=")
        if name == "SIZE" and value.isdigit():
            return max(int(value), 1)
    return 1


def _over_allowance(allowance: SubmissionAllowance, size: int) -> str:
    """Temporary, unless the mail is larger than a whole day's allowance: no retry passes."""
    if allowance.never_fits(size):
        return replies.LARGER_THAN_A_DAY
    return replies.ALLOWANCE_USED


def _account(session: Session) -> Account | None:
    data = session.auth_data
    return data if isinstance(data, Account) else None


def _client(session: Session) -> str:
    """The client's IP address (what rate limits per client count)."""
    return str(session.peer[0]) if isinstance(session.peer, tuple) else str(session.peer)


class HandoverSink(Protocol):
    async def receive(self, peer: str, raw: bytes) -> None: ...


_HANDOVERS: weakref.WeakSet[Envelope] = weakref.WeakSet()
"""Envelopes carrying an office move's numbering handover (from a peer)."""

_REQUESTS: weakref.WeakSet[Envelope] = weakref.WeakSet()
"""Envelopes carrying a mailbox request to the registration address (the desk's)."""


_SCOPES: weakref.WeakKeyDictionary[Session, tuple[str, frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)
"""The offices a session's agent was granted for (``_in_scope``), with the agent's address."""


@dataclass(frozen=True, slots=True)
class _Routed:
    """A session's last accepted RCPT to an office's intake or a peer's address, with what
    it was decided from: the routing snapshot, the address as given, the session's login."""

    routes: RoutingSnapshot
    address: str
    login: object
    recipient: Recipient


_ROUTED: weakref.WeakKeyDictionary[Session, _Routed] = weakref.WeakKeyDictionary()
"""An agent names the same office in every mail of a session: the decision is taken again
only when the routing snapshot was replaced (an office moved) or the address differs."""


_SENDERS: weakref.WeakKeyDictionary[Session, tuple[object, str, str]] = weakref.WeakKeyDictionary()
"""A session's last accepted sender: its login, the address as given, the address kept. The
check is the login's own address against the one given, and neither changes in between."""


class PeerNode(str):
    """A session authenticated as a peer node (its name), which relays mail into this one."""


def _peer(session: Session) -> PeerNode | None:
    data = session.auth_data
    return data if isinstance(data, PeerNode) else None


class SubmissionHandler:
    """``logins`` checks every AUTH (the node shares one among its protocols); a peer node
    that logs in with the secret it shares with this one (``LoginChecks.peer_secrets``) may
    hand over mail from any sender, for addresses this node hosts only.

    ``registration``: the desk that takes mailbox requests at the registration address, the
    only recipient a session without AUTH may name (``gateway.smtp.registration``).

    ``allowance``: the bytes each authenticated sender may submit in a day (shared with the
    API); None: no such bound."""

    def __init__(
        self,
        store: Store,
        directory: LocalDirectory,
        logins: LoginChecks | None = None,
        handovers: HandoverSink | None = None,
        registration: RegistrationDesk | None = None,
        allowance: SubmissionAllowance | None = None,
    ) -> None:
        self.store = store
        self.directory = directory
        self.logins = logins or LoginChecks(store, hasher=store.hasher)
        self.handovers = handovers
        self.registration = registration
        self.allowance = allowance
        self._scopes = MailboxRequests(store)
        self._store_failures = RateLimitedLog(FAILURE_LOG_INTERVAL)
        self._store_full = FullStoreLog("SMTP deliveries")

    def _refusal_at_mail(self, address: str, mail_options: list[str]) -> str | None:
        """The refusal of a ``MAIL`` whose declared size (RFC 1870 ``SIZE``; a byte if none)
        what is left of the sender's day cannot hold, asked before the mail is sent: over a
        9 600 bps line, 20 MB take six hours to send only to be refused at the end."""
        size = _declared_size(mail_options)
        if self.allowance is None or self.allowance.has_room(address, size):
            return None
        return _over_allowance(self.allowance, size)

    def _refusal_at_data(self, address: str, size: int) -> str | None:
        """Count a mail against the sender's day; the refusal when it does not fit."""
        if self.allowance is None or self.allowance.take(address, size):
            return None
        log.info("submission by %s refused: over its daily allowance", address)
        return _over_allowance(self.allowance, size)

    def _give_back(self, account: Account | None, size: int) -> None:
        """Uncount a submission taken at ``_refusal_at_data`` and then not stored."""
        if self.allowance is not None and account is not None:
            self.allowance.give_back(account.address, size)

    def _store_failed(self, message: str, *args: object) -> None:
        """Log the failure being handled: one traceback a minute, however many sessions
        meet it (the store unreachable fails every AUTH and every DATA)."""
        self._store_failures.exception(log, asyncio.get_running_loop().time(), message, *args)

    # region AUTH

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 1:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = b64decode(args[1], validate=True)
            except binascii.Error:
                return await self._malformed(server)
        assert isinstance(blob, bytes)
        parts = blob.split(b"\x00")
        if len(parts) != 3:
            return await self._malformed(server)
        return await self._check(server, parts[1], parts[2])

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) == 1:
            login = await server.challenge_auth(server.AuthLoginUsernameChallenge)
            if login is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                login = b64decode(args[1], validate=True)
            except binascii.Error:
                return await self._malformed(server)
        password = await server.challenge_auth(server.AuthLoginPasswordChallenge)
        if password is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(login, bytes)
        assert isinstance(password, bytes)
        return await self._check(server, login, password)

    @staticmethod
    async def _malformed(server: SMTP) -> AuthResult:
        await server.push(replies.AUTH_MALFORMED)
        return AuthResult(success=False, handled=True)

    async def _check(self, server: SMTP, login: bytes, password: bytes) -> AuthResult:
        try:
            user, secret = login.decode("utf-8"), password.decode("utf-8")
        except UnicodeDecodeError:
            return AuthResult(success=False, handled=False, message=replies.AUTH_INVALID)
        peer = server.session.peer if server.session is not None else None
        client = peer[0] if isinstance(peer, tuple) else None
        try:
            if self.logins.is_peer(user):
                if await self.logins.peer(client, user, secret):
                    serve_as(user)  # the session's work in the lane takes the peer's turns
                    return AuthResult(
                        success=True, auth_data=PeerNode(user), message=replies.AUTH_OK
                    )
                log.info("%s failed AUTH as peer %r", client, user)
                return AuthResult(success=False, handled=False, message=replies.AUTH_INVALID)
            account = await self.logins.password(client, user, secret)
        except LoginRefused:
            return AuthResult(success=False, handled=False, message=replies.AUTH_TEMP_FAIL)
        except Exception:
            self._store_failed("AUTH from %s: the store failed", client)
            return AuthResult(success=False, handled=False, message=replies.AUTH_TEMP_FAIL)
        if account is None:
            log.info("%s failed AUTH as %r", client, user)
            return AuthResult(success=False, handled=False, message=replies.AUTH_INVALID)
        serve_as(account.address)  # the session's work in the lane takes the account's turns
        return AuthResult(success=True, auth_data=account, message=replies.AUTH_OK)

    # endregion
    # region envelope

    def refusal_at(self, server: SMTP, session: Session, stage: Stage) -> str | None:
        """A reply that stands in for this handler's own at ``stage``; None: none, as here.
        The test rig's faults come in through this (``gateway.smtp.chaotic``)."""
        return None

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        """aiosmtpd's own HELO, after ``refusal_at``."""
        refusal = self.refusal_at(server, session, "helo")
        if refusal is not None:
            return refusal
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        refusal = self.refusal_at(server, session, "helo")
        if refusal is not None:
            return [refusal]
        session.host_name = hostname
        # aiosmtpd reads commands one at a time from a buffered stream, so pipelined
        # commands already work; it just does not say so.
        return [*responses[:-1], "250-PIPELINING", "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        refusal = self.refusal_at(server, session, "mail")
        if refusal is not None:
            return refusal
        known = _SENDERS.get(session)
        if known is not None and known[0] is session.auth_data and known[1] == address:
            refusal = self._refusal_at_mail(known[2], mail_options)  # the login's address
            if refusal is not None:
                return refusal
            envelope.mail_from = known[2]
            envelope.mail_options.extend(mail_options)
            return replies.OK
        if _peer(session) is not None:  # a peer hands over mail from anyone, or bounces
            try:
                # aiosmtpd needs a non-empty mail_from; "<>" stands for the null path here.
                sender = "<>" if address.strip() in ("", "<>") else normalize_address(address)
            except InvalidAddress:
                return replies.BAD_ADDRESS
            envelope.mail_from = sender
            envelope.mail_options.extend(mail_options)
            return replies.OK
        account = _account(session)
        if account is None:  # no AUTH: only a mailbox request may follow (see RCPT)
            if self.registration is None:
                return replies.AUTH_REQUIRED
            refusal = self.registration.check_sender(address, mail_options)
            if refusal is not None:
                return refusal
        elif address.strip() in ("", "<>"):  # auto-replies and receipts (RFC 5321 §4.5.5)
            envelope.mail_from = "<>"
            envelope.mail_options.extend(mail_options)
            return replies.OK
        try:
            sender = normalize_address(address)
        except InvalidAddress:
            return replies.BAD_ADDRESS
        if account is not None and sender != account.address:
            return replies.SENDER_NOT_OWNED
        if account is not None:
            refusal = self._refusal_at_mail(account.address, mail_options)
            if refusal is not None:
                return refusal
            _SENDERS[session] = (account, address, sender)
        envelope.mail_from = sender
        envelope.mail_options.extend(mail_options)
        return replies.OK

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.refusal_at(server, session, "rcpt")
        if refusal is not None:
            return refusal
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return replies.TOO_MANY_RECIPIENTS
        routes = self.directory.routes
        routed = _ROUTED.get(session)
        if (
            routed is not None
            and routed.routes is routes
            and routed.address == address
            and routed.login is session.auth_data
            and envelope not in _REQUESTS
        ):
            return self._accept(envelope, routed.recipient, rcpt_options)
        if self.registration is not None and (
            envelope in _REQUESTS or self.registration.is_registration(address)
        ):
            return self._rcpt_request(session, envelope, address)
        if not session.authenticated:
            with contextlib.suppress(InvalidAddress):
                if not self.directory.is_local_domain(normalize_address(address)):
                    return replies.RELAY_DENIED
            return replies.AUTH_REQUIRED
        with contextlib.suppress(InvalidAddress):
            office = handover_office(normalize_address(address), self.directory.domain)
            if office is not None:  # an office move's numbering: from a peer, for us only
                if (
                    _peer(session) is None
                    or self.handovers is None
                    or office not in self.directory.hosted_offices
                ):
                    return replies.NO_SUCH_USER
                _HANDOVERS.add(envelope)
                envelope.rcpt_tos.append(normalize_address(address))
                return replies.OK
        try:
            recipient = await self.directory.resolve(address, routes)
            if recipient is None:
                if await self.directory.hosts_domain(normalize_address(address)):
                    return replies.NO_SUCH_USER
                return replies.RELAY_DENIED
            if recipient.relay_to is not None and _peer(session) is not None:
                return replies.RELAY_DENIED  # one hop: a peer only hands over what we host
            if not await self._in_scope(session, recipient.address):
                return replies.OFFICE_NOT_IN_SCOPE
        except InvalidAddress:
            return replies.BAD_ADDRESS
        except StoreError:  # answered, not passed on: aiosmtpd takes a ConnectionResetError
            # (the database's connection, reset by its restart) for the client's, and hangs up
            self._store_failed("RCPT to %s: the store failed", address)
            return replies.LOCAL_ERROR
        if recipient.intake_office is not None or recipient.relay_to is not None:
            # facts of the snapshot alone (an account's mailbox is looked up each time)
            _ROUTED[session] = _Routed(routes, address, session.auth_data, recipient)
        return self._accept(envelope, recipient, rcpt_options)

    @staticmethod
    def _accept(envelope: Envelope, recipient: Recipient, rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(recipient.address)
        envelope.rcpt_options.extend(rcpt_options)
        _resolved(envelope)[recipient.address] = recipient
        return replies.OK

    async def _in_scope(self, session: Session, address: str) -> bool:
        """An agent whose mailbox was granted for some offices declares to those only.

        The grant is read once per session, at its first RCPT to an office (as the account
        itself is read once, at AUTH): an agent sending a day's declarations on one
        connection costs the store one read, not one per mail.
        """
        account = _account(session)
        if account is None or account.role is not Role.AGENT:
            return True
        office = intake_office_code(address, self.directory.domain)
        if office is None:
            return True
        known = _SCOPES.get(session)
        if known is not None and known[0] == account.address:
            scope = known[1]
        else:
            scope = await self._scopes.office_scope(account.address)
            _SCOPES[session] = (account.address, scope)
        return not scope or office in scope

    def _rcpt_request(self, session: Session, envelope: Envelope, address: str) -> str:
        """A mailbox request travels alone, to the registration address, within the limits."""
        assert self.registration is not None
        if envelope.rcpt_tos:
            return replies.REQUEST_ALONE
        assert envelope.mail_from is not None
        refusal = self.registration.admit(envelope.mail_from, _client(session))
        if refusal is not None:
            log.info("mailbox request from %s refused: %s", envelope.mail_from, refusal)
            return refusal
        _REQUESTS.add(envelope)
        envelope.rcpt_tos.append(self.registration.address)
        return replies.OK

    # endregion
    # region data

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Commit the message (and any intake jobs) before answering 250."""
        refusal = self.refusal_at(server, session, "data")
        if refusal is not None:
            return refusal
        assert envelope.mail_from is not None
        raw = envelope.original_content
        assert isinstance(raw, bytes)
        peer = _peer(session)
        if envelope in _HANDOVERS and peer is not None and self.handovers is not None:
            try:
                await self.handovers.receive(peer, raw)
            except HandoverError as exc:
                log.warning("handover from %s refused: %s", peer, exc)
                return replies.HANDOVER_REFUSED
            except Exception:
                log.exception("handover from %s failed", peer)
                return replies.LOCAL_ERROR
            return replies.OK
        if envelope in _REQUESTS and self.registration is not None:
            try:
                return await self.registration.receive(envelope.mail_from, _client(session), raw)
            except Exception:
                log.exception("mailbox request from %s failed", envelope.mail_from)
                return replies.LOCAL_ERROR
        account = _account(session)
        size = len(raw)  # as sent: what the allowance counts
        if account is not None:
            refusal = self._refusal_at_data(account.address, size)
            if refusal is not None:
                return refusal
        if account is not None:  # a submission: trace it, and keep it from passing for others
            facts = SubmissionFacts(
                user=account.address,
                helo=session.host_name,
                client_ip=session.peer[0] if isinstance(session.peer, tuple) else None,
                node_host=server.hostname,
                recipients=tuple(envelope.rcpt_tos),
                queue_id=secrets.token_hex(6).upper(),
                when=self.store.clock.now(),
            )
            try:  # reads the whole header section: off the event loop, unless small
                if _prepared_quickly(raw):
                    raw = prepare_submission(raw, facts)
                else:
                    raw = await in_lane(prepare_submission, raw, facts)
            except ForgedSender as exc:
                log.info("submission by %s refused: header names %s", account.address, exc)
                self._give_back(account, size)
                return replies.HEADER_NOT_OWNED
        targets = list(_resolved(envelope).values())  # de-duplicated, in RCPT order
        raw = await by_size(canonical_line_ends, raw)  # for the store, off the loop if large
        try:
            sender = "" if envelope.mail_from == "<>" else envelope.mail_from
            job_ids = await self.store.deliver(sender, targets, raw, line_ends_canonical=True)
        except StorageFull as exc:  # the operator's to fix; a traceback each time says no more
            log.info("delivery from %s refused (452): the store is full", sender or "<>")
            self._store_full.refused(log, asyncio.get_running_loop().time(), str(exc))
            self._give_back(account, size)
            return replies.STORAGE_FULL
        except Exception:
            self._store_failed("delivery from %s failed", envelope.mail_from)
            self._give_back(account, size)
            return replies.LOCAL_ERROR
        self._store_full.taken(log)
        event(
            log,
            "submission",
            user=account.address if account is not None else peer,
            client=_client(session),
            sender=sender or "<>",
            rcpt=[target.address for target in targets],
            size=len(raw),
            jobs=job_ids or None,
        )
        return replies.queued(job_ids)

    async def handle_exception(self, error: Exception) -> str:
        """Log it; never show the peer our exception text (aiosmtpd's default does)."""
        log.error("SMTP session error", exc_info=error)
        return replies.LOCAL_ERROR

    # endregion
