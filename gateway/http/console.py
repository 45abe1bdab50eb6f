"""The office console: server-rendered pages in Spanish, a session cookie, CSRF on every form."""

from __future__ import annotations

import email
import email.policy
import secrets
from collections import Counter
from datetime import date, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gateway.http.api import day_start
from gateway.http.auth import (
    SESSION_COOKIE,
    Caller,
    TooManyFailures,
    client_of,
    credentials_allowed,
    login,
    retry_after,
)
from gateway.http.charts import LATENCY_EDGES, bars, channel_shares, latency_buckets, limit_bars
from gateway.http.context import HttpContext
from gateway.http.verdicts import declaration_state
from gateway.lane import in_lane, serve_as
from gateway.mail.reading import decode_words
from mailboxes.ledger import DeclarationFilter, OfficeLoad
from mailboxes.schema import Role
from validators.policy.channels import LimitKind, RedLimit

__all__ = ["LoggedIn", "LoginNeeded", "install_login_redirect", "router"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))

LOGIN_CSRF_COOKIE = "td_login_csrf"
_TLS_REQUIRED = "Este nodo acepta la contraseña solo por HTTPS: ingrese por su puerto HTTPS."
MAX_SHOWN_MAIL = 256 * 1024
MAX_LISTED_MESSAGES = 100


def _context(request: Request) -> HttpContext:
    context: HttpContext = request.app.state.context
    return context


def _session(request: Request) -> tuple[Caller, str] | None:
    found: tuple[Caller, str] | None = request.app.state.sessions.get(
        request.cookies.get(SESSION_COOKIE)
    )
    return found


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


class LoginNeeded(Exception):
    """A console page asked for without a session: answered with the way to the login."""


async def _logged_in(request: Request) -> tuple[Caller, str]:
    """The page's session; the request's work in the lane then takes its account's turns
    (a coroutine, so that it runs in the request's task: FastAPI runs a plain function
    in a thread, whose context does not reach the page)."""
    found = _session(request)
    if found is None:
        raise LoginNeeded
    serve_as(found[0].account.address)
    return found


LoggedIn = Annotated[tuple[Caller, str], Depends(_logged_in)]
"""A page's caller and its session's CSRF token; without a session, the login form."""


def install_login_redirect(app: FastAPI) -> None:
    async def to_login(_request: Request, _exc: Exception) -> Response:
        return _to_login()

    app.add_exception_handler(LoginNeeded, to_login)


def _page(request: Request, name: str, caller: Caller, csrf: str, **values: Any) -> Response:
    return templates.TemplateResponse(request, name, {"caller": caller, "csrf": csrf, **values})


@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/declaraciones" if _session(request) else "/login", status_code=303)


@router.get("/login")
async def login_form(request: Request, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "csrf": token,
            "error": error,
            "caller": None,
            "tls_required": not credentials_allowed(request),
        },
    )
    secure = request.url.scheme == "https"  # over HTTPS the cookies never go back in clear
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure)
    return response


