"""CUSDEC header handlers: BGM to the document groups, as docs/edifact.md maps them."""

from __future__ import annotations

from typing import Any, Final

from edi_formats.edifact import codes as c
from edi_formats.edifact.reader import (
    DOCUMENT_RANK,
    PARTY_RANK,
    Frame,
    Handler,
    Path,
    Reader,
    dollars,
    error,
    flag,
    foreign_party,
    frame_target,
    manifest,
    only,
    party_fields,
    unmapped,
    weight,
)
from edi_formats.edifact.segments import EdiSegment
from edi_formats.edifact.values import date_value, decimal_value, integer_value, text_value

__all__ = ["HEADER_HANDLERS"]


def _bgm(reader: Reader, segment: EdiSegment) -> None:
    reader.once(reader.root, "BGM", segment, "BGM")
    reference = text_value(segment, 2, max_length=35, what="referencia del despachador")
    if reference is not None:
        reader.put(
            reader.root, "agent_reference", reference, ("agent_reference",), segment.where(2)
        )
    function = segment.get(3)
    if function not in ("", c.MESSAGE_ORIGINAL):
        raise error(
            "EDI-VALUE",
            f"función de mensaje {function!r} no admitida: se transmite el original (9); "
            "para corregir, vuelva a transmitir la declaración",
            segment.where(3),
        )


def _header_cst(reader: Reader, segment: EdiSegment) -> None:
    reader.once(reader.root, "CST", segment, "CST de cabecera")
    if segment.get(1):
        raise unmapped(segment, "el CST de cabecera no lleva número de serie (elemento 1)")
    modality: dict[str, Any] = {}
    targets = {
        c.LIST_REGIME: (reader.root, "regime", ("regime",)),
        c.LIST_MODALITY: (modality, "code", ("modality", "code")),
        c.LIST_ARRIVAL_POINT: (modality, "arrival_point", ("modality", "arrival_point")),
        c.LIST_ARRIVAL_OPTION: (modality, "arrival_option", ("modality", "arrival_option")),
        c.LIST_CATEGORY: (modality, "category", ("modality", "category")),
    }
    for element in range(2, len(segment.elements) + 1):
        if not segment.get(element):
            continue
        value, code_list = reader.coded(segment, element, max_length=18)
        target = targets.get(code_list)
        if target is None or (not reader.dua and code_list != c.LIST_REGIME):
            raise error(
                "EDI-VALUE",
                f"lista de códigos {code_list!r} no prevista en el CST de una "
                f"{'DUA' if reader.dua else 'O/E'}",
                segment.where(element, 2),
            )
        obj, key, path = target
        if key in obj:
            raise error(
                "EDI-SEGMENT", f"código {code_list} repetido en CST", segment.where(element)
            )
        reader.put(obj, key, value, path, segment.where(element))
    if modality:
        reader.root["modality"] = modality


def _header_loc(reader: Reader, segment: EdiSegment) -> None:
    qualifier = segment.get(1)
    value = text_value(segment, 2, max_length=25, what="lugar")
    where = segment.where(2)
    if qualifier == c.LOCATION_CLEARANCE:
        reader.once(reader.root, "LOC22", segment, "LOC+22")
        reader.put(reader.root, "office", value, ("office",), where)
    elif qualifier == c.LOCATION_STORAGE and reader.dua:
        reader.once(reader.root, "LOC14", segment, "LOC+14")
        transport = reader.root["transport"]
        reader.put(transport, "warehouse_code", value, ("transport", "warehouse_code"), where)
    elif qualifier == c.LOCATION_DESTINATION and not reader.dua:
        reader.once(reader.root, "LOC28", segment, "LOC+28")
        reader.put(reader.root, "destination_country", value, ("destination_country",), where)
    else:
        raise unmapped(segment, f"calificador de lugar {qualifier!r}")


