"""The integration API under ``/api``: submit, wait for and read verdicts; mailboxes; test rig."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, model_validator

from config.clock import EmulatedClock, FixedClock
from dialup_sim.control import MAX_BYTES, ControlError, DropAfter, send_control
from gateway.chaos import FaultCode, Stage
from gateway.http.auth import Caller, caller_of
from gateway.http.context import HttpContext
from gateway.http.feed import PAUSE, Feed
from gateway.http.problems import Problem
from gateway.http.submit import submit
from gateway.http.verdicts import DeclarationState, JobState, declaration_state, pending_state
from gateway.http.waiting import wait_for
from mailboxes.addresses import InvalidAddress, normalize_address
from mailboxes.ledger import DeclarationFilter
from mailboxes.reset import reset_demo

__all__ = ["day_start", "router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api")

MAX_WAIT = 120.0
Reference = Annotated[
    str,
    Path(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="Referencia del agente o número de declaración (OOO-AAAA-RR-NNNNNN)",
    ),
]
Wait = Annotated[
    float, Query(ge=0, le=MAX_WAIT, description="Segundos a esperar un veredicto (long polling)")
]
CallerDep = Annotated[Caller, Depends(caller_of)]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Uid = Annotated[int, Path(ge=1, le=2**32 - 1, description="UID de IMAP (32 bits)")]
"""Bounded as the store's columns are, so a huge number is a 422, not a database error."""


def _context(request: Request) -> HttpContext:
    context: HttpContext = request.app.state.context
    return context


class SubmissionOut(BaseModel):
    job: int = Field(description="El trabajo de recepción: GET /api/jobs/{job}")
    office: str
    reference: str | None = None
    message_id: str
    status_url: str


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 before more than ``limit`` bytes are held."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"la declaración excede {limit} bytes", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"la declaración excede {limit} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/declarations",
    status_code=202,
    response_model=SubmissionOut,
    summary="Presentar una declaración (como si llegara por correo)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/plain": {"schema": {"type": "string"}},
                "application/EDIFACT": {"schema": {"type": "string"}},
            },
        }
    },
)
async def post_declaration(
    request: Request,
    caller: CallerDep,
    office: Annotated[str | None, Query(pattern=r"^\d{3}$")] = None,
) -> SubmissionOut:
    context = _context(request)
    body = await _bounded_body(request, context.max_body)
    done = await submit(
        context,
        caller.account,
        body,
        office,
        client=request.client.host if request.client is not None else None,
        protocol=request.url.scheme.upper(),
    )
    if done.reference is not None:
        request.app.state.submitted.add(caller.account.address, done.reference, done.job_id)
    status_url = f"/api/jobs/{done.job_id}"
    if done.reference is not None:
        status_url = f"/api/declarations/{done.reference}"
    log.info(
        "api submission job=%d office=%s by=%s", done.job_id, done.office, caller.account.address
    )
    return SubmissionOut(
        job=done.job_id,
        office=done.office,
        reference=done.reference,
        message_id=done.message_id,
        status_url=status_url,
    )


@router.get("/declarations", response_model=list[DeclarationState], summary="Declaraciones")
async def list_declarations(
    request: Request,
    caller: CallerDep,
    status: Literal["accepted", "rejected"] | None = None,
    channel: Literal["verde", "naranja", "rojo"] | None = None,
    agent: Annotated[str | None, Query(max_length=16)] = None,
    reference: Annotated[str | None, Query(max_length=32)] = None,
    since: date | None = None,
    until: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeclarationState]:
    context = _context(request)
    entries = await context.ledger.declarations(
        caller.scope,
        DeclarationFilter(
            status=status,
            channel=channel,
            agent_code=agent,
            reference=reference,
            since=day_start(since),
            until=day_start(until, end=True),
            limit=limit,
        ),
    )
    return [await declaration_state(context.ledger, entry) for entry in entries]


def day_start(value: date | None, *, end: bool = False) -> datetime | None:
    """The UTC start of ``value``'s day (``since``), or of the day after (``until``, whole
    days); None for no bound, as for the day after the calendar's last."""
    if value is None:
        return None
    if end:
        if value == date.max:
            return None
        value += timedelta(days=1)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


