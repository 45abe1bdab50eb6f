"""STR-*: the declaration is complete and its numbers add up (seed 004 VII.A.7).

The SIGAD "valida los datos de la información transmitida" before numbering (INTA-PG.01-A,
2010); from 1997 the Teledespacho mail server validated "the DUA and O/E for their subsequent
acceptance or rejection" (seed 000), and a rejection before INTA-PG.01-A cites that
(``validators.rules.eras``). The project splits the check into one rule per kind of mistake,
so a rejection says which:

- STR-REQUIRED   boxes that must be filled (names, descriptions, origin, quantity, unit);
- STR-SERIES     at least one series, numbered 1..n in order, without gaps or repeats;
- STR-SUBPARTIDA the national subpartida has exactly 10 digits;
- STR-AMOUNTS    amounts are >= 0 with at most 2 decimals; weights and quantities >= 0;
- STR-TOTALS     each total equals the sum over the series (FOB, freight, insurance, CIF,
                 gross and net weight, packages);
- STR-CIF        CIF = FOB + freight + insurance, in the totals and in each series (DUA);
- STR-WEIGHT     net weight <= gross weight, in the totals and in each series;
- STR-DATES      dates agree with each other (end of discharge not before arrival, control
                 document not expiring before issue, invoice not dated after transmission).

Dates that are not dates and amounts that are not numbers never reach the rules: the
readers refuse them as unreadable (``DeclarationSyntaxError``), naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from edi_formats.models import DUA, OE, ExportSeries, ImportSeries
from validators.context import RuleContext
from validators.registry import Problem
from validators.rules.eras import before_and_under_pg01a
from validators.rules.sources import cite_000, cite_004
from validators.rules.wording import amount, day, document_name, party_box

__all__ = [
    "RULES",
    "str_amounts",
    "str_cif",
    "str_dates",
    "str_required",
    "str_series",
    "str_subpartida",
    "str_totals",
    "str_weight",
]

_CITATION = cite_004("VII.A.7")
_BEFORE = cite_000("numeral 1: el servidor valida la DUA y la O/E para su aceptación o rechazo")
_CENT = Decimal("0.01")
_ZERO = Decimal(0)


def _series_label(number: int) -> str:
    return f"Serie {number}"


@before_and_under_pg01a(
    "STR-REQUIRED", title="Casillas obligatorias llenas", before=_BEFORE, under=_CITATION
)
def str_required(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Boxes a broker must fill: the party's name, and per series description, quantity, unit
    (and origin for imports); for an O/E also the consignee abroad and destination country."""
    box = party_box(declaration)
    if isinstance(declaration, DUA):
        if declaration.importer.name is None:
            yield Problem("importer.name", f"{box}: falta el nombre o razón social.")
    else:
        if declaration.exporter.name is None:
            yield Problem("exporter.name", f"{box}: falta el nombre o razón social.")
        if declaration.consignee.name is None:
            yield Problem(
                "consignee.name", "Casilla Consignatario: falta el nombre del consignatario."
            )
        if declaration.destination_country is None:
            yield Problem(
                "destination_country", "Casilla País de destino: falta el país de destino."
            )
    is_import = isinstance(declaration, DUA)
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, item in enumerate(series):
        where = f"series[{index}]"
        label = _series_label(item.number)
        if item.description is None:
            yield Problem(
                f"{where}.description", f"{label}, casilla Descripción: falta la descripción."
            )
        if is_import and item.origin_country is None:
            yield Problem(
                f"{where}.origin_country", f"{label}, casilla País de origen: falta el país."
            )
        if item.quantity is None:
            yield Problem(f"{where}.quantity", f"{label}, casilla Cantidad: falta la cantidad.")
        if item.unit is None:
            yield Problem(f"{where}.unit", f"{label}, casilla Unidad de medida: falta la unidad.")


