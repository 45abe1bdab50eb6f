"""CUSDEC heading handlers: BGM to the MOA groups (segment groups 1 to 8 of D.96B)."""

from __future__ import annotations

from typing import Any, Final

from edi_formats.edifact import codes as c
from edi_formats.edifact.reader import (
    Handler,
    Path,
    Reader,
    dollars,
    error,
    flag,
    foreign_party,
    manifest,
    party_fields,
    unmapped,
    weight,
)
from edi_formats.edifact.segments import EdiSegment
from edi_formats.edifact.values import date_value, integer_value, text_value

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
        c.LIST_REGIME_OLD: (reader.root, "regime", ("regime",)),
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
        if target is None or (not reader.dua and target[1] != "regime"):
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
    # other standard places (LOC+9 loading, LOC+35 exit...) are not boxes of the form


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
        return  # another standard date: not a box of the form
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
        raise unmapped(segment, f"indicador de la lista {code_list!r} en la cabecera")
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
        return  # other equipment: not a box of the form
    containers: list[Any] = reader.root["transport"]["containers"]
    number = text_value(segment, 2, max_length=17, what="número de contenedor")
    reader.where[("transport", "containers", len(containers))] = segment.where(2)
    containers.append(number)


def _header_ftx(reader: Reader, segment: EdiSegment) -> None:
    if segment.get(1) != c.TEXT_GENERAL:
        return  # other subjects (ACB, AAA...): not a box of the form
    if segment.get(3, 1) == c.INSURANCE_DOCUMENT and reader.dua:
        reader.add_text(_insurance(reader, segment), "insurer", segment, "aseguradora")
        return
    key = "observations_7_38" if reader.dua else "observations"
    reader.add_text(reader.root, key, segment, "observaciones")


def _insurance(reader: Reader, segment: EdiSegment) -> dict[str, Any]:
    insurance: dict[str, Any] = reader.root.setdefault("insurance", {"__path__": ["insurance"]})
    reader.where.setdefault(("insurance",), segment.where())
    return insurance


def _rff(reader: Reader, segment: EdiSegment) -> None:
    """Segment group 1: references (the agent's own holds the total packages)."""


def _header_pac(reader: Reader, segment: EdiSegment) -> None:
    totals = reader.root["totals"]
    reader.once(totals, "packages", segment, "PAC de bultos totales")
    value = integer_value(segment, 1, max_digits=8, what="bultos")
    reader.put(totals, "packages", value, ("totals", "packages"), segment.where(1))


def _header_tdt(reader: Reader, segment: EdiSegment) -> None:
    if segment.get(1) != c.TRANSPORT_MAIN_CARRIAGE:
        return  # pre- or on-carriage: the form declares the main carriage
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
    reader.party, reader.party_target = qualifier, None
    if qualifier == c.PARTY_AGENT:
        reader.once(root, "AE", segment, "NAD+AE")
        code = text_value(segment, 2, max_length=35, what="código del despachador")
        reader.put(root, "agent_code", code, ("agent_code",), segment.where(2))
        return
    if qualifier == (c.PARTY_IMPORTER if reader.dua else c.PARTY_EXPORTER):
        key = "importer" if reader.dua else "exporter"
        reader.once(root, key, segment, f"NAD+{qualifier}")
        party: dict[str, Any] = {"__path__": [key]}
        root[key] = party
        reader.where[(key,)] = segment.where()
        number, doc_type = segment.get(2, 1), segment.get(2, 2)
        if number:
            text_value(segment, 2, 1, max_length=35, what="número de documento")
            reader.put(party, "doc_number", number, (key, "doc_number"), segment.where(2, 1))
        if doc_type:
            reader.put(party, "doc_type", doc_type, (key, "doc_type"), segment.where(2, 2))
        party_fields(reader, segment, party)
        return
    transport_consignee = segment.get(2, 1) and not segment.get(4, 1)
    if qualifier == c.PARTY_CONSIGNEE and not reader.dua and not transport_consignee:
        reader.once(root, "consignee", segment, "NAD+CN")
        consignee: dict[str, Any] = {"__path__": ["consignee"]}
        root["consignee"] = consignee
        reader.where[("consignee",)] = segment.where()
        foreign_party(reader, segment, consignee)
        return
    if qualifier == c.PARTY_CONSIGNEE:  # a transport document's consignee: its RFF names it
        value = text_value(segment, 2, 1, max_length=35, what="documento del consignatario")
        reader.party_target = {"consignee_doc_number": value, "where": segment.where(2)}
        return
    if qualifier == c.PARTY_SUPPLIER:  # an invoice's supplier contact: its RFF+IV names it
        reader.party_target = {"segment": segment}
    # other parties (NAD+CZ consignor, NAD+DT declarant...) are not boxes of the form


def _party_rff(reader: Reader, segment: EdiSegment) -> None:
    """RFF of a heading NAD group: the transport document or invoice the party belongs to."""
    target = reader.party_target
    if target is None:
        return
    number, line = segment.get(1, 2), segment.get(1, 3)
    if reader.party == c.PARTY_CONSIGNEE and "consignee_doc_number" in target:
        documents = reader.root["transport"]["documents"]
        for place, document in enumerate(documents, start=1):
            if document.get("number") == number and line in ("", str(place)):
                reader.once(document, "consignee", segment, "NAD+CN del documento de transporte")
                path = (*reader.path_of(document), "consignee_doc_number")
                value = target["consignee_doc_number"]
                reader.put(document, "consignee_doc_number", value, path, target["where"])
                return
        raise error(
            "EDI-VALUE",
            f"el consignatario se refiere al documento de transporte {number!r}, que no está "
            "declarado en un DOC de la cabecera",
            segment.where(1, 2),
        )
    if reader.party == c.PARTY_SUPPLIER and segment.get(1, 1) == c.REFERENCE_INVOICE:
        target["invoice"] = number
        target["line"] = line
        target.setdefault("channels", {})
        reader.contacts.append((number, segment, target))