async def _state(request: Request, caller: Caller, reference: str) -> DeclarationState | None:
    context = _context(request)
    scope = caller.scope
    recent = request.app.state.submitted
    job_id = recent.get(caller.account.address, reference)
    if job_id is not None:
        job = await context.ledger.job(scope, job_id)
        if job is not None and job.state == "pending":
            return pending_state(reference, job)
        recent.done(caller.account.address, reference)
    entry = await context.ledger.find(scope, reference)
    if entry is not None:
        return await declaration_state(context.ledger, entry)
    waiting = await context.ledger.pending_jobs(scope, limit=1)
    if waiting:  # not answered yet; it may be in a job the pipeline has not read
        return pending_state(reference, None)
    return None


@router.get(
    "/declarations/{reference}",
    response_model=DeclarationState,
    summary="Estado de una declaración, por referencia o número",
    responses={404: {"description": "No hay tal declaración a la vista de quien pregunta"}},
)
async def get_declaration(
    request: Request, caller: CallerDep, reference: Reference, wait: Wait = 0
) -> DeclarationState:
    context = _context(request)
    state = await wait_for(
        context.store,
        lambda: _state(request, caller, reference),
        lambda found: found is None or found.status != "pending",
        wait,
    )
    if state is None:
        raise Problem(404, f"no hay declaración {reference}", field="reference")
    return state


@router.get("/jobs/{job}", response_model=JobState, summary="Un trabajo de recepción")
async def get_job(request: Request, caller: CallerDep, job: JobId, wait: Wait = 0) -> JobState:
    context = _context(request)

    async def read() -> JobState | None:
        entry = await context.ledger.job(caller.scope, job)
        if entry is None:
            return None
        declarations = await context.ledger.of_job(caller.scope, job)
        return JobState(
            job=entry.id,
            status=entry.state,  # type: ignore[arg-type]
            office=entry.office_code,
            received_at=entry.received_at,
            finished_at=entry.finished_at,
            declarations=[await declaration_state(context.ledger, d) for d in declarations],
        )

    state = await wait_for(
        context.store, read, lambda found: found is None or found.status != "pending", wait
    )
    if state is None:
        raise Problem(404, f"no hay trabajo {job}", field="job")
    return state


# region mailboxes


class MessageOut(BaseModel):
    uid: int
    size: int
    internal_date: datetime
    flags: list[str]
    url: str


def _owner(caller: Caller, context: HttpContext, address: str) -> str:
    try:
        owner = normalize_address(address)
    except InvalidAddress:
        raise Problem(422, "dirección inválida", field="address") from None
    if not caller.may_read_mailbox(owner, context.domain):
        raise Problem(403, f"no puede leer el buzón {owner}", field="address")
    return owner


Folder = Annotated[str, Query(min_length=1, max_length=255)]


@router.get("/mailboxes/{address}/folders", response_model=list[str], summary="Carpetas")
async def list_folders(request: Request, caller: CallerDep, address: str) -> list[str]:
    context = _context(request)
    return await context.store.list_folders(_owner(caller, context, address))


MAX_PAGE = 5000


@router.get(
    "/mailboxes/{address}/messages",
    response_model=list[MessageOut],
    summary="Mensajes, en orden de UID, una página a la vez",
)
async def list_messages(
    request: Request,
    caller: CallerDep,
    address: str,
    folder: Folder = "INBOX",
    after: Annotated[int, Query(ge=0, le=2**32 - 1, description="Desde el UID siguiente")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Mensajes por página")] = 500,
) -> list[MessageOut]:
    """A page: what the loop turns into JSON is bounded however large the mailbox is."""
    context = _context(request)
    owner = _owner(caller, context, address)
    listed = await context.store.list_messages(owner, folder, after=after, limit=limit)
    return [
        MessageOut(
            uid=info.uid,
            size=info.size,
            internal_date=info.internal_date,
            flags=sorted(info.flags),
            url=f"/api/mailboxes/{owner}/messages/{info.uid}?folder={folder}",
        )
        for info in listed
    ]


@router.get(
    "/mailboxes/{address}/messages/{uid}",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}},
    summary="Un mensaje, tal como llegó",
)
async def get_message(
    request: Request,
    caller: CallerDep,
    address: str,
    uid: Uid,
    folder: Folder = "INBOX",
) -> Response:
    context = _context(request)
    owner = _owner(caller, context, address)
    try:
        raw = await context.store.read_message(owner, folder, uid)
    except KeyError:
        raise Problem(404, f"no hay mensaje {uid} en {folder}", field="uid") from None
    return Response(raw, media_type="message/rfc822")


