"""CUSDEC detail handlers: invoices (DMS groups), customs items (CST groups) and their documents."""

from __future__ import annotations

from typing import Any, Final

from edi_formats.edifact import codes as c
from edi_formats.edifact.reader import (
    Handler,
    Path,
    Reader,
    dollars,
    error,
    foreign_party,
    unmapped,
    weight,
)
from edi_formats.edifact.segments import EdiSegment
from edi_formats.edifact.values import date_value, decimal_value, integer_value, text_value

__all__ = ["DETAIL_HANDLERS"]


def _dms(reader: Reader, segment: EdiSegment) -> None:
    """Segment group 10: an invoice (document/message summary, 1001 = 380)."""
    if segment.get(2, 1) != c.INVOICE_DOCUMENT:
        reader.invoice = None
        return  # other summaries are not boxes of the form
    invoices: list[Any] = reader.root["invoices"]
    path: Path = ("invoices", len(invoices))
    invoice: dict[str, Any] = {"__path__": list(path)}
    invoices.append(invoice)
    reader.where[path] = segment.where()
    number = text_value(segment, 1, max_length=35, what="número de la factura")
    reader.put(invoice, "number", number, (*path, "number"), segment.where(1))
    name = segment.get(2, 4)
    if name and name != c.ELECTRONIC_INVOICE_NAME:
        raise error(
            "EDI-VALUE",
            f"nombre de documento {name!r}: una factura electrónica se nombra "
            f"{c.ELECTRONIC_INVOICE_NAME}",
            segment.where(2, 4),
        )
    reader.put(invoice, "electronic", bool(name), (*path, "electronic"), segment.where(2))
    reader.invoice = invoice


def _invoice_dtm(reader: Reader, segment: EdiSegment) -> None:
    target = reader.invoice
    if target is None or segment.get(1, 1) != c.DATE_INVOICE:
        return
    reader.once(target, "issued_on", segment, f"DTM+{c.DATE_INVOICE}")
    value = date_value(segment, what=f"fecha (DTM+{c.DATE_INVOICE})")
    reader.put(
        target, "issued_on", value, (*reader.path_of(target), "issued_on"), segment.where(1, 2)
    )


def _invoice_moa(reader: Reader, segment: EdiSegment) -> None:
    target = reader.invoice
    if target is None or segment.get(1, 1) != c.AMOUNT_INVOICE:
        return
    reader.once(target, "amount", segment, "MOA+39 de la factura")
    path = reader.path_of(target)
    amount = decimal_value(segment, 1, 2, max_digits=18, what="importe de la factura")
    if amount is not None:
        reader.put(target, "amount", amount, (*path, "amount"), segment.where(1, 2))
    currency = text_value(segment, 1, 3, max_length=3, what="moneda")
    if currency is not None:
        reader.put(target, "currency", currency, (*path, "currency"), segment.where(1, 3))


def _invoice_nad(reader: Reader, segment: EdiSegment) -> None:
    target = reader.invoice
    if target is None or segment.get(1) != c.PARTY_SUPPLIER:
        return
    reader.once(target, "supplier", segment, "NAD+SU")
    path = reader.path_of(target)
    supplier: dict[str, Any] = {"__path__": [*path, "supplier"]}
    target["supplier"] = supplier
    reader.where[(*path, "supplier")] = segment.where()
    foreign_party(reader, segment, supplier)


def apply_contacts(reader: Reader) -> None:
    """The suppliers' fax and e-mail of the heading, onto the invoices their RFF+IV names."""
    for number, segment, contact in reader.contacts:
        invoice = next(
            (
                found
                for place, found in enumerate(reader.root["invoices"], start=1)
                if found.get("number") == number and contact["line"] in ("", str(place))
            ),
            None,
        )
        if invoice is None:
            raise error(
                "EDI-VALUE",
                f"el contacto del proveedor se refiere a la factura {number!r}, que no está "
                "declarada en un DMS",
                segment.where(1, 2),
            )
        for key, (value, where) in contact["channels"].items():
            reader.once(invoice, key, segment, f"contacto del proveedor de la factura {number}")
            reader.put(invoice, key, value, (*reader.path_of(invoice), key), where)


