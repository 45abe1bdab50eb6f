"""DUA and O/E models -> CUSDEC D.96B interchanges, as docs/edifact.md lays them out.

The output is canonical: the same model always gives the same bytes, and ``parse_cusdec``
reads it back to an equal model. What D.96B cannot carry (a name longer than its five 35-
character lines, a unit code longer than 6411's three characters, more packages than PAC's
eight digits...) raises ``DeclarationSyntaxError("EDI-LIMIT")`` naming the field: the flat
and JSON formats carry those declarations.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from edi_formats.codes import TransportMode
from edi_formats.edifact import codes as c
from edi_formats.edifact.segments import Element
from edi_formats.edifact.syntax import SegmentSpec, write_interchange
from edi_formats.edifact.values import (
    FTX_PART,
    FTX_PARTS,
    format_date,
    format_decimal,
    split_text,
)
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.models import (
    DUA,
    OE,
    ControlDocument,
    ExportSeries,
    ForeignParty,
    ImportSeries,
    InsuranceDocument,
    Invoice,
    ManifestRef,
    Party,
    TransportDocument,
)

__all__ = ["DEFAULT_PREPARED", "NAME_LINE", "control_reference_for", "render_cusdec"]

DEFAULT_PREPARED: Final = datetime(1997, 3, 3, 0, 0)
"""UNB preparation date when the caller gives none: canonical output must not read a clock."""

NAME_LINE: Final = 35
"""3036 party name and 3042 street lines: an..35."""

_NAME_LINES: Final = 5
_STREET_LINES: Final = 4
_MAX_PACKAGES: Final = 99_999_999
_MAX_QUANTITY_DIGITS: Final = 15
_MAX_UNIT: Final = 3


def _limit(message: str, field: str) -> DeclarationSyntaxError:
    return DeclarationSyntaxError("EDI-LIMIT", f"{message}; use el formato plano o JSON", field)


def _coded(value: str, code_list: str) -> tuple[str, str, str]:
    return (value, code_list, c.MUTUALLY_DEFINED)


def _lines(text: str | None, count: int, field: str) -> tuple[str, ...] | None:
    if text is None:
        return None
    if len(text) > NAME_LINE * count:
        raise _limit(
            f"{field} tiene {len(text)} caracteres y EDIFACT admite {NAME_LINE * count} "
            f"({count} líneas de {NAME_LINE})",
            field,
        )
    return tuple(split_text(text, NAME_LINE))


def _text(subject: str, text: str | None) -> list[SegmentSpec]:
    """FTX segments holding ``text`` in 70-character pieces, five per segment."""
    if text is None:
        return []
    pieces = split_text(text, FTX_PART)
    return [
        ("FTX", [subject, None, None, tuple(pieces[start : start + FTX_PARTS])])
        for start in range(0, len(pieces), FTX_PARTS)
    ]


def _money(qualifier: str, amount: Decimal) -> SegmentSpec:
    return ("MOA", [(qualifier, format_decimal(amount), c.DOLLARS)])


def _weight(dimension: str, kilograms: Decimal) -> SegmentSpec:
    return ("MEA", [c.MEASURE_WEIGHTS, dimension, (c.KILOGRAMS, format_decimal(kilograms))])


def _date(qualifier: str, value: date | None) -> list[SegmentSpec]:
    if value is None:
        return []
    return [("DTM", [(qualifier, format_date(value), c.DATE_FORMAT)])]


def _flag(code_list: str, value: bool) -> list[SegmentSpec]:
    return [("GIS", [_coded(c.YES, code_list)])] if value else []


def _packages(count: int, field: str) -> SegmentSpec:
    if count > _MAX_PACKAGES:
        raise _limit(f"{count} bultos exceden las ocho cifras de PAC (7224)", field)
    return ("PAC", [str(count)])


def _manifest(ref: ManifestRef) -> str:
    return f"{ref.office}-{ref.year}-{ref.number}"


def _party(qualifier: str, party: Party, field: str) -> SegmentSpec:
    return (
        "NAD",
        [
            qualifier,
            (party.doc_number, party.doc_type.value, c.MUTUALLY_DEFINED),
            None,
            _lines(party.name, _NAME_LINES, f"{field}.name"),
            _lines(party.address, _STREET_LINES, f"{field}.address"),
        ],
    )


def _foreign(qualifier: str, party: ForeignParty, field: str) -> SegmentSpec:
    return (
        "NAD",
        [
            qualifier,
            None,
            None,
            _lines(party.name, _NAME_LINES, f"{field}.name"),
            _lines(party.address, _STREET_LINES, f"{field}.address"),
            None,
            None,
            None,
            party.country,
        ],
    )


def _header(decl: DUA | OE) -> list[SegmentSpec]:
    cst: list[Element | None] = [None, _coded(decl.regime, c.LIST_REGIME)]
    out: list[SegmentSpec] = [
        ("BGM", [c.DOCUMENT_NAME[decl.document_type], decl.agent_reference, c.MESSAGE_ORIGINAL]),
    ]
    if isinstance(decl, DUA):
        modality = decl.modality
        cst.append(_coded(modality.code, c.LIST_MODALITY))
        for value, code_list in (
            (modality.arrival_point, c.LIST_ARRIVAL_POINT),
            (modality.arrival_option, c.LIST_ARRIVAL_OPTION),
            (modality.category, c.LIST_CATEGORY),
        ):
            if value is not None:
                cst.append(_coded(value, code_list))
    out.append(("CST", cst))
    out.append(("LOC", [c.LOCATION_CLEARANCE, decl.office]))
    if isinstance(decl, DUA):
        if decl.transport.warehouse_code is not None:
            out.append(("LOC", [c.LOCATION_STORAGE, decl.transport.warehouse_code]))
        out += _date(c.DATE_ARRIVAL_ESTIMATED, decl.transport.arrival_date)
        out += _date(c.DATE_END, decl.transport.discharge_end_date)
    else:
        if decl.destination_country is not None:
            out.append(("LOC", [c.LOCATION_DESTINATION, decl.destination_country]))
        out += _date(c.DATE_DESPATCH, decl.transport.shipment_date)
    out += _flag(c.LIST_SWORN_STATEMENT, decl.sworn_statement)
    if isinstance(decl, DUA) and decl.anticipado_exception is not None:
        out.append(("GIS", [_coded(decl.anticipado_exception, c.LIST_ANTICIPADO_EXCEPTION)]))
    if isinstance(decl, DUA) and decl.guarantee_account is not None:
        out.append(("FII", [c.PARTY_GUARANTEE, decl.guarantee_account]))
    out.append(_weight(c.WEIGHT_GROSS, decl.totals.gross_weight))
    out.append(_weight(c.WEIGHT_NET, decl.totals.net_weight))
    out += [("EQD", [c.EQUIPMENT_CONTAINER, number]) for number in decl.transport.containers]
    observations = decl.observations_7_38 if isinstance(decl, DUA) else decl.observations
    out += _text(c.TEXT_GENERAL, observations)
    out.append(_packages(decl.totals.packages, "totals.packages"))
    out.append(
        ("TDT", [c.TRANSPORT_MAIN_CARRIAGE, None, c.TRANSPORT_MODE_CODE[decl.transport.mode]])
    )
    if isinstance(decl, DUA):
        out.append(_party(c.PARTY_IMPORTER, decl.importer, "importer"))
    else:
        out.append(_party(c.PARTY_EXPORTER, decl.exporter, "exporter"))
        out.append(_foreign(c.PARTY_CONSIGNEE, decl.consignee, "consignee"))
    out.append(("NAD", [c.PARTY_AGENT, decl.agent_code]))
    out.append(_money(c.AMOUNT_INVOICE, decl.totals.fob))
    if isinstance(decl, DUA):
        out.append(_money(c.AMOUNT_FREIGHT, decl.totals.freight))
        out.append(_money(c.AMOUNT_INSURANCE, decl.totals.insurance))
        out.append(_money(c.AMOUNT_CUSTOMS_VALUE, decl.totals.cif))
        if decl.transport.manifest is not None:
            out.append(("DOC", [c.MANIFEST_DOCUMENT, _manifest(decl.transport.manifest)]))
    for document in decl.transport.documents:
        out += _transport_document(document, decl.transport.mode)
    for index, invoice in enumerate(decl.invoices):
        out += _invoice(invoice, index)
    if isinstance(decl, DUA) and decl.insurance is not None:
        out += _insurance(decl.insurance)
    return out


def _transport_document(doc: TransportDocument, mode: TransportMode) -> list[SegmentSpec]:
    out: list[SegmentSpec] = [("DOC", [c.TRANSPORT_DOCUMENT[mode], doc.number])]
    if doc.doc_type is not None:
        out.append(("GIS", [_coded(doc.doc_type.value, c.LIST_TRANSPORT_DOC_TYPE)]))
    if doc.master_number is not None:
        out.append(("RFF", [(c.REFERENCE_MASTER, doc.master_number)]))
    if doc.manifest is not None:
        out.append(("RFF", [(c.REFERENCE_MANIFEST, _manifest(doc.manifest))]))
    if doc.consignee_doc_number is not None:
        out.append(("NAD", [c.PARTY_CONSIGNEE, doc.consignee_doc_number]))
    return out


def _invoice(invoice: Invoice, index: int) -> list[SegmentSpec]:
    field = f"invoices[{index}]"
    out: list[SegmentSpec] = [("DOC", [c.INVOICE_DOCUMENT, invoice.number])]
    out += _date(c.DATE_INVOICE, invoice.issued_on)
    if invoice.amount is not None or invoice.currency is not None:
        amount = None if invoice.amount is None else format_decimal(invoice.amount)
        out.append(("MOA", [(c.AMOUNT_INVOICE, amount or "", invoice.currency or "")]))
    out += _flag(c.LIST_ELECTRONIC_INVOICE, invoice.electronic)
    if invoice.supplier is not None:
        out.append(_foreign(c.PARTY_SUPPLIER, invoice.supplier, f"{field}.supplier"))
    if invoice.supplier_fax is not None or invoice.supplier_email is not None:
        out.append(("CTA", [c.CONTACT_INFORMATION]))
        if invoice.supplier_fax is not None:
            out.append(("COM", [(invoice.supplier_fax, c.CHANNEL_FAX)]))
        if invoice.supplier_email is not None:
            out.append(("COM", [(invoice.supplier_email, c.CHANNEL_EMAIL)]))
    return out


def _insurance(insurance: InsuranceDocument) -> list[SegmentSpec]:
    out: list[SegmentSpec] = [
        ("DOC", [_coded(c.INSURANCE_DOCUMENT, c.LIST_DOCUMENTS), insurance.number])
    ]
    out += _date(c.DATE_ISSUE, insurance.issued_on)
    out += _text(c.TEXT_GENERAL, insurance.insurer)
    return out


def _quantity(series: ImportSeries | ExportSeries, field: str) -> list[SegmentSpec]:
    if series.unit is not None and len(series.unit) > _MAX_UNIT:
        raise _limit(
            f"la unidad {series.unit!r} excede los {_MAX_UNIT} caracteres de 6411", f"{field}.unit"
        )
    if series.quantity is None:
        return [] if series.unit is None else [("MEA", [c.MEASURE_CUSTOMS, None, series.unit])]
    text = format_decimal(series.quantity)
    if sum(char.isdigit() for char in text) > _MAX_QUANTITY_DIGITS:
        raise _limit(
            f"la cantidad {text} excede las {_MAX_QUANTITY_DIGITS} cifras de QTY (6060)",
            f"{field}.quantity",
        )
    return [("QTY", [(c.QUANTITY_INVOICED, text, series.unit or "")])]


def _control(document: ControlDocument) -> list[SegmentSpec]:
    out: list[SegmentSpec] = [
        ("DOC", [_coded(document.document_code, c.LIST_DOCUMENTS), document.number]),
        ("GIS", [_coded(document.entity_code, c.LIST_CONTROL_ENTITY)]),
    ]
    out += _date(c.DATE_ISSUE, document.issued_on)
    out += _date(c.DATE_EXPIRY, document.expires_on)
    return out


def _series(series: ImportSeries | ExportSeries, index: int) -> list[SegmentSpec]:
    field = f"series[{index}]"
    out: list[SegmentSpec] = [
        ("CST", [str(series.number), _coded(series.subpartida, c.LIST_SUBPARTIDA)])
    ]
    out += _text(c.TEXT_GOODS, series.description)
    out += _text(c.TEXT_GENERAL, series.observations)
    if series.origin_country is not None:
        out.append(("LOC", [c.LOCATION_ORIGIN, series.origin_country]))
    out.append(_weight(c.WEIGHT_GROSS, series.gross_weight))
    out.append(_weight(c.WEIGHT_NET, series.net_weight))
    out += _quantity(series, field)
    out.append(_packages(series.packages, f"{field}.packages"))
    out.append(_money(c.AMOUNT_ITEM, series.fob))
    if isinstance(series, ImportSeries):
        out.append(_money(c.AMOUNT_FREIGHT, series.freight))
        out.append(_money(c.AMOUNT_INSURANCE, series.insurance))
        out.append(_money(c.AMOUNT_CUSTOMS_VALUE, series.cif))
    if series.state is not None:
        out.append(("GIS", [_coded(series.state.value, c.LIST_GOODS_STATE)]))
    if series.tprod is not None:
        out.append(("GIS", [_coded(series.tprod, c.LIST_TPROD)]))
    if isinstance(series, ImportSeries):
        out += [("GIS", [_coded(code, c.LIST_BOX_7_24)]) for code in series.codes_7_24]
        preceding = series.preceding_declaration
        if preceding is not None:
            out.append(
                ("RFF", [(c.REFERENCE_DECLARATION, preceding.number, str(preceding.series))])
            )
    for document in series.control_documents:
        out += _control(document)
    return out


def control_reference_for(decl: DUA | OE) -> str:
    """A stable interchange reference (0020, an..14) for a declaration: resends reuse it."""
    digest = hashlib.sha256(f"{decl.agent_code}/{decl.agent_reference}".encode()).hexdigest()
    return digest[:14].upper()


def render_cusdec(
    decl: DUA | OE,
    *,
    prepared_at: datetime | None = None,
    control_reference: str | None = None,
) -> bytes:
    """``decl`` as a CUSDEC D.96B interchange from the agent (UNB sender: the agent's code)."""
    body: list[SegmentSpec] = _header(decl)
    body.append(("UNS", ["D"]))
    items: tuple[ImportSeries | ExportSeries, ...] = decl.series
    for index, series in enumerate(items):
        body += _series(series, index)
    body.append(("UNS", ["S"]))
    body.append(("CNT", [(c.COUNT_ITEMS, str(len(decl.series)))]))
    return write_interchange(
        sender=(decl.agent_code, c.PARTNER_QUALIFIER),
        recipient=(f"ADUANA{decl.office}", c.PARTNER_QUALIFIER),
        prepared=prepared_at or DEFAULT_PREPARED,
        control_reference=control_reference or control_reference_for(decl),
        message_type=c.CUSDEC,
        body=body,
    )