# endregion
# region live feed


@router.get("/events", summary="Llegadas y respuestas en vivo (server-sent events)")
async def events(request: Request, caller: CallerDep) -> StreamingResponse:
    context = _context(request)
    scope = caller.scope
    feed = Feed(scope)
    unsubscribe = context.store.subscribe(feed.hear)
    seen = {(d.id, d.answered_at) for d in await context.ledger.declarations(scope)}

    async def stream() -> AsyncIterator[str]:
        nonlocal seen
        context.feeds.add(feed)
        try:
            yield "retry: 2000\n\n"
            while True:
                if not await feed.woken(within=15):
                    yield ": sigue\n\n"
                    continue
                if feed.state.stopping:
                    return
                job_ids, answers = feed.state.take()
                for job in await context.ledger.jobs(scope, job_ids) if job_ids else ():
                    data = {"job": job.id, "office": job.office_code, "sender": job.sender}
                    yield f"event: arrival\ndata: {json.dumps(data)}\n\n"
                if answers:
                    listing = await context.ledger.declarations(scope)
                    fresh = [e for e in reversed(listing) if (e.id, e.answered_at) not in seen]
                    seen = {(e.id, e.answered_at) for e in listing}  # bounded by the listing
                    for entry in fresh:
                        data = {
                            "reference": entry.agent_reference,
                            "status": entry.status,
                            "number": entry.number,
                            "channel": entry.channel,
                            "office": entry.office_code,
                            "agent_code": entry.agent_code,
                            "id": entry.id,
                        }
                        yield f"event: answer\ndata: {json.dumps(data)}\n\n"
                await asyncio.sleep(PAUSE)  # what comes meanwhile makes one pass
        finally:
            context.feeds.discard(feed)
            unsubscribe()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


# endregion
# region test rig administration


def _admin(request: Request, caller: Caller) -> HttpContext:
    context = _context(request)
    if not context.test_rig:
        raise Problem(403, "la administración de pruebas está desactivada (http_test_rig)")
    if not caller.admin:
        raise Problem(403, "se requiere una cuenta de administrador (http_admins)")
    return context


class ResetOut(BaseModel):
    mailboxes_removed: int


@router.post("/admin/reset", response_model=ResetOut, summary="Vaciar un nodo de demostración")
async def reset(request: Request, caller: CallerDep) -> ResetOut:
    """Every message, job, declaration and count goes; the accounts stay."""
    context = _admin(request, caller)
    removed = await reset_demo(context.store)
    request.app.state.submitted.clear()
    log.warning("test rig: node reset by %s (%d mailboxes)", caller.account.address, removed)
    return ResetOut(mailboxes_removed=removed)


class ClockOut(BaseModel):
    now: datetime
    date: date


EmulatedDay = Annotated[
    date,
    Field(
        ge=date(1900, 1, 1),
        le=date(2099, 12, 31),
        description="Del 1900-01-01 al 2099-12-31: más allá, las cuentas del nodo con fechas "
        "(los últimos 400 días de los gráficos, los plazos) saldrían del calendario",
    ),
]


class ClockIn(BaseModel):
    date: EmulatedDay


@router.get("/admin/clock", response_model=ClockOut, summary="La fecha del nodo")
async def get_clock(request: Request, caller: CallerDep) -> ClockOut:
    context = _admin(request, caller)
    now = context.clock.now()
    return ClockOut(now=now, date=now.date())


@router.put("/admin/clock", response_model=ClockOut, summary="Fijar la fecha emulada")
async def put_clock(request: Request, caller: CallerDep, body: ClockIn) -> ClockOut:
    context = _admin(request, caller)
    clock = context.clock
    if isinstance(clock, EmulatedClock):
        clock.set_date(body.date)
    elif isinstance(clock, FixedClock):
        clock.set(datetime.combine(body.date, clock.now().timetz()))
    else:
        raise Problem(409, "el nodo corre con la fecha real: inícielo con emulated_date")
    log.warning("test rig: emulated date set to %s by %s", body.date, caller.account.address)
    now = clock.now()
    return ClockOut(now=now, date=now.date())


