"""ID-*: who imports or exports (seed 004 VI.3)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Final

from edi_formats.codes import PartyDocType
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.ruc import ruc_problem
from validators.rules.sources import INTA_PG01A, cite_004
from validators.rules.wording import amount, party_box

__all__ = [
    "NORUC_OCCASIONAL_LIMIT",
    "NORUC_OCCASIONAL_PER_YEAR",
    "NORUC_ONCE_LIMIT",
    "RULES",
    "id_noruc",
    "id_ruc",
]

NORUC_OCCASIONAL_LIMIT: Final = Decimal(1000)
"""VI.3 a): occasional imports of up to US$1,000 FOB each..."""
NORUC_OCCASIONAL_PER_YEAR: Final = 3
"""...at most three a calendar year."""
NORUC_ONCE_LIMIT: Final = Decimal(3000)
"""VI.3 b): once a calendar year, over US$1,000 and up to US$3,000 FOB."""


@rule("ID-RUC", title="RUC válido del importador o exportador", citation=cite_004("VI.3"))
def id_ruc(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A RUC has 11 digits, prefix 10/15/17/20 and a valid modulo-11 check digit.

    Parties identified by DNI, CE, passport or salvoconducto are ID-NORUC's concern.
    """
    party = declaration.importer if isinstance(declaration, DUA) else declaration.exporter
    if party.doc_type is not PartyDocType.RUC:
        return
    problem = ruc_problem(party.doc_number)
    if problem is not None:
        where = "importer" if isinstance(declaration, DUA) else "exporter"
        yield Problem(f"{where}.doc_number", f"{party_box(declaration)}: {problem}.")


_NOT_RUC: Final = {
    PartyDocType.DNI: "DNI",
    PartyDocType.CE: "carné de extranjería",
    PartyDocType.PAS: "pasaporte",
    PartyDocType.SAL: "salvoconducto",
}
_BOX: Final = "Casilla Importador"
_GET_RUC: Final = (
    "Para importar más, el importador debe inscribirse en el RUC. Si es miembro acreditado "
    "del servicio diplomático o funcionario de un organismo internacional que destina su "
    "vehículo o menaje de casa (inciso c), comuníquese con la intendencia de aduana: ese "
    "supuesto no se tramita por Teledespacho."
)


@rule(
    "ID-NORUC",
    title="Importador sin RUC: importaciones ocasionales dentro de los límites del año",
    citation=cite_004("VI.3"),
    applies_to={"DUA"},
    schedule=INTA_PG01A,
)
def id_noruc(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """An importer identified by DNI, foreigner's card, passport or salvoconducto (not obliged
    to the RUC) may import occasionally: up to US$1,000 FOB per operation and at most three
    imports a calendar year (a), or a single import in the calendar year over US$1,000 and up
    to US$3,000 (b). The yearly counts come from the store (``ctx.facts``); offline only the
    operation's own limit is checked. Accredited diplomats (c) cannot be told apart in the
    DUA, so the message tells them how to proceed."""
    if not isinstance(declaration, DUA):
        return
    party = declaration.importer
    document = _NOT_RUC.get(party.doc_type)
    if document is None:
        return
    fob = declaration.totals.fob
    who = f"{_BOX}: el importador identificado con {document} {party.doc_number}"
    if fob > NORUC_ONCE_LIMIT:
        yield Problem(
            "importer.doc_type",
            f"{who} (sin RUC) solo puede importar mercancías de hasta "
            f"{amount(NORUC_ONCE_LIMIT)} FOB por operación; esta declaración suma "
            f"{amount(fob)}. {_GET_RUC}",
        )
        return
    if ctx.facts is None:
        return
    year = ctx.as_of.year
    history = ctx.facts.imports_in_year(party.doc_type, party.doc_number, year)
    if fob > NORUC_OCCASIONAL_LIMIT:
        if history.count:
            yield Problem(
                "importer.doc_type",
                f"{who} (sin RUC) ya registra {history.count} importación(es) en {year}; una "
                f"importación de más de {amount(NORUC_OCCASIONAL_LIMIT)} FOB ({amount(fob)}) "
                f"solo se admite por única vez en el año calendario, sin otras. {_GET_RUC}",
            )
        return
    if history.count_over(NORUC_OCCASIONAL_LIMIT):
        yield Problem(
            "importer.doc_type",
            f"{who} (sin RUC) ya hizo en {year} su única importación anual de más de "
            f"{amount(NORUC_OCCASIONAL_LIMIT)} FOB; no puede numerar otras ese año. {_GET_RUC}",
        )
    elif history.count >= NORUC_OCCASIONAL_PER_YEAR:
        yield Problem(
            "importer.doc_type",
            f"{who} (sin RUC) ya registra {history.count} importaciones en {year}; las "
            f"importaciones ocasionales sin RUC son como máximo {NORUC_OCCASIONAL_PER_YEAR} "
            f"por año calendario. {_GET_RUC}",
        )


RULES = (id_ruc, id_noruc)