def _header_dtm(reader: Reader, segment: EdiSegment) -> None:
    qualifier = segment.get(1, 1)
    transport = reader.root["transport"]
    keys = (
        {c.DATE_ARRIVAL_ESTIMATED: "arrival_date", c.DATE_END: "discharge_end_date"}
        if reader.dua
        else {c.DATE_DESPATCH: "shipment_date"}
    )
    if qualifier == c.DATE_DOCUMENT:
        return  # the message's own date: no box of the form holds it
    key = keys.get(qualifier)
    if key is None:
        raise unmapped(segment, f"calificador de fecha {qualifier!r}")
    reader.once(transport, key, segment, f"DTM+{qualifier}")
    value = date_value(segment, what=f"fecha (DTM+{qualifier})")
    reader.put(transport, key, value, ("transport", key), segment.where(1, 2))


def _header_gis(reader: Reader, segment: EdiSegment) -> None:
    value, code_list = reader.coded(segment, 1)
    if code_list == c.LIST_ANTICIPADO_EXCEPTION and reader.dua:
        reader.once(reader.root, "exception", segment, "GIS de excepción al anticipado")
        path: Path = ("anticipado_exception",)
        reader.put(reader.root, "anticipado_exception", value, path, segment.where(1))
        return
    if code_list != c.LIST_SWORN_STATEMENT:
        raise unmapped(segment, f"indicador de la lista {code_list!r}")
    reader.once(reader.root, "sworn", segment, "GIS de declaración jurada")
    reader.put(
        reader.root,
        "sworn_statement",
        flag(segment, value),
        ("sworn_statement",),
        segment.where(1),
    )


def _header_fii(reader: Reader, segment: EdiSegment) -> None:
    if not reader.dua or segment.get(1) != c.PARTY_GUARANTEE:
        raise unmapped(segment, "solo la DUA lleva FII, con calificador ZZZ (cuenta de garantía)")
    reader.once(reader.root, "FII", segment, "FII")
    account = text_value(segment, 2, max_length=35, what="cuenta de garantía")
    reader.put(reader.root, "guarantee_account", account, ("guarantee_account",), segment.where(2))


def _header_mea(reader: Reader, segment: EdiSegment) -> None:
    weight(reader, segment, reader.root["totals"])


def _header_eqd(reader: Reader, segment: EdiSegment) -> None:
    if segment.get(1) != c.EQUIPMENT_CONTAINER:
        raise unmapped(segment, f"equipo {segment.get(1)!r} (solo contenedores, CN)")
    containers: list[Any] = reader.root["transport"]["containers"]
    number = text_value(segment, 2, max_length=17, what="número de contenedor")
    reader.where[("transport", "containers", len(containers))] = segment.where(2)
    containers.append(number)


def _header_ftx(reader: Reader, segment: EdiSegment) -> None:
    if segment.get(1) != c.TEXT_GENERAL:
        raise unmapped(segment, f"texto de asunto {segment.get(1)!r} (la cabecera usa AAI)")
    key = "observations_7_38" if reader.dua else "observations"
    reader.add_text(reader.root, key, segment, "observaciones")


def _header_pac(reader: Reader, segment: EdiSegment) -> None:
    totals = reader.root["totals"]
    reader.once(totals, "packages", segment, "PAC de bultos totales")
    value = integer_value(segment, 1, max_digits=8, what="bultos")
    reader.put(totals, "packages", value, ("totals", "packages"), segment.where(1))


def _header_tdt(reader: Reader, segment: EdiSegment) -> None:
    if segment.get(1) != c.TRANSPORT_MAIN_CARRIAGE:
        raise unmapped(segment, f"etapa de transporte {segment.get(1)!r} (se declara la 20)")
    transport = reader.root["transport"]
    reader.once(transport, "mode", segment, "TDT+20")
    code = segment.get(3, 1)
    mode = c.TRANSPORT_MODE_BY_CODE.get(code)
    if mode is None:
        raise error(
            "EDI-VALUE",
            f"modo de transporte {code!r} (Rec. 19) sin vía de transporte de SUNAT",
            segment.where(3, 1),
        )
    reader.put(transport, "mode", mode.value, ("transport", "mode"), segment.where(3))