@router.post("/login")
async def login_submit(
    request: Request,
    usuario: Annotated[str, Form(max_length=320)],
    clave: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        return HTMLResponse("Formulario vencido: vuelva a cargar la página.", status_code=403)
    if not credentials_allowed(request):
        return HTMLResponse(_TLS_REQUIRED, status_code=403)
    try:
        caller = await login(_context(request), usuario, clave, client_of(request))
    except TooManyFailures:
        return HTMLResponse(
            "Demasiados intentos fallidos: espere antes de volver a intentarlo.",
            status_code=429,
            headers={"Retry-After": retry_after(_context(request))},
        )
    if caller is None:
        return RedirectResponse("/login?error=1", status_code=303)
    session_id, _ = request.app.state.sessions.open(caller)
    response = RedirectResponse("/declaraciones", status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", secure=secure)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str, Form(max_length=128)]) -> Response:
    found = _session(request)
    if found is None:
        return _to_login()
    if not secrets.compare_digest(csrf, found[1]):
        return HTMLResponse("Formulario vencido: vuelva a cargar la página.", status_code=403)
    request.app.state.sessions.close(request.cookies.get(SESSION_COOKIE))
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE)
    return response


def _day_start(text: str, *, end: bool = False) -> datetime | None:
    """A form's ``YYYY-MM-DD`` as the API's ``since``/``until`` reads it; None for an empty
    field, ``ValueError`` for anything else."""
    return day_start(date.fromisoformat(text), end=end) if text else None


@router.get("/declaraciones")
async def declarations_page(
    request: Request,
    session: LoggedIn,
    estado: Annotated[str, Query(max_length=16)] = "",
    canal: Annotated[str, Query(max_length=16)] = "",
    agente: Annotated[str, Query(max_length=16)] = "",
    referencia: Annotated[str, Query(max_length=32)] = "",
    desde: Annotated[str, Query(max_length=10)] = "",
    hasta: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    caller, csrf = session
    context = _context(request)
    try:
        since, until = _day_start(desde), _day_start(hasta, end=True)
        bad_date = False
    except ValueError:
        since = until = None
        bad_date = True
    wanted = DeclarationFilter(
        status=estado if estado in ("accepted", "rejected") else None,
        channel=canal if canal in ("verde", "naranja", "rojo") else None,
        agent_code=agente or None,
        reference=referencia or None,
        since=since,
        until=until,
        limit=200,
    )
    entries = await context.ledger.declarations(caller.scope, wanted)
    pending = await context.ledger.pending_jobs(caller.scope, limit=50)
    filters = {
        "estado": estado,
        "canal": canal,
        "agente": agente,
        "referencia": referencia,
        "desde": desde,
        "hasta": hasta,
    }
    return _page(
        request,
        "declarations.html",
        caller,
        csrf,
        entries=entries,
        pending=pending,
        filters=filters,
        bad_date=bad_date,
    )


def _parts(raw: bytes) -> str:
    """A mail as text for the page: headers and its text, within a bound; as it was sent
    when its parts nest deeper than the email package can read (its parser recurses once
    per level).

    Called in a thread: the email package read 256 KiB of 7 000 tiny parts in 1.1 s, and
    on the event loop every client of the node waited for a page showing such a mail,
    which anyone may send an office. Read with the ``compat32`` policy, whose header fields
    are plain strings: the default policy's header parser recursed once per nested comment
    (such a submission made its declaration's page fail) and took time growing with the
    square of a field's length (a ``To:`` of 6 000 recipients, 1.5 s a page)."""
    shown = raw[:MAX_SHOWN_MAIL]
    try:
        return _read_parts(shown)
    except RecursionError:
        return shown.decode("utf-8", "replace")


def _read_parts(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    head = "".join(f"{name}: {_field_text(str(value))}\n" for name, value in message.items())
    return f"{head}\n{_plain_text(message)}"


def _field_text(value: str) -> str:
    """A header field's value as its reader sees it: unfolded, 8-bit bytes read as UTF-8,
    encoded words decoded."""
    unfolded = value.replace("\r\n", "").replace("\n", "")
    return decode_words(unfolded.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def _plain_text(message: Message) -> str:
    """The mail's text: its first ``text/plain`` part that is not an attachment, decoded
    (what ``EmailMessage.get_body(("plain",))`` finds in a declaration's mail)."""
    for part in message.walk():
        if (
            part.get_content_type() != "text/plain"
            or part.get_content_disposition() == "attachment"
        ):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        try:
            return payload.decode(part.get_content_charset() or "us-ascii", "replace")
        except LookupError:
            return payload.decode("latin-1")
    return ""


@router.get("/declaraciones/{reference}")
async def declaration_page(request: Request, session: LoggedIn, reference: str) -> Response:
    caller, csrf = session
    context = _context(request)
    entry = await context.ledger.find(caller.scope, reference[:32])
    if entry is None:
        return HTMLResponse("No hay tal declaración.", status_code=404)
    state = await declaration_state(context.ledger, entry)
    reply = await context.ledger.reply(entry.id)
    original = await context.ledger.submission(entry.job_id)
    return _page(
        request,
        "declaration.html",
        caller,
        csrf,
        entry=entry,
        state=state,
        state_json=state.model_dump_json(indent=2),
        reply=await in_lane(_parts, reply),
        original=await in_lane(_parts, original),
    )


@router.get("/graficos")
async def charts_page(request: Request, session: LoggedIn) -> Response:
    caller, csrf = session
    context = _context(request)
    since = context.clock.now() - timedelta(days=400)
    stats = await context.ledger.statistics(caller.scope, since, LATENCY_EDGES)
    days = sorted(stats.per_day)[-31:]
    per_day = bars(
        [(day, float(stats.per_day[day])) for day in days],
        {day: float(stats.rejected_per_day[day]) for day in days},
    )
    rejected = await context.ledger.declarations(
        caller.scope, DeclarationFilter(status="rejected", limit=200)
    )
    reasons = Counter[str]()
    for entry in rejected:
        state = await declaration_state(context.ledger, entry)
        for finding in state.findings:
            if finding.severity == "error":
                reasons[f"{finding.rule_id}: {finding.citation or ''}"] += 1
    red_months = []
    against = []
    for share in await context.ledger.red_shares(caller.scope):
        limit = RedLimit.decode(share.red_limit)
        red_months.append((share, limit.describe()))
        part = share.red / share.base if share.base else 0.0
        ceiling = limit.kind is LimitKind.AT_MOST
        within = part <= limit.share if ceiling else part > limit.share
        label = f"{share.office_code} {share.month} r{share.regime}"
        against.append((label, part, float(limit.share), within, limit.describe()))
    return _page(
        request,
        "charts.html",
        caller,
        csrf,
        red_months=red_months,
        red_against=limit_bars(against),
        per_day=per_day,
        shares=channel_shares(stats.channels),
        reasons=bars([(label, float(n)) for label, n in reasons.most_common(10)]),
        latency=bars(latency_buckets(stats.answers_within)),
    )


@router.get("/estado")
async def status_page(request: Request, session: LoggedIn) -> Response:
    """The queue depth and age, the relay queue and the peers (what Headquarters watches)."""
    caller, csrf = session
    context = _context(request)
    depth, oldest = await context.ledger.queue_depth(caller.scope)
    now = context.clock.now()
    hq = caller.scope.everything
    offices: list[tuple[OfficeLoad, float | None]] = []
    if hq:  # every office this node hosts, those with nothing yet too
        loads = await context.ledger.office_loads(caller.scope)
        for code in sorted(context.directory.hosted_offices):
            load = loads.get(code, OfficeLoad(code))
            age = (now - load.oldest).total_seconds() if load.oldest is not None else None
            offices.append((load, age))
    return _page(
        request,
        "status.html",
        caller,
        csrf,
        depth=depth,
        oldest_age=(now - oldest).total_seconds() if oldest is not None else None,
        relays=await context.ledger.relay_queue() if hq else [],
        peers=context.peers,
        hq=hq,
        offices=offices,
    )


async def _mailboxes(context: HttpContext, caller: Caller) -> list[str]:
    """The mailboxes the caller may read: its own, and an office's intake and departments."""
    owners = {caller.account.address}
    if caller.account.role is not Role.AGENT:
        for account in await context.store.list_accounts(roles=(Role.OFFICE, Role.DEPARTMENT)):
            if caller.may_read_mailbox(account.address, context.domain):
                owners.add(account.address)
    return sorted(owners)


@router.get("/buzones")
async def mailboxes_page(request: Request, session: LoggedIn) -> Response:
    caller, csrf = session
    context = _context(request)
    boxes = []
    for owner in await _mailboxes(context, caller):
        for folder in await context.store.list_folders(owner):
            boxes.append(
                (
                    owner,
                    folder,
                    await context.store.latest_messages(owner, folder, MAX_LISTED_MESSAGES),
                )
            )
    return _page(request, "mailboxes.html", caller, csrf, boxes=boxes)


@router.get("/buzones/{owner}/{uid}")
async def message_page(
    request: Request,
    session: LoggedIn,
    owner: str,
    uid: Annotated[int, PathParam(ge=1, le=2**32 - 1)],
    carpeta: Annotated[str, Query(max_length=255)],
) -> Response:
    caller, csrf = session
    context = _context(request)
    if not caller.may_read_mailbox(owner, context.domain):
        return HTMLResponse("No puede leer ese buzón.", status_code=403)
    try:
        raw = await context.store.read_message(owner, carpeta, uid)
    except (KeyError, ValueError):
        return HTMLResponse("No hay tal mensaje.", status_code=404)
    return _page(
        request,
        "message.html",
        caller,
        csrf,
        owner=owner,
        folder=carpeta,
        uid=uid,
        text=await in_lane(_parts, raw),
    )
