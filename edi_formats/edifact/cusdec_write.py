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
from edi_formats.edifact.directory import CUSDEC_TABLE
from edi_formats.edifact.segments import Element
from edi_formats.edifact.structure import check_structure
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
    return tuple(split_text(text, NAME_LINE, count))


def _text(subject: str, text: str | None, reference: Element | None = None) -> list[SegmentSpec]:
    """FTX segments holding ``text`` in 70-character pieces, five per segment."""
    if text is None:
        return []
    pieces = split_text(text, FTX_PART)
    return [
        ("FTX", [subject, None, reference, tuple(pieces[start : start + FTX_PARTS])])
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
    """BGM to the heading's last MOA group, in the order of the D.96B segment table."""
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
    if isinstance(decl, DUA) and decl.insurance is not None and decl.insurance.insurer:
        out += _text(c.TEXT_GENERAL, decl.insurance.insurer, _INSURANCE_REFERENCE)
    # segment group 1: the agent's reference, holding the total packages (group 2)
    out.append(("RFF", [(c.REFERENCE_OWN, decl.agent_reference)]))
    out.append(_packages(decl.totals.packages, "totals.packages"))
    # segment group 4
    out.append(
        ("TDT", [c.TRANSPORT_MAIN_CARRIAGE, None, c.TRANSPORT_MODE_CODE[decl.transport.mode]])
    )
    # segment group 5: documents (DOC, DTM, LOC)
    if isinstance(decl, DUA) and decl.transport.manifest is not None:
        out.append(("DOC", [c.MANIFEST_DOCUMENT, _manifest(decl.transport.manifest)]))
    for document in decl.transport.documents:
        out += _transport_document(document, decl.transport.mode)
    if isinstance(decl, DUA) and decl.insurance is not None:
        out.append(("DOC", [_coded(c.INSURANCE_DOCUMENT, c.LIST_DOCUMENTS), decl.insurance.number]))
        out += _date(c.DATE_ISSUE, decl.insurance.issued_on)
    # segment group 6: parties (NAD, RFF, CTA, COM)
    if isinstance(decl, DUA):
        out.append(_party(c.PARTY_IMPORTER, decl.importer, "importer"))
    else:
        out.append(_party(c.PARTY_EXPORTER, decl.exporter, "exporter"))
        out.append(_foreign(c.PARTY_CONSIGNEE, decl.consignee, "consignee"))
    out.append(("NAD", [c.PARTY_AGENT, decl.agent_code]))
    for line, document in enumerate(decl.transport.documents, start=1):
        if document.consignee_doc_number is not None:
            reference = (_reference_for(decl.transport.mode), document.number, str(line))
            out.append(("NAD", [c.PARTY_CONSIGNEE, document.consignee_doc_number]))
            out.append(("RFF", [reference]))
    for line, invoice in enumerate(decl.invoices, start=1):
        out += _supplier_contact(invoice, line)
    # segment group 8: amounts
    out.append(_money(c.AMOUNT_INVOICE, decl.totals.fob))
    if isinstance(decl, DUA):
        out.append(_money(c.AMOUNT_FREIGHT, decl.totals.freight))
        out.append(_money(c.AMOUNT_INSURANCE, decl.totals.insurance))
        out.append(_money(c.AMOUNT_CUSTOMS_VALUE, decl.totals.cif))
    return out


_INSURANCE_REFERENCE: Final = _coded(c.INSURANCE_DOCUMENT, c.LIST_DOCUMENTS)
"""C107 of the heading FTX that names the insurer: the text is about the insurance document."""


def _reference_for(mode: TransportMode) -> str:
    """1153 for a transport document number: air waybill or bill of lading."""
    return c.REFERENCE_AIR_WAYBILL if mode is TransportMode.AIR else c.REFERENCE_BILL_OF_LADING


def _transport_document(doc: TransportDocument, mode: TransportMode) -> list[SegmentSpec]:
    """A transport document's DOC group, then its master's and its manifest's (in that order)."""
    name: Element = c.TRANSPORT_DOCUMENT[mode]
    if doc.doc_type is not None:
        name = (c.TRANSPORT_DOCUMENT[mode], "", "", c.TRANSPORT_DOC_NAME[doc.doc_type.value])
    out: list[SegmentSpec] = [("DOC", [name, doc.number])]
    if doc.master_number is not None:
        out.append(("DOC", [c.MASTER_DOCUMENT[mode], doc.master_number]))
    if doc.manifest is not None:
        out.append(("DOC", [c.MANIFEST_DOCUMENT, _manifest(doc.manifest)]))
    return out


def _supplier_contact(invoice: Invoice, line: int) -> list[SegmentSpec]:
    """The supplier's fax and e-mail: a heading NAD+SU group naming its invoice in RFF+IV
    (number, and in 1156 the invoice's place among the DMS groups)."""
    if invoice.supplier_fax is None and invoice.supplier_email is None:
        return []
    out: list[SegmentSpec] = [
        ("NAD", [c.PARTY_SUPPLIER]),
        ("RFF", [(c.REFERENCE_INVOICE, invoice.number, str(line))]),
        ("CTA", [c.CONTACT_INFORMATION]),
    ]
    if invoice.supplier_fax is not None:
        out.append(("COM", [(invoice.supplier_fax, c.CHANNEL_FAX)]))
    if invoice.supplier_email is not None:
        out.append(("COM", [(invoice.supplier_email, c.CHANNEL_EMAIL)]))
    return out


def _invoice(invoice: Invoice, index: int) -> list[SegmentSpec]:
    """An invoice as a DMS group of the detail section: date, amount, supplier."""
    field = f"invoices[{index}]"
    name: Element = c.INVOICE_DOCUMENT
    if invoice.electronic:
        name = (c.INVOICE_DOCUMENT, "", "", c.ELECTRONIC_INVOICE_NAME)
    out: list[SegmentSpec] = [("DMS", [invoice.number, name])]
    out += _date(c.DATE_INVOICE, invoice.issued_on)
    if invoice.amount is not None or invoice.currency is not None:
        amount = None if invoice.amount is None else format_decimal(invoice.amount)
        out.append(("MOA", [(c.AMOUNT_INVOICE, amount or "", invoice.currency or "")]))
    if invoice.supplier is not None:
        out.append(_foreign(c.PARTY_SUPPLIER, invoice.supplier, f"{field}.supplier"))
    return out


def _quantity(series: ImportSeries | ExportSeries, field: str) -> list[SegmentSpec]:
    """The customs quantity: MEA+AAF with the unit in 6411 and the value in 6314."""
    if series.unit is not None and len(series.unit) > _MAX_UNIT:
        raise _limit(
            f"la unidad {series.unit!r} excede los {_MAX_UNIT} caracteres de 6411", f"{field}.unit"
        )
    if series.quantity is None:
        return [] if series.unit is None else [("MEA", [c.MEASURE_CUSTOMS, None, series.unit])]
    text = format_decimal(series.quantity)
    if sum(char.isdigit() for char in text) > _MAX_QUANTITY_DIGITS:
        raise _limit(
            f"la cantidad {text} excede las {_MAX_QUANTITY_DIGITS} cifras de MEA (6314)",
            f"{field}.quantity",
        )
    return [("MEA", [c.MEASURE_CUSTOMS, None, (series.unit or "", text)])]


def _control(document: ControlDocument) -> list[SegmentSpec]:
    """A control document: DOC with the entity that issued it in 1366 (document source)."""
    out: list[SegmentSpec] = [
        (
            "DOC",
            [
                _coded(document.document_code, c.LIST_DOCUMENTS),
                (document.number, "", document.entity_code),
            ],
        ),
    ]
    out += _date(c.DATE_ISSUE, document.issued_on)
    out += _date(c.DATE_EXPIRY, document.expires_on)
    return out


def _series(series: ImportSeries | ExportSeries, index: int) -> list[SegmentSpec]:
    """A customs item (segment group 30) in the order of the D.96B segment table."""
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
    out.append(_packages(series.packages, f"{field}.packages"))  # group 31
    out.append(_money(c.AMOUNT_ITEM, series.fob))  # group 33
    if isinstance(series, ImportSeries):
        out.append(_money(c.AMOUNT_FREIGHT, series.freight))
        out.append(_money(c.AMOUNT_INSURANCE, series.insurance))
        out.append(_money(c.AMOUNT_CUSTOMS_VALUE, series.cif))
        preceding = series.preceding_declaration
        if preceding is not None:  # group 35
            out.append(
                ("RFF", [(c.REFERENCE_DECLARATION, preceding.number, str(preceding.series))])
            )
    for document in series.control_documents:  # group 37
        out += _control(document)
    if series.state is not None:  # group 40
        out.append(("GIS", [_coded(series.state.value, c.LIST_GOODS_STATE)]))
    if series.tprod is not None:
        out.append(("GIS", [_coded(series.tprod, c.LIST_TPROD)]))
    if isinstance(series, ImportSeries):
        out += [("GIS", [_coded(code, c.LIST_BOX_7_24)]) for code in series.codes_7_24]
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
    for index, invoice in enumerate(decl.invoices):
        body += _invoice(invoice, index)
    items: tuple[ImportSeries | ExportSeries, ...] = decl.series
    for index, series in enumerate(items):
        body += _series(series, index)
    body.append(("UNS", ["S"]))
    body.append(("CNT", [(c.COUNT_ITEMS, str(len(decl.series)))]))
    tags = [(tag, number) for number, (tag, _) in enumerate(body, start=2)]
    problems = check_structure(tags, CUSDEC_TABLE)[1]
    if problems:  # more groups than D.96B allows (documents, parties, control documents...)
        raise _limit(
            f"D.96B no admite esta declaración: {problems[0].message}", "declaración completa"
        )
    return write_interchange(
        sender=(decl.agent_code, c.PARTNER_QUALIFIER),
        recipient=(f"ADUANA{decl.office}", c.PARTNER_QUALIFIER),
        prepared=prepared_at or DEFAULT_PREPARED,
        control_reference=control_reference or control_reference_for(decl),
        message_type=c.CUSDEC,
        body=body,
    )
