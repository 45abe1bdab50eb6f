"""Who is asking: HTTP Basic with the node's accounts, or the console's session cookie.

The password is checked by the store (Argon2 in a worker thread, unknown users costing as
much as known ones), exactly as SMTP AUTH checks it.
"""

from __future__ import annotations

import binascii
import math
import secrets
import time
from base64 import b64decode
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from gateway.directory import intake_address
from gateway.http.context import HttpContext
from gateway.http.problems import Problem
from gateway.http.tokens import InvalidToken, read_token
from gateway.lane import serve_as
from gateway.logins import LoginRefused
from mailboxes.ledger import Scope
from mailboxes.records import Account
from mailboxes.schema import Role

__all__ = [
    "SESSION_COOKIE",
    "Caller",
    "Sessions",
    "TooManyFailures",
    "basic_caller",
    "caller_of",
    "client_of",
    "credentials_allowed",
    "login",
    "retry_after",
]

SESSION_COOKIE = "td_session"
HEADQUARTERS = "000"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="teledespacho", charset="UTF-8"'}


@dataclass(frozen=True, slots=True)
class Caller:
    account: Account
    admin: bool

    @property
    def scope(self) -> Scope:
        if self.admin:
            return Scope(everything=True)
        if self.account.role is Role.OFFICE and self.account.office_code == HEADQUARTERS:
            return Scope(everything=True)  # Headquarters sees every office this node hosts
        if self.account.role is Role.AGENT:
            return Scope(agent_address=self.account.address, agent_code=self.account.agent_code)
        if self.account.office_code is not None:
            return Scope(office_code=self.account.office_code)
        return Scope()

    def may_read_mailbox(self, owner: str, domain: str) -> bool:
        """Own mailbox; an office also its intake and its departments' (``dept.OOO@``)."""
        if self.admin or owner == self.account.address:
            return True
        code = self.account.office_code
        if self.account.role is Role.OFFICE and code is not None:
            local, _, owner_domain = owner.partition("@")
            return owner_domain == domain and (
                owner == intake_address(code, domain) or local.endswith(f".{code}")
            )
        return False


class Sessions:
    """The console's logins: an unguessable cookie value -> the account and its CSRF token.

    Held in memory: a restart logs everyone out, which a server-side session may do. A
    session ends after ``idle_seconds`` without a request, and past ``limit`` sessions the
    least recently used one ends, so logins cannot grow the node's memory without bound.
    Kept in order of last use, so the ended ones are found at the front.
    """

    def __init__(
        self,
        *,
        idle_seconds: float = 8 * 3600,
        limit: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._idle = idle_seconds
        self._limit = limit
        self._clock = clock
        self._by_id: OrderedDict[str, tuple[Caller, str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_id)

    def open(self, caller: Caller) -> tuple[str, str]:
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._forget_idle()
        self._by_id[session_id] = (caller, csrf, self._clock())
        while len(self._by_id) > self._limit:
            self._by_id.popitem(last=False)
        return session_id, csrf

    def get(self, session_id: str | None) -> tuple[Caller, str] | None:
        """The session's account and token, its idle time starting again; None if ended."""
        self._forget_idle()
        found = None if session_id is None else self._by_id.get(session_id)
        if found is None:
            return None
        assert session_id is not None
        caller, csrf, _ = found
        self._by_id[session_id] = (caller, csrf, self._clock())
        self._by_id.move_to_end(session_id)
        return caller, csrf

    def close(self, session_id: str | None) -> None:
        if session_id is not None:
            self._by_id.pop(session_id, None)

    def _forget_idle(self) -> None:
        oldest = self._clock() - self._idle
        while self._by_id:
            session_id, (_, _, used) = next(iter(self._by_id.items()))
            if used > oldest:
                break
            del self._by_id[session_id]


class TooManyFailures(Exception):
    """The client failed to log in too often lately; it must wait before trying again."""


async def login(context: HttpContext, address: str, password: str, client: str) -> Caller | None:
    """The caller if the password matches, checked as every protocol's logins are (the
    node's failed-login penalty, cache and threads); a client or account the penalty holds
    back is refused with ``TooManyFailures``."""
    assert context.logins is not None
    try:
        account = await context.logins.password(client, address, password)
    except LoginRefused as exc:
        raise TooManyFailures(client) from exc
    if account is None:
        return None
    return Caller(account, account.address in context.admins)


def retry_after(context: HttpContext) -> str:
    """Seconds to wait (``Retry-After``) after a held-back login: the penalty's longest."""
    assert context.logins is not None
    return str(max(1, math.ceil(context.logins.limits.max_penalty_seconds)))


def credentials_allowed(request: Request) -> bool:
    """Whether a password or token may come by this request's connection: always, unless
    ``auth_requires_tls`` asks for HTTPS (as the mail ports refuse AUTH before TLS)."""
    context: HttpContext = request.app.state.context
    return not context.auth_requires_tls or request.url.scheme == "https"


def client_of(request: Request) -> str:
    return request.client.host if request.client is not None else "desconocido"


async def basic_caller(request: Request) -> Caller | None:
    """The caller an ``Authorization`` header names (Basic or Bearer), None without one."""
    context: HttpContext = request.app.state.context
    header = request.headers.get("authorization")
    if header is None:
        return None
    if not credentials_allowed(request):
        raise Problem(403, "este nodo acepta contraseñas y tokens solo por HTTPS")
    scheme, _, blob = header.partition(" ")
    if scheme.lower() == "bearer":
        return await _bearer(context, blob.strip())
    if scheme.lower() != "basic":
        raise Problem(401, "se acepta autenticación Basic o Bearer", headers=CHALLENGE)
    try:
        user, sep, password = b64decode(blob.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Problem(401, "cabecera Authorization ilegible", headers=CHALLENGE) from None
    if not sep:
        raise Problem(401, "cabecera Authorization ilegible", headers=CHALLENGE)
    try:
        caller = await login(context, user, password, client_of(request))
    except TooManyFailures:
        wait = retry_after(context)
        raise Problem(
            429,
            "demasiados intentos fallidos: espere antes de volver a intentarlo",
            headers={"Retry-After": wait},
        ) from None
    if caller is None:
        raise Problem(401, "usuario o contraseña incorrectos", headers=CHALLENGE)
    return caller


async def _bearer(context: HttpContext, token: str) -> Caller:
    if context.token_secret is None:
        raise Problem(401, "este nodo no acepta tokens", headers=CHALLENGE)
    try:
        address = read_token(context.token_secret, token)
    except InvalidToken:
        raise Problem(401, "token inválido o vencido", headers=CHALLENGE) from None
    account = await context.store.get_account(address)
    if account is None:
        raise Problem(401, "token de una cuenta que ya no existe", headers=CHALLENGE)
    return Caller(account, account.address in context.admins)


async def caller_of(request: Request) -> Caller:
    """Basic credentials, else the console's session cookie; 401 when there is neither.
    The request's work in the lane then takes the caller's account's turns."""
    caller = await basic_caller(request)
    if caller is None:
        sessions: Sessions = request.app.state.sessions
        found = sessions.get(request.cookies.get(SESSION_COOKIE))
        if found is None:
            raise Problem(401, "se requiere autenticación", headers=CHALLENGE)
        caller, csrf = found
        if request.method not in ("GET", "HEAD") and not secrets.compare_digest(
            request.headers.get("x-csrf-token", ""), csrf
        ):
            raise Problem(403, "falta el token CSRF (cabecera X-CSRF-Token)")
    serve_as(caller.account.address)
    return caller