def _header_nad(reader: Reader, segment: EdiSegment) -> None:
    qualifier = segment.get(1)
    root = reader.root
    reader.push(Frame(f"el grupo NAD+{qualifier}", PARTY_RANK, root, kind="party"))
    if qualifier == c.PARTY_AGENT:
        only(segment, {1, 2})
        reader.once(root, "AE", segment, "NAD+AE")
        code = text_value(segment, 2, max_length=35, what="código del despachador")
        reader.put(root, "agent_code", code, ("agent_code",), segment.where(2))
        return
    if qualifier == (c.PARTY_IMPORTER if reader.dua else c.PARTY_EXPORTER):
        key = "importer" if reader.dua else "exporter"
        only(segment, {1, 2, 4, 5})
        reader.once(root, key, segment, f"NAD+{qualifier}")
        party: dict[str, Any] = {"__path__": [key]}
        root[key] = party
        reader.where[(key,)] = segment.where()
        number, doc_type = segment.get(2, 1), segment.get(2, 2)
        if segment.get(2, 3) not in ("", c.MUTUALLY_DEFINED):
            raise error(
                "EDI-VALUE", "el tipo de documento va con la agencia ZZZ", segment.where(2, 3)
            )
        if number:
            text_value(segment, 2, 1, max_length=35, what="número de documento")
            reader.put(party, "doc_number", number, (key, "doc_number"), segment.where(2, 1))
        if doc_type:
            reader.put(party, "doc_type", doc_type, (key, "doc_type"), segment.where(2, 2))
        party_fields(reader, segment, party)
        return
    if qualifier == c.PARTY_CONSIGNEE and not reader.dua:
        reader.once(root, "consignee", segment, "NAD+CN")
        consignee: dict[str, Any] = {"__path__": ["consignee"]}
        root["consignee"] = consignee
        reader.where[("consignee",)] = segment.where()
        foreign_party(reader, segment, consignee)
        return
    raise unmapped(segment, f"parte {qualifier!r} en una {'DUA' if reader.dua else 'O/E'}")


_TOTALS: Final = {
    c.AMOUNT_INVOICE: "fob",
    c.AMOUNT_FREIGHT: "freight",
    c.AMOUNT_INSURANCE: "insurance",
    c.AMOUNT_CUSTOMS_VALUE: "cif",
}


def _header_moa(reader: Reader, segment: EdiSegment) -> None:
    dollars(reader, segment, reader.root["totals"], _TOTALS)


def _header_doc(reader: Reader, segment: EdiSegment) -> None:
    name, code_list = segment.get(1, 1), segment.get(1, 2)
    number = text_value(segment, 2, max_length=35, what="número del documento")
    where = segment.where(2)
    root = reader.root
    if name == c.MANIFEST_DOCUMENT and reader.dua and not code_list:
        reader.once(root, "manifest", segment, "DOC+785")
        root["transport"]["manifest"] = manifest(reader, segment, ("transport", "manifest"))
        reader.push(Frame("el manifiesto", {}, root, kind="manifest"))
        return
    if name in c.TRANSPORT_DOCUMENTS and not code_list:
        documents: list[Any] = root["transport"]["documents"]
        path: Path = ("transport", "documents", len(documents))
        doc: dict[str, Any] = {"__path__": list(path)}
        documents.append(doc)
        reader.put(doc, "number", number, (*path, "number"), where)
        reader.where[path] = segment.where()
        reader.push(
            Frame(f"el documento de transporte {number}", DOCUMENT_RANK, doc, kind="transport")
        )
        return
    if name == c.INVOICE_DOCUMENT and not code_list:
        invoices: list[Any] = root["invoices"]
        path = ("invoices", len(invoices))
        invoice: dict[str, Any] = {"__path__": list(path)}
        invoices.append(invoice)
        reader.put(invoice, "number", number, (*path, "number"), where)
        reader.where[path] = segment.where()
        reader.push(Frame(f"la factura {number}", DOCUMENT_RANK, invoice, kind="invoice"))
        return
    if name == c.INSURANCE_DOCUMENT and code_list == c.LIST_DOCUMENTS and reader.dua:
        reader.once(root, "insurance", segment, "documento de seguro")
        insurance: dict[str, Any] = {"__path__": ["insurance"]}
        root["insurance"] = insurance
        reader.put(insurance, "number", number, ("insurance", "number"), where)
        reader.where[("insurance",)] = segment.where()
        reader.push(Frame("el seguro", DOCUMENT_RANK, insurance, kind="insurance"))
        return
    shown = f"{name}:{code_list}" if code_list else name
    raise unmapped(segment, f"documento {shown!r}")