def _item_cst(reader: Reader, segment: EdiSegment) -> None:
    reader.invoice = None
    series: list[Any] = reader.root["series"]
    path: Path = ("series", len(series))
    item: dict[str, Any] = {"__path__": list(path), "control_documents": []}
    if reader.dua:
        item["codes_7_24"] = []
    series.append(item)
    reader.where[path] = segment.where()
    number = integer_value(segment, 1, max_digits=5, what="número de serie")
    if number is not None:
        reader.put(item, "number", number, (*path, "number"), segment.where(1))
    for element in range(2, len(segment.elements) + 1):
        if not segment.get(element):
            continue
        value, code_list = reader.coded(segment, element, max_length=18)
        if code_list not in (c.LIST_SUBPARTIDA, c.LIST_SUBPARTIDA_OLD) or "subpartida" in item:
            raise error(
                "EDI-VALUE",
                f"código {code_list!r} no previsto en el CST de la serie (la subpartida, "
                f"lista {c.LIST_SUBPARTIDA})",
                segment.where(element, 2),
            )
        reader.put(item, "subpartida", value, (*path, "subpartida"), segment.where(element, 1))
    reader.item = item
    reader.control = None


def _item_ftx(reader: Reader, segment: EdiSegment) -> None:
    keys = {
        c.TEXT_GOODS: ("description", "descripción"),
        c.TEXT_GENERAL: ("observations", "observaciones"),
    }
    found = keys.get(segment.get(1))
    if found is None or reader.item is None:
        return  # other subjects: not a box of the form
    reader.add_text(reader.item, found[0], segment, found[1])


def _item_loc(reader: Reader, segment: EdiSegment) -> None:
    target = reader.item
    if segment.get(1) != c.LOCATION_ORIGIN or target is None:
        return  # other places of an item: not a box of the form
    reader.once(target, "origin", segment, "LOC+27")
    value = text_value(segment, 2, max_length=25, what="país de origen")
    reader.put(
        target,
        "origin_country",
        value,
        (*reader.path_of(target), "origin_country"),
        segment.where(2),
    )


def _item_mea(reader: Reader, segment: EdiSegment) -> None:
    target = reader.item
    if target is None:
        return
    if segment.get(1) == c.MEASURE_CUSTOMS:
        reader.once(target, "quantity", segment, "cantidad de la serie (MEA+AAF)")
        _unit_and_quantity(reader, segment, target, 3, max_digits=18)
        return
    weight(reader, segment, target)


def _unit_and_quantity(
    reader: Reader, segment: EdiSegment, target: dict[str, Any], element: int, *, max_digits: int
) -> None:
    path = reader.path_of(target)
    unit_component, quantity_component = 1, 2
    unit = text_value(segment, element, unit_component, max_length=3, what="unidad de medida")
    if unit is not None:
        reader.put(target, "unit", unit, (*path, "unit"), segment.where(element, unit_component))
    quantity = decimal_value(
        segment, element, quantity_component, max_digits=max_digits, what="cantidad"
    )
    if quantity is not None:
        reader.put(
            target,
            "quantity",
            quantity,
            (*path, "quantity"),
            segment.where(element, quantity_component),
        )


def _item_pac(reader: Reader, segment: EdiSegment) -> None:
    target = reader.item
    if target is None:
        return
    reader.once(target, "packages", segment, "PAC de la serie")
    value = integer_value(segment, 1, max_digits=8, what="bultos")
    reader.put(target, "packages", value, (*reader.path_of(target), "packages"), segment.where(1))


_ITEM_AMOUNTS: Final = {
    c.AMOUNT_ITEM: "fob",
    c.AMOUNT_FREIGHT: "freight",
    c.AMOUNT_INSURANCE: "insurance",
    c.AMOUNT_CUSTOMS_VALUE: "cif",
}


def _item_moa(reader: Reader, segment: EdiSegment) -> None:
    if reader.item is not None:
        dollars(reader, segment, reader.item, _ITEM_AMOUNTS)


