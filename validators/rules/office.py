"""Teledespacho itself: the office receives declarations by mail, from the right agent."""

from __future__ import annotations

from collections.abc import Iterator

from config.offices import OfficeMode
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.rules.eras import before_and_under_pg01a
from validators.rules.sources import cite_000, cite_004
from validators.rules.wording import day, document_name

__all__ = ["RULES", "td_office", "td_sender"]


@rule(
    "TD-OFFICE",
    title="La aduana existe, opera Teledespacho a la fecha y es la del buzón",
    citation=cite_000(),
)
def td_office(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """The office exists, hosts Teledespacho as of the date, and is the addressed office's.

    In force for the whole life of the gateway: the start date is per office, read from the
    office registry (Maritime and Airport Callao and the nine offices already centralized in
    1997 from 1997-02-17, the others from 1998-01-01), so a declaration dated before its
    office's start is rejected, not waved through. Headquarters (000) hosts the mail server
    of the centralized offices and dispatches nothing: a declaration naming it is refused.
    """
    office = ctx.offices.get(declaration.office)
    if office is None:
        yield Problem(
            "office",
            f"Casilla Aduana: el código {declaration.office} no corresponde a ninguna "
            "intendencia de aduana que opere Teledespacho.",
        )
        return
    if office.mode is OfficeMode.HEADQUARTERS:
        yield Problem(
            "office",
            f"Casilla Aduana: el código {office.code} es la {office.name}, donde funciona el "
            "servidor de correo de las aduanas centralizadas; no es una aduana de despacho. "
            "Indique la aduana por la que se despachan las mercancías y envíe la declaración "
            "a su buzón.",
        )
        return
    if ctx.as_of < office.teledispatch_from:
        yield Problem(
            "office",
            f"Casilla Aduana: la aduana {office.code} ({office.name}) recibe declaraciones por "
            f"Teledespacho desde el {day(office.teledispatch_from)}; la transmisión del "
            f"{day(ctx.as_of)} no puede tramitarse por este medio.",
        )
    if ctx.addressed_office is not None and ctx.addressed_office != declaration.office:
        yield Problem(
            "office",
            f"Casilla Aduana: {document_name(declaration)} indica la aduana {office.code} "
            f"({office.name}) pero fue enviada al buzón de la aduana {ctx.addressed_office}. "
            "Envíela al buzón de la aduana de despacho.",
        )


@before_and_under_pg01a(
    "TD-SENDER",
    title="El despachador de la declaración es el remitente autenticado",
    before=cite_000("numerales 3 y 5: buzón de cada agente de aduana que solicita el servicio"),
    under=cite_004("VII.A.1: transmisión con la clave electrónica asignada"),
)
def td_sender(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """The declaration's agent code is the authenticated sender's (the assigned electronic key).

    Skipped when the context has no sender (offline validation).
    """
    sender = ctx.sender_agent_code
    if sender is not None and sender != declaration.agent_code:
        yield Problem(
            "agent_code",
            f"Casilla Despachador: {document_name(declaration)} declara el despachador "
            f"{declaration.agent_code}, pero fue transmitida con la clave electrónica del "
            f"despachador {sender}. Cada despachador transmite solo sus declaraciones.",
        )


RULES = (td_office, *td_sender)
