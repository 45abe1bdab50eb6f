"""ID-*: who imports or exports (seed 004 VI.3)."""

from __future__ import annotations

from collections.abc import Iterator

from edi_formats.codes import PartyDocType
from edi_formats.models import DUA, OE
from validators.engine import RuleContext
from validators.registry import Problem, rule
from validators.ruc import ruc_problem
from validators.rules.sources import cite_004
from validators.rules.wording import party_box

__all__ = ["RULES", "id_ruc"]


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


RULES = (id_ruc,)