def _item_gis(reader: Reader, segment: EdiSegment) -> None:
    target = reader.item
    if target is None:
        return
    value, code_list = reader.coded(segment, 1)
    path = reader.path_of(target)
    if code_list == c.LIST_GOODS_STATE:
        reader.once(target, "state", segment, "estado de la mercancía")
        reader.put(target, "state", value, (*path, "state"), segment.where(1))
    elif code_list == c.LIST_TPROD:
        reader.once(target, "tprod", segment, "código TPROD")
        reader.put(target, "tprod", value, (*path, "tprod"), segment.where(1))
    elif code_list == c.LIST_BOX_7_24 and reader.dua:
        codes: list[Any] = target["codes_7_24"]
        reader.where[(*path, "codes_7_24", len(codes))] = segment.where(1)
        codes.append(value)
    else:
        raise unmapped(segment, f"indicador de la lista {code_list!r} en la serie")


def _item_rff(reader: Reader, segment: EdiSegment) -> None:
    target = reader.item
    if segment.get(1, 1) != c.REFERENCE_DECLARATION or not reader.dua or target is None:
        return  # other references of an item: not a box of the form
    reader.once(target, "preceding", segment, "declaración precedente (RFF+AAE)")
    path = (*reader.path_of(target), "preceding_declaration")
    number = text_value(segment, 1, 2, max_length=35, what="declaración precedente")
    series = integer_value(segment, 1, 3, max_digits=6, what="serie precedente")
    target["preceding_declaration"] = {"number": number, "series": series}
    reader.where[path] = segment.where(1)
    reader.where[(*path, "number")] = segment.where(1, 2)
    reader.where[(*path, "series")] = segment.where(1, 3)


def _item_doc(reader: Reader, segment: EdiSegment) -> None:
    """Segment group 37: a control document, its issuing entity in 1366 (document source)."""
    target = reader.item
    reader.control = None
    if target is None or segment.get(1, 2) != c.LIST_DOCUMENTS:
        return  # documents with UN codes (invoices, certificates...) are not control documents
    name, _ = reader.coded(segment, 1)
    documents: list[Any] = target["control_documents"]
    path = (*reader.path_of(target), "control_documents", len(documents))
    document: dict[str, Any] = {"__path__": list(path)}
    documents.append(document)
    reader.where[path] = segment.where()
    reader.put(document, "document_code", name, (*path, "document_code"), segment.where(1, 1))
    number = text_value(segment, 2, 1, max_length=35, what="número del documento de control")
    reader.put(document, "number", number, (*path, "number"), segment.where(2, 1))
    entity = text_value(segment, 2, 3, max_length=35, what="entidad de control")
    reader.put(document, "entity_code", entity, (*path, "entity_code"), segment.where(2, 3))
    reader.control = document


def _control_dtm(reader: Reader, segment: EdiSegment) -> None:
    target = reader.control
    keys = {c.DATE_ISSUE: "issued_on", c.DATE_EXPIRY: "expires_on"}
    qualifier = segment.get(1, 1)
    key = keys.get(qualifier)
    if key is None or target is None:
        return
    reader.once(target, key, segment, f"DTM+{qualifier}")
    value = date_value(segment, what=f"fecha (DTM+{qualifier})")
    reader.put(target, key, value, (*reader.path_of(target), key), segment.where(1, 2))


DETAIL_HANDLERS: Final[dict[tuple[int, str], Handler]] = {
    (10, "DMS"): _dms,
    (10, "DTM"): _invoice_dtm,
    (11, "MOA"): _invoice_moa,
    (14, "NAD"): _invoice_nad,
    (30, "CST"): _item_cst,
    (30, "FTX"): _item_ftx,
    (30, "LOC"): _item_loc,
    (30, "MEA"): _item_mea,
    (31, "PAC"): _item_pac,
    (33, "MOA"): _item_moa,
    (35, "RFF"): _item_rff,
    (37, "DOC"): _item_doc,
    (37, "DTM"): _control_dtm,
    (40, "GIS"): _item_gis,
}
