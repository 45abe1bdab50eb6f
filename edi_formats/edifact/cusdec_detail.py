"""CUSDEC detail handlers: customs items (CST groups) and their control documents."""

from __future__ import annotations

from typing import Any, Final

from edi_formats.edifact import codes as c
from edi_formats.edifact.reader import (
    CONTROL_RANK,
    ITEM_RANK,
    Frame,
    Handler,
    Path,
    Reader,
    dollars,
    error,
    frame_target,
    unmapped,
    weight,
)
from edi_formats.edifact.segments import EdiSegment
from edi_formats.edifact.values import date_value, decimal_value, integer_value, text_value

__all__ = ["DETAIL_HANDLERS"]


def _item_cst(reader: Reader, segment: EdiSegment) -> None:
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
        if code_list != c.LIST_SUBPARTIDA or "subpartida" in item:
            raise error(
                "EDI-VALUE",
                f"código {code_list!r} no previsto en el CST de la serie (solo la subpartida, SPN)",
                segment.where(element, 2),
            )
        reader.put(item, "subpartida", value, (*path, "subpartida"), segment.where(element, 1))
    reader.push(Frame(f"la serie {number}", ITEM_RANK, item, kind="item"))


def _item_ftx(reader: Reader, segment: EdiSegment) -> None:
    keys = {
        c.TEXT_GOODS: ("description", "descripción"),
        c.TEXT_GENERAL: ("observations", "observaciones"),
    }
    found = keys.get(segment.get(1))
    if found is None:
        raise unmapped(segment, f"texto de asunto {segment.get(1)!r} en la serie (AAA o AAI)")
    reader.add_text(frame_target(reader), found[0], segment, found[1])


def _item_loc(reader: Reader, segment: EdiSegment) -> None:
    if segment.get(1) != c.LOCATION_ORIGIN:
        raise unmapped(segment, f"calificador de lugar {segment.get(1)!r} en la serie (27)")
    target = frame_target(reader)
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
    target = frame_target(reader)
    if segment.get(1) == c.MEASURE_CUSTOMS:
        reader.once(target, "quantity", segment, "cantidad de la serie (MEA+AAF o QTY)")
        _unit_and_quantity(reader, segment, target, 3, max_digits=18)
        return
    weight(reader, segment, target)


def _unit_and_quantity(
    reader: Reader, segment: EdiSegment, target: dict[str, Any], element: int, *, max_digits: int
) -> None:
    path = reader.path_of(target)
    unit_component, quantity_component = (1, 2) if segment.tag == "MEA" else (3, 2)
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


def _item_qty(reader: Reader, segment: EdiSegment) -> None:
    if segment.get(1, 1) != c.QUANTITY_INVOICED:
        raise unmapped(segment, f"calificador de cantidad {segment.get(1, 1)!r} (47)")
    target = frame_target(reader)
    reader.once(target, "quantity", segment, "cantidad de la serie (MEA+AAF o QTY)")
    _unit_and_quantity(reader, segment, target, 1, max_digits=15)


def _item_pac(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
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
    dollars(reader, segment, frame_target(reader), _ITEM_AMOUNTS)


def _item_gis(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
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
    if segment.get(1, 1) != c.REFERENCE_DECLARATION or not reader.dua:
        raise unmapped(segment, f"referencia {segment.get(1, 1)!r} en la serie")
    target = frame_target(reader)
    reader.once(target, "preceding", segment, "declaración precedente (RFF+AAE)")
    path = (*reader.path_of(target), "preceding_declaration")
    number = text_value(segment, 1, 2, max_length=35, what="declaración precedente")
    series = integer_value(segment, 1, 3, max_digits=6, what="serie precedente")
    target["preceding_declaration"] = {"number": number, "series": series}
    reader.where[path] = segment.where(1)
    reader.where[(*path, "number")] = segment.where(1, 2)
    reader.where[(*path, "series")] = segment.where(1, 3)


def _item_doc(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
    name, code_list = reader.coded(segment, 1)
    if code_list != c.LIST_DOCUMENTS:
        raise unmapped(
            segment, f"documento {name}:{code_list} en la serie (documento de control, TDD)"
        )
    documents: list[Any] = target["control_documents"]
    path = (*reader.path_of(target), "control_documents", len(documents))
    document: dict[str, Any] = {"__path__": list(path)}
    documents.append(document)
    reader.where[path] = segment.where()
    reader.put(document, "document_code", name, (*path, "document_code"), segment.where(1, 1))
    number = text_value(segment, 2, max_length=35, what="número del documento de control")
    reader.put(document, "number", number, (*path, "number"), segment.where(2))
    reader.push(Frame(f"el documento de control {number}", CONTROL_RANK, document, kind="control"))


def _control_gis(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
    value, code_list = reader.coded(segment, 1)
    if code_list != c.LIST_CONTROL_ENTITY:
        raise unmapped(segment, f"indicador de la lista {code_list!r} en el documento de control")
    reader.once(target, "entity", segment, "entidad de control")
    reader.put(
        target, "entity_code", value, (*reader.path_of(target), "entity_code"), segment.where(1)
    )


def _control_dtm(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
    keys = {c.DATE_ISSUE: "issued_on", c.DATE_EXPIRY: "expires_on"}
    qualifier = segment.get(1, 1)
    key = keys.get(qualifier)
    if key is None:
        raise unmapped(segment, f"fecha {qualifier!r} en el documento de control (182 o 36)")
    reader.once(target, key, segment, f"DTM+{qualifier}")
    value = date_value(segment, what=f"fecha (DTM+{qualifier})")
    reader.put(target, key, value, (*reader.path_of(target), key), segment.where(1, 2))


DETAIL_HANDLERS: Final[dict[tuple[str, str], Handler]] = {
    ("detail", "CST"): _item_cst,
    ("item", "FTX"): _item_ftx,
    ("item", "LOC"): _item_loc,
    ("item", "MEA"): _item_mea,
    ("item", "QTY"): _item_qty,
    ("item", "PAC"): _item_pac,
    ("item", "MOA"): _item_moa,
    ("item", "GIS"): _item_gis,
    ("item", "RFF"): _item_rff,
    ("item", "DOC"): _item_doc,
    ("control", "GIS"): _control_gis,
    ("control", "DTM"): _control_dtm,
}