def _party_com(reader: Reader, segment: EdiSegment) -> None:
    target = reader.party_target
    if reader.party != c.PARTY_SUPPLIER or target is None or "channels" not in target:
        return  # contacts of other parties are not boxes of the form
    channel = segment.get(1, 2)
    keys = {c.CHANNEL_FAX: "supplier_fax", c.CHANNEL_EMAIL: "supplier_email"}
    key = keys.get(channel)
    if key is None:
        return
    if key in target["channels"]:
        raise error("EDI-SEGMENT", f"COM {channel} repetido", segment.where())
    value = text_value(segment, 1, 1, max_length=512, what="número o dirección")
    target["channels"][key] = (value, segment.where(1, 1))


_TOTALS: Final = {
    c.AMOUNT_INVOICE: "fob",
    c.AMOUNT_FREIGHT: "freight",
    c.AMOUNT_INSURANCE: "insurance",
    c.AMOUNT_CUSTOMS_VALUE: "cif",
}


def _header_moa(reader: Reader, segment: EdiSegment) -> None:
    dollars(reader, segment, reader.root["totals"], _TOTALS)


def _header_doc(reader: Reader, segment: EdiSegment) -> None:
    """Segment group 5: the manifest, transport documents (their master and manifest follow
    them), the insurance policy."""
    name, code_list = segment.get(1, 1), segment.get(1, 2)
    number = text_value(segment, 2, max_length=35, what="número del documento")
    where = segment.where(2)
    root = reader.root
    transport = reader.transport
    if name == c.MANIFEST_DOCUMENT and transport is not None:
        reader.once(transport, "manifest", segment, "manifiesto del documento de transporte")
        transport["manifest"] = manifest(reader, segment, (*reader.path_of(transport), "manifest"))
        return
    if name == c.MANIFEST_DOCUMENT and reader.dua and not code_list:
        reader.once(root, "manifest", segment, "DOC+785")
        root["transport"]["manifest"] = manifest(reader, segment, ("transport", "manifest"))
        return
    if name in c.MASTER_DOCUMENTS and transport is not None:
        reader.once(transport, "master", segment, "documento máster")
        path = (*reader.path_of(transport), "master_number")
        reader.put(transport, "master_number", number, path, where)
        return
    if name in c.TRANSPORT_DOCUMENTS and not code_list:
        documents: list[Any] = root["transport"]["documents"]
        path = ("transport", "documents", len(documents))
        doc: dict[str, Any] = {"__path__": list(path)}
        documents.append(doc)
        reader.put(doc, "number", number, (*path, "number"), where)
        reader.where[path] = segment.where()
        kind = segment.get(1, 4)
        if kind:
            types = {text: code for code, text in c.TRANSPORT_DOC_NAME.items()}
            if kind not in types:
                raise error(
                    "EDI-VALUE",
                    f"tipo de documento de transporte {kind!r}: se escribe DIRECTO, CONSOLIDADO "
                    "o CONSOLIDADO 1 A 1",
                    segment.where(1, 4),
                )
            reader.put(doc, "doc_type", types[kind], (*path, "doc_type"), segment.where(1, 4))
        reader.transport = doc
        return
    reader.transport = None
    if name == c.INSURANCE_DOCUMENT and code_list == c.LIST_DOCUMENTS and reader.dua:
        reader.once(root, "insurance", segment, "documento de seguro")
        insurance = _insurance(reader, segment)
        reader.where[("insurance",)] = segment.where()
        reader.put(insurance, "number", number, ("insurance", "number"), where)
        return
    # other documents (certificates, licences of the heading...) are not boxes of the form


def _document_dtm(reader: Reader, segment: EdiSegment) -> None:
    """DTM of a heading DOC group: the insurance policy's date of issue."""
    insurance = reader.root.get("insurance")
    if segment.get(1, 1) != c.DATE_ISSUE or reader.transport is not None or insurance is None:
        return
    reader.once(insurance, "issued_on", segment, f"DTM+{c.DATE_ISSUE}")
    value = date_value(segment, what=f"fecha (DTM+{c.DATE_ISSUE})")
    reader.put(insurance, "issued_on", value, ("insurance", "issued_on"), segment.where(1, 2))


def _ignore(reader: Reader, segment: EdiSegment) -> None:
    """A segment this guide tolerates without using."""


HEADER_HANDLERS: Final[dict[tuple[int, str], Handler]] = {
    (0, "BGM"): _bgm,
    (0, "CST"): _header_cst,
    (0, "LOC"): _header_loc,
    (0, "DTM"): _header_dtm,
    (0, "GIS"): _header_gis,
    (0, "FII"): _header_fii,
    (0, "MEA"): _header_mea,
    (0, "EQD"): _header_eqd,
    (0, "FTX"): _header_ftx,
    (1, "RFF"): _rff,
    (2, "PAC"): _header_pac,
    (4, "TDT"): _header_tdt,
    (5, "DOC"): _header_doc,
    (5, "DTM"): _document_dtm,
    (6, "NAD"): _header_nad,
    (6, "RFF"): _party_rff,
    (6, "COM"): _party_com,
    (8, "MOA"): _header_moa,
}