class SmtpFaultIn(BaseModel):
    """The next ``sessions`` SMTP sessions, or a ``fraction`` of them until switched off."""

    stage: Stage = Field(description="helo, mail, rcpt o data")
    code: FaultCode
    sessions: int | None = Field(
        default=None, ge=1, le=10_000, description="Cuántas sesiones SMTP siguientes"
    )
    fraction: float | None = Field(
        default=None, gt=0, le=1, description="Proporción de sesiones, hasta apagarlo"
    )

    @model_validator(mode="after")
    def _one_of(self) -> SmtpFaultIn:
        if (self.sessions is None) == (self.fraction is None):
            raise ValueError("indique sessions o fraction, uno de los dos")
        return self


class ModemFaultIn(BaseModel):
    """Each call the modem simulator connects from now on loses its carrier after N bytes."""

    drop_after_bytes: int = Field(
        ge=1, le=MAX_BYTES, description="Bytes cruzados por la línea (ambos sentidos)"
    )


class ChaosState(BaseModel):
    smtp: SmtpFaultIn | None = None
    answer_delay: float = Field(
        default=0.0, ge=0, le=3600, description="Segundos de demora de cada respuesta"
    )
    modem: ModemFaultIn | None = Field(
        default=None, description="Corte de portadora del simulador de módem (chaos_modem_control)"
    )


def _chaos_state(context: HttpContext) -> ChaosState:
    fault = context.chaos.smtp
    smtp = None
    if fault is not None:
        if fault.fraction is not None:
            smtp = SmtpFaultIn(stage=fault.stage, code=fault.code, fraction=fault.fraction)
        else:
            smtp = SmtpFaultIn(stage=fault.stage, code=fault.code, sessions=fault.remaining)
    drop = context.chaos.modem_drop_after
    modem = ModemFaultIn(drop_after_bytes=drop) if drop is not None else None
    return ChaosState(smtp=smtp, answer_delay=context.chaos.answer_delay, modem=modem)


async def _switch_modem(context: HttpContext, after_bytes: int | None) -> None:
    """Pass the carrier-drop switch to the modem simulator (a process of its own, see
    ``dialup_sim.control``), then record what it confirmed; nothing changes if it fails."""
    if after_bytes == context.chaos.modem_drop_after:
        return
    address = context.modem_control
    if address is None:
        raise Problem(
            409, "no hay simulador de módem configurado (chaos_modem_control)", field="modem"
        )
    try:
        confirmed = await send_control(address, DropAfter(after_bytes))
    except ControlError as exc:
        raise Problem(502, f"el simulador de módem en {address} no respondió: {exc}") from exc
    context.chaos.set_modem_drop(confirmed)


@router.get("/admin/chaos", response_model=ChaosState, summary="Fallas inducidas activas")
async def get_chaos(request: Request, caller: CallerDep) -> ChaosState:
    return _chaos_state(_admin(request, caller))


@router.put("/admin/chaos", response_model=ChaosState, summary="Inducir fallas")
async def put_chaos(request: Request, caller: CallerDep, body: ChaosState) -> ChaosState:
    """Replaces every switch: what the body leaves out is switched off."""
    context = _admin(request, caller)
    await _switch_modem(context, body.modem.drop_after_bytes if body.modem else None)
    context.chaos.clear()
    if body.smtp is not None and body.smtp.fraction is not None:
        context.chaos.set_smtp_fraction(body.smtp.stage, body.smtp.code, body.smtp.fraction)
    elif body.smtp is not None and body.smtp.sessions is not None:
        context.chaos.set_smtp(body.smtp.stage, body.smtp.code, body.smtp.sessions)
    if body.answer_delay:
        context.chaos.set_answer_delay(body.answer_delay)
    log.warning("test rig: chaos set by %s", caller.account.address)
    return _chaos_state(context)


@router.delete("/admin/chaos", response_model=ChaosState, summary="Apagar las fallas inducidas")
async def delete_chaos(request: Request, caller: CallerDep) -> ChaosState:
    context = _admin(request, caller)
    context.chaos.clear()
    await _switch_modem(context, None)
    return _chaos_state(context)


# endregion