# -- document group children ----------------------------------------------------------------------


def _document_gis(reader: Reader, segment: EdiSegment) -> None:
    kind = reader.frames[-1].kind
    target = frame_target(reader)
    value, code_list = reader.coded(segment, 1)
    path = reader.path_of(target)
    if kind == "transport" and code_list == c.LIST_TRANSPORT_DOC_TYPE:
        reader.once(target, "doc_type", segment, "tipo de documento de transporte")
        reader.put(target, "doc_type", value, (*path, "doc_type"), segment.where(1))
    elif kind == "invoice" and code_list == c.LIST_ELECTRONIC_INVOICE:
        reader.once(target, "electronic", segment, "indicador de factura electrónica")
        reader.put(
            target, "electronic", flag(segment, value), (*path, "electronic"), segment.where(1)
        )
    else:
        raise unmapped(segment, f"indicador de la lista {code_list!r} en {reader.frames[-1].name}")


def _document_dtm(reader: Reader, segment: EdiSegment) -> None:
    kind = reader.frames[-1].kind
    qualifier = segment.get(1, 1)
    expected = {"invoice": c.DATE_INVOICE, "insurance": c.DATE_ISSUE}.get(kind)
    if qualifier != expected:
        raise unmapped(segment, f"fecha {qualifier!r} en {reader.frames[-1].name}")
    target = frame_target(reader)
    reader.once(target, "issued_on", segment, f"DTM+{qualifier}")
    value = date_value(segment, what=f"fecha (DTM+{qualifier})")
    reader.put(
        target, "issued_on", value, (*reader.path_of(target), "issued_on"), segment.where(1, 2)
    )


