"""ID-*: who imports or exports (seed 004 VI.3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Final

from edi_formats.codes import PartyDocType
from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.registry import Problem, rule
from validators.ruc import ruc_problem
from validators.rules.sources import INTA_PG01A, cite_004, cite_project
from validators.rules.wording import amount, party_box

__all__ = [
    "NORUC_OCCASIONAL_LIMIT",
    "NORUC_OCCASIONAL_PER_YEAR",
    "NORUC_ONCE_LIMIT",
    "RUC_CHECK_DIGIT_FROM",
    "RULES",
    "id_noruc",
    "id_ruc",
    "id_ruc_check_digit",
    "id_ruc_digits",
]

NORUC_OCCASIONAL_LIMIT: Final = Decimal(1000)
"""VI.3 a): occasional imports of up to US$1,000 FOB each..."""
NORUC_OCCASIONAL_PER_YEAR: Final = 3
"""...at most three a calendar year."""
NORUC_ONCE_LIMIT: Final = Decimal(3000)
"""VI.3 b): once a calendar year, over US$1,000 and up to US$3,000 FOB."""


def _party(declaration: DUA | OE) -> tuple[str, PartyDocType, str]:
    party = declaration.importer if isinstance(declaration, DUA) else declaration.exporter
    where = "importer" if isinstance(declaration, DUA) else "exporter"
    return where, party.doc_type, party.doc_number


def id_ruc_digits(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A RUC is a number: 8 digits (the RUC of the 1990s) or 11 (the RUC SUNAT gives since).

    The sources give no structure of the RUC; the modulo-11 check digit of the 11-digit RUC
    is not asked before INTA-PG.01-A, so a 1997 broker's 8-digit RUC is not refused for an
    anachronism."""
    where, doc_type, number = _party(declaration)
    if doc_type is not PartyDocType.RUC:
        return
    if not number.isdigit() or len(number) not in (8, 11):
        yield Problem(
            f"{where}.doc_number",
            f"{party_box(declaration)}: el RUC '{number}' debe ser un número de 8 u 11 dígitos.",
        )


_ruc_problem: Final = lru_cache(maxsize=4096)(ruc_problem)
"""``ruc_problem`` of a declared party's RUC (at most 15 characters): importers and exporters
recur from declaration to declaration."""


def id_ruc_check_digit(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """A RUC has 11 digits, prefix 10/15/17/20 and a valid modulo-11 check digit.

    Parties identified by DNI, CE, passport or salvoconducto are ID-NORUC's concern.
    """
    where, doc_type, number = _party(declaration)
    if doc_type is not PartyDocType.RUC:
        return
    problem = _ruc_problem(number)
    if problem is not None:
        yield Problem(f"{where}.doc_number", f"{party_box(declaration)}: {problem}.")


RUC_CHECK_DIGIT_FROM: Final = date(2010, 8, 31)
"""The first day a source asks the importer for its RUC (INTA-PG.01-A VI.3, "RUC activo"):
from then on the 11-digit RUC and its check digit are asked, of DUA and O/E alike."""

id_ruc = (
    rule(
        "ID-RUC",
        title="RUC numérico del importador o exportador",
        citation=cite_project("RUC numérico de 8 u 11 dígitos"),
        effective_to=RUC_CHECK_DIGIT_FROM - timedelta(days=1),
    )(id_ruc_digits),
    rule(
        "ID-RUC",
        title="RUC válido del importador o exportador",
        citation=(
            f"{cite_project('RUC de 11 dígitos con dígito verificador módulo 11')}; "
            f"{cite_004('VI.3')} en la importación"
        ),
        effective_from=RUC_CHECK_DIGIT_FROM,
    )(id_ruc_check_digit),
)
"""Before 2010-08-31 the RUC is a number of 8 or 11 digits (the sources give none of its
structure and 1997's RUC had 8); from then on 11 digits with prefix and check digit."""


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


RULES = (*id_ruc, id_noruc)