@before_and_under_pg01a(
    "STR-SERIES", title="Series numeradas de 1 a n", before=_BEFORE, under=_CITATION
)
def str_series(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """At least one series; numbered 1, 2, ... n in the order sent, without gaps or repeats."""
    if not declaration.series:
        yield Problem(
            "series", f"{document_name(declaration).capitalize()} no tiene ninguna serie."
        )
        return
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    wrong = [(index, item.number) for index, item in enumerate(series) if item.number != index + 1]
    if wrong:
        index, number = wrong[0]
        more = f" ({len(wrong)} series mal numeradas en total)" if len(wrong) > 1 else ""
        yield Problem(
            f"series[{index}].number",
            f"Casilla Número de serie: la serie en la posición {index + 1} lleva el número "
            f"{number}; las series deben numerarse 1, 2, 3... sin saltos ni repeticiones{more}.",
        )


@before_and_under_pg01a(
    "STR-SUBPARTIDA", title="Subpartida nacional de 10 dígitos", before=_BEFORE, under=_CITATION
)
def str_subpartida(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """The national subpartida of each series has exactly 10 digits."""
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, item in enumerate(series):
        if len(item.subpartida) != 10:
            yield Problem(
                f"series[{index}].subpartida",
                f"{_series_label(item.number)}, casilla Subpartida nacional: "
                f"'{item.subpartida}' tiene {len(item.subpartida)} dígitos; "
                "la subpartida nacional tiene 10.",
            )


def _money_fields(declaration: DUA | OE) -> Iterator[tuple[str, str, Decimal]]:
    """(field path, Spanish label, value) of every US-dollar amount."""
    if isinstance(declaration, DUA):
        t = declaration.totals
        yield from (
            ("totals.fob", "Total FOB", t.fob),
            ("totals.freight", "Total flete", t.freight),
            ("totals.insurance", "Total seguro", t.insurance),
            ("totals.cif", "Total CIF", t.cif),
        )
        for index, s in enumerate(declaration.series):
            label = _series_label(s.number)
            where = f"series[{index}]"
            yield from (
                (f"{where}.fob", f"{label}, FOB", s.fob),
                (f"{where}.freight", f"{label}, flete", s.freight),
                (f"{where}.insurance", f"{label}, seguro", s.insurance),
                (f"{where}.cif", f"{label}, CIF", s.cif),
            )
    else:
        yield ("totals.fob", "Total FOB", declaration.totals.fob)
        for index, e in enumerate(declaration.series):
            yield (f"series[{index}].fob", f"{_series_label(e.number)}, FOB", e.fob)
    for index, invoice in enumerate(declaration.invoices):
        if invoice.amount is not None:
            yield (
                f"invoices[{index}].amount",
                f"Factura {invoice.number}, importe",
                invoice.amount,
            )


def _measure_fields(declaration: DUA | OE) -> Iterator[tuple[str, str, Decimal]]:
    """(field path, Spanish label, value) of every weight and quantity."""
    t = declaration.totals
    yield ("totals.gross_weight", "Peso bruto total", t.gross_weight)
    yield ("totals.net_weight", "Peso neto total", t.net_weight)
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, s in enumerate(series):
        label = _series_label(s.number)
        yield (f"series[{index}].gross_weight", f"{label}, peso bruto", s.gross_weight)
        yield (f"series[{index}].net_weight", f"{label}, peso neto", s.net_weight)
        if s.quantity is not None:
            yield (f"series[{index}].quantity", f"{label}, cantidad", s.quantity)


@before_and_under_pg01a(
    "STR-AMOUNTS", title="Importes no negativos con dos decimales", before=_BEFORE, under=_CITATION
)
def str_amounts(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Amounts are >= 0 with at most two decimals; weights and quantities are >= 0."""
    for path, label, value in _money_fields(declaration):
        if value < _ZERO:
            yield Problem(path, f"{label}: el importe {value} es negativo.")
        elif value != value.quantize(_CENT):
            yield Problem(path, f"{label}: el importe {value} tiene más de dos decimales.")
    for path, label, value in _measure_fields(declaration):
        if value < _ZERO:
            yield Problem(path, f"{label}: el valor {value} es negativo.")


def _sum(values: Iterator[Decimal]) -> Decimal:
    return sum(values, _ZERO)


@before_and_under_pg01a(
    "STR-TOTALS", title="Totales iguales a la suma de las series", before=_BEFORE, under=_CITATION
)
def str_totals(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Each total equals the sum over the series: FOB, freight, insurance, CIF, weights,
    packages. Not judged without series (STR-SERIES reports that)."""
    if not declaration.series:
        return
    checks: list[tuple[str, str, Decimal, Decimal]]
    if isinstance(declaration, DUA):
        t, s = declaration.totals, declaration.series
        checks = [
            ("fob", "FOB", t.fob, _sum(x.fob for x in s)),
            ("freight", "flete", t.freight, _sum(x.freight for x in s)),
            ("insurance", "seguro", t.insurance, _sum(x.insurance for x in s)),
            ("cif", "CIF", t.cif, _sum(x.cif for x in s)),
        ]
    else:
        checks = [("fob", "FOB", declaration.totals.fob, _sum(x.fob for x in declaration.series))]
    for name, label, total, summed in checks:
        if total != summed:
            yield Problem(
                f"totals.{name}",
                f"Casilla Total {label}: declara {amount(total)} pero la suma de las series es "
                f"{amount(summed)}.",
            )
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    totals = declaration.totals
    for name, label, total, summed in (
        ("gross_weight", "peso bruto", totals.gross_weight, _sum(x.gross_weight for x in series)),
        ("net_weight", "peso neto", totals.net_weight, _sum(x.net_weight for x in series)),
    ):
        if total != summed:
            yield Problem(
                f"totals.{name}",
                f"Casilla Total {label}: declara {total} kg pero la suma de las series es "
                f"{summed} kg.",
            )
    packages = sum(x.packages for x in series)
    if totals.packages != packages:
        yield Problem(
            "totals.packages",
            f"Casilla Total bultos: declara {totals.packages} pero la suma de las series es "
            f"{packages}.",
        )


@before_and_under_pg01a(
    "STR-CIF",
    title="CIF = FOB + flete + seguro",
    before=_BEFORE,
    under=_CITATION,
    applies_to={"DUA"},
)
def str_cif(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """CIF equals FOB + freight + insurance, in the totals and in each series."""
    if not isinstance(declaration, DUA):
        return
    t = declaration.totals
    if t.cif != t.fob + t.freight + t.insurance:
        yield Problem(
            "totals.cif",
            f"Casilla Total CIF: {amount(t.cif)} no es FOB + flete + seguro "
            f"({amount(t.fob + t.freight + t.insurance)}).",
        )
    for index, s in enumerate(declaration.series):
        if s.cif != s.fob + s.freight + s.insurance:
            yield Problem(
                f"series[{index}].cif",
                f"{_series_label(s.number)}, casilla Valor CIF: {amount(s.cif)} no es FOB + "
                f"flete + seguro ({amount(s.fob + s.freight + s.insurance)}).",
            )


@before_and_under_pg01a(
    "STR-WEIGHT", title="Peso neto no mayor que el bruto", before=_BEFORE, under=_CITATION
)
def str_weight(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """Net weight is not greater than gross weight, in the totals and in each series."""
    t = declaration.totals
    if t.net_weight > t.gross_weight:
        yield Problem(
            "totals.net_weight",
            f"Casilla Peso neto total: {t.net_weight} kg supera el peso bruto total "
            f"({t.gross_weight} kg).",
        )
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, s in enumerate(series):
        if s.net_weight > s.gross_weight:
            yield Problem(
                f"series[{index}].net_weight",
                f"{_series_label(s.number)}, casilla Peso neto: {s.net_weight} kg supera el peso "
                f"bruto ({s.gross_weight} kg).",
            )


@before_and_under_pg01a(
    "STR-DATES", title="Fechas coherentes entre sí", before=_BEFORE, under=_CITATION
)
def str_dates(declaration: DUA | OE, ctx: RuleContext) -> Iterator[Problem]:
    """End of discharge not before arrival; control documents not expiring before issue;
    invoices not dated after the transmission."""
    if isinstance(declaration, DUA):
        arrival = declaration.transport.arrival_date
        discharged = declaration.transport.discharge_end_date
        if arrival is not None and discharged is not None and discharged < arrival:
            yield Problem(
                "transport.discharge_end_date",
                f"Casilla Fecha de término de la descarga: {day(discharged)} es anterior a la "
                f"fecha de llegada ({day(arrival)}).",
            )
    series: Sequence[ImportSeries | ExportSeries] = declaration.series
    for index, s in enumerate(series):
        for doc_index, doc in enumerate(s.control_documents):
            if doc.expires_on is not None and doc.expires_on < doc.issued_on:
                yield Problem(
                    f"series[{index}].control_documents[{doc_index}].expires_on",
                    f"{_series_label(s.number)}, documento de control {doc.number}: vence el "
                    f"{day(doc.expires_on)}, antes de su emisión ({day(doc.issued_on)}).",
                )
    for index, invoice in enumerate(declaration.invoices):
        if invoice.issued_on is not None and invoice.issued_on > ctx.as_of:
            yield Problem(
                f"invoices[{index}].issued_on",
                f"Factura {invoice.number}: su fecha ({day(invoice.issued_on)}) es posterior a "
                f"la transmisión ({day(ctx.as_of)}).",
            )


RULES = (
    *str_required,
    *str_series,
    *str_subpartida,
    *str_amounts,
    *str_totals,
    *str_cif,
    *str_weight,
    *str_dates,
)
