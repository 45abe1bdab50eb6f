"""STR-COUNTRY: every country box holds an ISO 3166-1 code in force on the transmission day.

The readers accept any two capital letters, since whether ``XX``, ``UK`` or ``YU`` names a
country is a question of the day, not of syntax: Yugoslavia's ``YU`` was valid in 1998 and
withdrawn on 23/07/2003; South Sudan's ``SS`` was assigned on 09/08/2011. The days come from
the country table (``config/data/countries.csv``, replaceable like every reference table),
so a declaration is judged by the codes of its own day, and the rejection says which code
replaced a withdrawn one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from config.reference import ReferenceData
from edi_formats.models import DUA, OE, ExportSeries, ImportSeries
from validators.context import RuleContext
from validators.registry import Problem
from validators.rules.eras import before_and_under_pg01a
from validators.rules.sources import cite_000, cite_004
from validators.rules.wording import day, series_label

__all__ = ["RULES", "str_country"]


def _country_boxes(declaration: DUA | OE) -> Iterator[tuple[str, str, str]]:
    """(path, the box as the form names it, code) of every filled country box."""
    if isinstance(declaration, OE):
        if declaration.destination_country is not None:
            yield "destination_country", "Casilla País de destino", declaration.destination_country
        if declaration.consignee.country is not None:
            yield "consignee.country", "Casilla Consignatario, país", declaration.consignee.country
    for index, invoice in enumerate(declaration.invoices):
        if invoice.supplier is not None and invoice.supplier.country is not None:
            yield (
                f"invoices[{index}].supplier.country",
                f"Factura {invoice.number}, país del proveedor",
                invoice.supplier.country,
            )
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, item in enumerate(series):
        if item.origin_country is not None:
            yield (
                f"series[{index}].origin_country",
                f"{series_label(item.number)}, casilla País de origen",
                item.origin_country,
            )


def _why_not(code: str, as_of: date, reference: ReferenceData) -> str | None:
    """What is wrong with ``code`` on ``as_of``, in a broker's words; None if nothing."""
    if reference.country(code, as_of) is not None:
        return None
    periods = reference.countries.get(code, ())
    for period in reversed(periods):
        if period.withdrawn is not None and period.withdrawn <= as_of:
            instead = " o ".join(reference.successors(period, as_of))
            return f"el código {code} ({period.name}) dejó de usarse el {day(period.withdrawn)}" + (
                f"; en su lugar se consigna {instead}." if instead else "."
            )
    for period in periods:
        if period.assigned is not None and as_of < period.assigned:
            return (
                f"el código {code} ({period.name}) rige desde el {day(period.assigned)}; "
                f"el {day(as_of)} no era un código de país."
            )
    return f"{code} no es un código de país de la norma ISO 3166-1 (p. ej. CN, US, DE)."


@before_and_under_pg01a(
    "STR-COUNTRY",
    title="Códigos de país ISO 3166-1 vigentes en la fecha",
    before=cite_000("numeral 1: el servidor valida la DUA y la O/E para su aceptación o rechazo"),
    under=cite_004("VII.A.7"),
)
def str_country(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Origin, destination, the consignee's and the supplier's country: each a code of the
    ISO 3166-1 table in force on the day of the transmission."""
    for path, box, code in _country_boxes(declaration):
        reason = _why_not(code, ctx.as_of, ctx.reference)
        if reason is not None:
            yield Problem(path, f"{box}: {reason}")


RULES = str_country