def _document_moa(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
    if reader.frames[-1].kind != "invoice" or segment.get(1, 1) != c.AMOUNT_INVOICE:
        raise unmapped(segment, f"importe {segment.get(1, 1)!r} en {reader.frames[-1].name}")
    reader.once(target, "amount", segment, "MOA+39 de la factura")
    path = reader.path_of(target)
    amount = decimal_value(segment, 1, 2, max_digits=18, what="importe de la factura")
    if amount is not None:
        reader.put(target, "amount", amount, (*path, "amount"), segment.where(1, 2))
    currency = text_value(segment, 1, 3, max_length=3, what="moneda")
    if currency is not None:
        reader.put(target, "currency", currency, (*path, "currency"), segment.where(1, 3))


def _document_rff(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
    qualifier = segment.get(1, 1)
    path = reader.path_of(target)
    if reader.frames[-1].kind != "transport" or qualifier not in (
        c.REFERENCE_MASTER,
        c.REFERENCE_MANIFEST,
    ):
        raise unmapped(segment, f"referencia {qualifier!r} en {reader.frames[-1].name}")
    reader.once(target, f"RFF{qualifier}", segment, f"RFF+{qualifier}")
    if qualifier == c.REFERENCE_MASTER:
        value = text_value(segment, 1, 2, max_length=35, what="documento máster")
        reader.put(target, "master_number", value, (*path, "master_number"), segment.where(1, 2))
    else:
        target["manifest"] = manifest(reader, segment, (*path, "manifest"))


def _document_nad(reader: Reader, segment: EdiSegment) -> None:
    kind = reader.frames[-1].kind
    target = frame_target(reader)
    qualifier = segment.get(1)
    path = reader.path_of(target)
    if kind == "transport" and qualifier == c.PARTY_CONSIGNEE:
        only(segment, {1, 2})
        reader.once(target, "consignee", segment, "NAD+CN del documento de transporte")
        value = text_value(segment, 2, 1, max_length=35, what="documento del consignatario")
        reader.put(
            target, "consignee_doc_number", value, (*path, "consignee_doc_number"), segment.where(2)
        )
    elif kind == "invoice" and qualifier == c.PARTY_SUPPLIER:
        reader.once(target, "supplier", segment, "NAD+SU")
        supplier: dict[str, Any] = {"__path__": [*path, "supplier"]}
        target["supplier"] = supplier
        reader.where[(*path, "supplier")] = segment.where()
        foreign_party(reader, segment, supplier)
    else:
        raise unmapped(segment, f"parte {qualifier!r} en {reader.frames[-1].name}")


def _document_cta(reader: Reader, segment: EdiSegment) -> None:
    if reader.frames[-1].kind != "invoice":
        raise unmapped(segment, f"contacto en {reader.frames[-1].name}")


def _document_com(reader: Reader, segment: EdiSegment) -> None:
    target = frame_target(reader)
    channel = segment.get(1, 2)
    keys = {c.CHANNEL_FAX: "supplier_fax", c.CHANNEL_EMAIL: "supplier_email"}
    key = keys.get(channel)
    if reader.frames[-1].kind != "invoice" or key is None:
        raise unmapped(segment, f"comunicación {channel!r} en {reader.frames[-1].name}")
    reader.once(target, key, segment, f"COM {channel}")
    value = text_value(segment, 1, 1, max_length=512, what="número o dirección")
    reader.put(target, key, value, (*reader.path_of(target), key), segment.where(1, 1))


def _document_ftx(reader: Reader, segment: EdiSegment) -> None:
    if reader.frames[-1].kind != "insurance" or segment.get(1) != c.TEXT_GENERAL:
        raise unmapped(segment, f"texto {segment.get(1)!r} en {reader.frames[-1].name}")
    reader.add_text(frame_target(reader), "insurer", segment, "aseguradora")


def _ignore(reader: Reader, segment: EdiSegment) -> None:
    """A child this guide tolerates without using (contacts of a party)."""


HEADER_HANDLERS: Final[dict[tuple[str, str], Handler]] = {
    ("header", "BGM"): _bgm,
    ("header", "CST"): _header_cst,
    ("header", "LOC"): _header_loc,
    ("header", "DTM"): _header_dtm,
    ("header", "GIS"): _header_gis,
    ("header", "FII"): _header_fii,
    ("header", "MEA"): _header_mea,
    ("header", "EQD"): _header_eqd,
    ("header", "FTX"): _header_ftx,
    ("header", "PAC"): _header_pac,
    ("header", "TDT"): _header_tdt,
    ("header", "NAD"): _header_nad,
    ("header", "MOA"): _header_moa,
    ("header", "DOC"): _header_doc,
    ("party", "CTA"): _ignore,
    ("party", "COM"): _ignore,
    **{(kind, "GIS"): _document_gis for kind in ("transport", "invoice", "insurance")},
    **{(kind, "DTM"): _document_dtm for kind in ("transport", "invoice", "insurance")},
    **{(kind, "MOA"): _document_moa for kind in ("transport", "invoice", "insurance")},
    **{(kind, "RFF"): _document_rff for kind in ("transport", "invoice", "insurance")},
    **{(kind, "NAD"): _document_nad for kind in ("transport", "invoice", "insurance")},
    **{(kind, "CTA"): _document_cta for kind in ("transport", "invoice", "insurance")},
    **{(kind, "COM"): _document_com for kind in ("transport", "invoice", "insurance")},
    **{(kind, "FTX"): _document_ftx for kind in ("transport", "invoice", "insurance")},
}
