"""Valid sample declarations, and the same samples broken one rule at a time.

``teledispatch sample`` prints these, tests use them as the passing and failing case of every
rule, and the benchmark validates them. A broken sample breaks exactly one rule, so the
rejection names that rule alone (MOD-ANT-MANIFEST is a warning: its broken sample is accepted
with that warning). Breaks stay readable declarations: they survive any wire format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel

from edi_formats.codes import (
    ARRIVAL_POINT_PRIMARY_ZONE,
    ARRIVAL_POINT_TERMINAL_OR_WAREHOUSE,
    GoodsState,
    ModalityCode,
    PartyDocType,
    TransportDocType,
    TransportMode,
)
from edi_formats.models import (
    DUA,
    OE,
    ControlDocument,
    ExportSeries,
    ExportTotals,
    ExportTransport,
    ForeignParty,
    ImportSeries,
    ImportTotals,
    ImportTransport,
    InsuranceDocument,
    Invoice,
    ManifestRef,
    Modality,
    Party,
    TransportDocument,
)
from validators.ruc import ruc_check_digit

__all__ = ["BREAKABLE", "NOTES", "break_rule", "sample_declaration"]

_M = TypeVar("_M", bound=BaseModel)


def _ruc(first_ten: str) -> str:
    return f"{first_ten}{ruc_check_digit(first_ten)}"


IMPORTER_RUC: Final = _ruc("2051234567")
EXPORTER_RUC: Final = _ruc("2060987654")


@dataclass(frozen=True, slots=True)
class _Goods:
    subpartida: str
    description: str
    origin: str
    unit: str
    unit_price: Decimal
    unit_kg: Decimal


_IMPORT_GOODS: Final = (
    _Goods("8471300000", "COMPUTADORAS PORTATILES 14 PULG.", "CN", "U", Decimal(420), Decimal(3)),
    _Goods("9403300000", "ESCRITORIOS DE MADERA PARA OFICINA", "BR", "U", Decimal(95), Decimal(28)),
    _Goods("4819100000", "CAJAS DE CARTON CORRUGADO", "CL", "KG", Decimal("1.2"), Decimal(1)),
    _Goods("7323930000", "OLLAS DE ACERO INOXIDABLE", "CN", "U", Decimal(11), Decimal("1.5")),
    _Goods("8516600000", "HORNOS ELECTRICOS DE MESA", "US", "U", Decimal(64), Decimal(9)),
)
_EXPORT_GOODS: Final = (
    _Goods("6109100031", "T-SHIRTS DE ALGODON PIMA", "PE", "U", Decimal(9), Decimal("0.2")),
    _Goods("7403110000", "CATODOS DE COBRE REFINADO", "PE", "KG", Decimal("8.1"), Decimal(1)),
    _Goods("6105100051", "CAMISAS DE PUNTO DE ALGODON", "PE", "U", Decimal(14), Decimal("0.3")),
)
_CENT: Final = Decimal("0.01")


def _qty(index: int) -> Decimal:
    return Decimal(10 + 5 * (index % 7))


def _import_qty(index: int) -> Decimal:
    """Small quantities: the DUA stays under three UIT up to ten series (no TASA note), and
    with two series under US$2,000 FOB (any modality without ANT-MANDATORY)."""
    return Decimal(1 + index % 3)


def _import_series(number: int) -> ImportSeries:
    goods = _IMPORT_GOODS[(number - 1) % len(_IMPORT_GOODS)]
    quantity = _import_qty(number)
    fob = (goods.unit_price * quantity).quantize(_CENT)
    freight = (fob * Decimal("0.08")).quantize(_CENT)
    insurance = (fob * Decimal("0.015")).quantize(_CENT)
    net = goods.unit_kg * quantity
    return ImportSeries(
        number=number,
        subpartida=goods.subpartida,
        description=goods.description,
        origin_country=goods.origin,
        quantity=quantity,
        unit=goods.unit,
        fob=fob,
        freight=freight,
        insurance=insurance,
        cif=fob + freight + insurance,
        gross_weight=net + Decimal(2),
        net_weight=net,
        packages=1 + number % 4,
        state=GoodsState.NEW,
    )


def _export_series(number: int) -> ExportSeries:
    goods = _EXPORT_GOODS[(number - 1) % len(_EXPORT_GOODS)]
    quantity = _qty(number) * 10
    net = goods.unit_kg * quantity
    return ExportSeries(
        number=number,
        subpartida=goods.subpartida,
        description=goods.description,
        origin_country=goods.origin,
        quantity=quantity,
        unit=goods.unit,
        fob=(goods.unit_price * quantity).quantize(_CENT),
        gross_weight=net + Decimal(5),
        net_weight=net,
        packages=2 + number % 3,
        state=GoodsState.NEW,
    )


def _import_totals(series: tuple[ImportSeries, ...]) -> ImportTotals:
    return ImportTotals(
        fob=sum((s.fob for s in series), Decimal(0)),
        freight=sum((s.freight for s in series), Decimal(0)),
        insurance=sum((s.insurance for s in series), Decimal(0)),
        cif=sum((s.cif for s in series), Decimal(0)),
        gross_weight=sum((s.gross_weight for s in series), Decimal(0)),
        net_weight=sum((s.net_weight for s in series), Decimal(0)),
        packages=sum(s.packages for s in series),
    )


def _export_totals(series: tuple[ExportSeries, ...]) -> ExportTotals:
    return ExportTotals(
        fob=sum((s.fob for s in series), Decimal(0)),
        gross_weight=sum((s.gross_weight for s in series), Decimal(0)),
        net_weight=sum((s.net_weight for s in series), Decimal(0)),
        packages=sum(s.packages for s in series),
    )


def _sample_dua(office: str, agent_code: str, as_of: date, series_count: int, ref: str) -> DUA:
    series = tuple(_import_series(n) for n in range(1, series_count + 1))
    totals = _import_totals(series)
    manifest = ManifestRef(office=office, year=as_of.year, number="004512")
    return DUA(
        office=office,
        regime="10",
        modality=Modality(
            code=ModalityCode.ANTICIPADO,
            arrival_point=ARRIVAL_POINT_TERMINAL_OR_WAREHOUSE,
            arrival_option="A",
        ),
        agent_code=agent_code,
        agent_reference=ref,
        importer=Party(
            doc_type=PartyDocType.RUC,
            doc_number=IMPORTER_RUC,
            name="IMPORTADORA LOS ANDES S.A.C.",
            address="AV. ARGENTINA 2833, CALLAO",
        ),
        transport=ImportTransport(
            mode=TransportMode.MARITIME,
            manifest=manifest,
            documents=(
                TransportDocument(
                    number="HLCUSHA2104587",
                    doc_type=TransportDocType.DIRECT,
                    master_number="HLCUSHA2104587",
                    consignee_doc_number=IMPORTER_RUC,
                ),
            ),
            containers=("HLXU8712304",),
            arrival_date=as_of + timedelta(days=5),
        ),
        totals=totals,
        invoices=(
            Invoice(
                number="INV-2104-0087",
                issued_on=as_of - timedelta(days=20),
                supplier=ForeignParty(name="PACIFIC TRADING CO. LTD.", country="CN"),
                currency="USD",
                amount=totals.fob,
            ),
        ),
        insurance=InsuranceDocument(
            number="TR-88-104512",
            issued_on=as_of - timedelta(days=15),
            insurer="LA POSITIVA SEGUROS",
        ),
        series=series,
    )


def _sample_oe(office: str, agent_code: str, as_of: date, series_count: int, ref: str) -> OE:
    series = tuple(_export_series(n) for n in range(1, series_count + 1))
    totals = _export_totals(series)
    return OE(
        office=office,
        regime="40",
        agent_code=agent_code,
        agent_reference=ref,
        exporter=Party(
            doc_type=PartyDocType.RUC,
            doc_number=EXPORTER_RUC,
            name="TEXTILES DEL SUR S.A.",
            address="CALLE LOS TELARES 145, ATE, LIMA",
        ),
        consignee=ForeignParty(
            name="PACIFIC APPAREL INC.", country="US", address="2100 NW 42ND AVE, MIAMI FL"
        ),
        destination_country="US",
        transport=ExportTransport(
            mode=TransportMode.MARITIME,
            documents=(TransportDocument(number="MAEU230045871"),),
            containers=("MSKU5501238",),
            shipment_date=as_of + timedelta(days=3),
        ),
        totals=totals,
        invoices=(
            Invoice(
                number="F001-004512",
                issued_on=as_of,
                currency="USD",
                amount=totals.fob,
            ),
        ),
        series=series,
    )


def sample_declaration(
    kind: Literal["dua", "oe"],
    *,
    office: str = "118",
    agent_code: str = "4821",
    as_of: date,
    series_count: int = 2,
    reference: str | None = None,
) -> DUA | OE:
    """A declaration that passes every rule in force as of ``as_of`` at ``office``.

    The DUA is an anticipado 03-A by sea arriving five days after ``as_of``; the O/E a
    maritime export shipping three days after. Valid as long as the office exists and runs
    Teledespacho on that date (TD-OFFICE is about the office, not the document).
    """
    if series_count < 1:
        raise ValueError("a sample needs at least one series")
    ref = reference or f"{as_of:%Y%m%d}-{kind.upper()}-001"
    if kind == "dua":
        return _sample_dua(office, agent_code, as_of, series_count, ref)
    if kind == "oe":
        return _sample_oe(office, agent_code, as_of, series_count, ref)
    raise ValueError(f"unknown declaration kind {kind!r}")


# -- breaking one rule ----------------------------------------------------------------------


def _set(model: _M, **changes: Any) -> _M:
    return model.model_copy(update=changes)


def _set_series(declaration: DUA | OE, index: int, **changes: Any) -> DUA | OE:
    series = list(declaration.series)
    series[index] = _set(series[index], **changes)
    return _with_series(declaration, tuple(series))


def _with_series(declaration: DUA | OE, series: tuple[Any, ...]) -> DUA | OE:
    """The declaration with new series and totals recomputed from them."""
    if isinstance(declaration, DUA):
        return _set(declaration, series=series, totals=_import_totals(series))
    return _set(declaration, series=series, totals=_export_totals(series))


def _dates(declaration: DUA) -> date:
    return declaration.transport.arrival_date or date(2000, 1, 1)


def _modality(declaration: DUA, modality: Modality, arrival: int, discharge: int | None) -> DUA:
    """Switch modality and move arrival/discharge to ``arrival``/``discharge`` days after the
    sample's arrival date (negative: before)."""
    base = _dates(declaration)
    transport = _set(
        declaration.transport,
        arrival_date=base + timedelta(days=arrival),
        discharge_end_date=None if discharge is None else base + timedelta(days=discharge),
    )
    return _set(declaration, modality=modality, transport=transport)


def _break_td_office(d: DUA | OE) -> DUA | OE:
    return _set(d, office="999")


def _break_reg_code(d: DUA | OE) -> DUA | OE:
    return _set(d, regime="20" if isinstance(d, DUA) else "41")


def _break_str_required(d: DUA | OE) -> DUA | OE:
    if isinstance(d, DUA):
        return _set(d, importer=_set(d.importer, name=None))
    return _set(d, exporter=_set(d.exporter, name=None))


def _break_str_series(d: DUA | OE) -> DUA | OE:
    last = len(d.series) - 1
    return _set_series(d, last, number=d.series[last].number + 1)


def _break_str_subpartida(d: DUA | OE) -> DUA | OE:
    return _set_series(d, 0, subpartida=d.series[0].subpartida[:8])


def _break_str_country(d: DUA | OE) -> DUA | OE:
    # The United Kingdom's code is GB; UK is a broker's slip that ISO 3166-1 never assigned.
    return _set_series(d, 0, origin_country="UK")


def _break_str_amounts(d: DUA | OE) -> DUA | OE:
    quantity = d.series[0].quantity or Decimal(1)
    return _set_series(d, 0, quantity=-abs(quantity) or Decimal(-1))


def _break_str_totals(d: DUA | OE) -> DUA | OE:
    return _set(d, totals=_set(d.totals, packages=d.totals.packages + 1))


def _break_str_cif(d: DUA | OE) -> DUA | OE:
    if not isinstance(d, DUA):
        raise KeyError("STR-CIF")
    first = d.series[0]
    series = (_set(first, cif=first.cif + 1), *d.series[1:])
    return _set(d, series=series, totals=_set(d.totals, cif=d.totals.cif + 1))


def _break_str_weight(d: DUA | OE) -> DUA | OE:
    return _set_series(d, 0, net_weight=d.series[0].gross_weight + 1)


def _break_str_dates(d: DUA | OE) -> DUA | OE:
    if isinstance(d, DUA):
        arrival = _dates(d)
        return _set(
            d,
            transport=_set(
                d.transport,
                arrival_date=arrival,
                discharge_end_date=arrival - timedelta(days=1),
            ),
        )
    invoices = d.invoices or (Invoice(number="F001-000001"),)
    first = _set(invoices[0], issued_on=date(2099, 12, 31))
    return _set(d, invoices=(first, *invoices[1:]))


def _break_id_ruc(d: DUA | OE) -> DUA | OE:
    party = d.importer if isinstance(d, DUA) else d.exporter
    number = party.doc_number
    wrong = f"{number[:10]}{(int(number[10]) + 1) % 10}" if len(number) == 11 else "20000000000"
    broken = _set(party, doc_type=PartyDocType.RUC, doc_number=wrong)
    if not isinstance(d, DUA):
        return _set(d, exporter=broken)
    # The transport documents name the consignee too: keep them agreeing (ONE-CONSIGNEE).
    documents = tuple(
        _set(doc, consignee_doc_number=wrong) if doc.consignee_doc_number == number else doc
        for doc in d.transport.documents
    )
    return _set(d, importer=broken, transport=_set(d.transport, documents=documents))


def _dua_only(make: Callable[[DUA], DUA], rule_id: str) -> Callable[[DUA | OE], DUA | OE]:
    def apply(d: DUA | OE) -> DUA | OE:
        if not isinstance(d, DUA):
            raise KeyError(f"{rule_id} applies to the DUA only")
        return make(d)

    return apply


def _break_mod_code(d: DUA) -> DUA:
    return _set(d, modality=Modality(code="2-0"))


def _break_mod_tdoc(d: DUA) -> DUA:
    documents = d.transport.documents or (TransportDocument(number="HLCUSHA2104587"),)
    first = _set(documents[0], doc_type=None)
    return _set(d, transport=_set(d.transport, documents=(first, *documents[1:])))


def _break_mod_04_place(d: DUA) -> DUA:
    modality = Modality(code=ModalityCode.ANTICIPADO, arrival_point=ARRIVAL_POINT_PRIMARY_ZONE)
    return _set(d, modality=modality, observations_7_38="AUTORIZACION ZP: 118-ZP-2025-0042")


def _break_mod_04_auth(d: DUA) -> DUA:
    modality = Modality(code=ModalityCode.ANTICIPADO, arrival_point=ARRIVAL_POINT_PRIMARY_ZONE)
    place = "E.A.:0000 AV. ARGENTINA 2833 CALLAO UBIGEO:070101"
    return _set(d, modality=modality, observations_7_38=place)


def _break_mod_qualify(d: DUA) -> DUA:
    return _modality(
        d, Modality(code=ModalityCode.URGENCIA, category="n"), arrival=2, discharge=None
    )


def _used_car(d: DUA, description: str = "") -> DUA:
    car = _goods(
        d,
        "8703231000",
        f"AUTOMOVIL TOYOTA COROLLA USADO{description}",
        state=GoodsState.USED,
        quantity=Decimal(1),
        unit="U",
    )
    assert isinstance(car, DUA)
    return car


def _break_veh_used(d: DUA) -> DUA:
    year = _sample_date(d).year - 9
    return _used_car(
        d,
        f"; AÑO FABRICACION: {year}; TIMON: IZQUIERDA; PESO BRUTO VEHICULAR: 1650; CO: 0.5%",
    )


def _break_veh_desc(d: DUA) -> DUA:
    return _used_car(d)


def _break_inv_electronic(d: DUA) -> DUA:
    invoices = d.invoices or (Invoice(number="F001-0004512"),)
    first = _set(invoices[0], electronic=True, supplier_fax=None, supplier_email=None)
    return _set(d, invoices=(first, *invoices[1:]), sworn_statement=False)


def _break_restr_narcotics(d: DUA | OE) -> DUA | OE:
    certificate = _control(d, "03", "03", "CO-DIGEMID-2025-118", issued=-10, expires=150)
    narcotics = _goods(
        d,
        "2939710000",
        "CLORHIDRATO DE COCAINA USP PARA USO MEDICO",
        control_documents=(certificate,),
    )
    return _set(narcotics, office="118") if d.office not in ("118", "235") else narcotics


def _break_mod_ant_manifest(d: DUA) -> DUA:
    return _set(d, transport=_set(d.transport, manifest=None))


def _break_dl_anticipado(d: DUA) -> DUA:
    return _modality(d, d.modality, arrival=-30, discharge=None)


def _break_dl_urgente(d: DUA) -> DUA:
    return _modality(
        d, Modality(code=ModalityCode.URGENCIA, category="b"), arrival=-30, discharge=-28
    )


def _break_dl_excepcional(d: DUA) -> DUA:
    return _modality(d, Modality(code=ModalityCode.EXCEPCIONAL), arrival=-60, discharge=-58)


def _break_one_consignee(d: DUA) -> DUA:
    other = TransportDocument(
        number="HLCUSHA2109911",
        doc_type=TransportDocType.DIRECT,
        master_number="HLCUSHA2109911",
        consignee_doc_number=_ruc("2070001112"),
    )
    return _set(d, transport=_set(d.transport, documents=(*d.transport.documents, other)))


def _scaled(d: DUA | OE, factor: int) -> DUA | OE:
    """Every series ``factor`` times as large (quantities, values, weights); totals follow."""
    series = []
    for item in d.series:
        changes: dict[str, Any] = {
            "fob": item.fob * factor,
            "gross_weight": item.gross_weight * factor,
            "net_weight": item.net_weight * factor,
        }
        if item.quantity is not None:
            changes["quantity"] = item.quantity * factor
        if isinstance(item, ImportSeries):
            changes.update(
                freight=item.freight * factor,
                insurance=item.insurance * factor,
                cif=item.cif * factor,
            )
        series.append(_set(item, **changes))
    scaled = _with_series(d, tuple(series))
    invoices = tuple(_set(i, amount=scaled.totals.fob) for i in scaled.invoices[:1])
    return _set(scaled, invoices=(*invoices, *scaled.invoices[1:]))


def _goods(d: DUA | OE, subpartida: str, description: str, **changes: Any) -> DUA | OE:
    """The first series declares other goods (``changes`` for the rest of it)."""
    return _set_series(d, 0, subpartida=subpartida, description=description, **changes)


def _control(
    d: DUA | OE, entity: str, document: str, number: str, issued: int, expires: int
) -> ControlDocument:
    """A control document issued/expiring that many days from the sample's date."""
    base = _sample_date(d)
    return ControlDocument(
        entity_code=entity,
        document_code=document,
        number=number,
        issued_on=base + timedelta(days=issued),
        expires_on=base + timedelta(days=expires),
    )


def _sample_date(d: DUA | OE) -> date:
    """The date the sample was made for (its DUA arrives five days later, its O/E ships in
    three)."""
    if isinstance(d, DUA):
        return _dates(d) - timedelta(days=5)
    shipment = d.transport.shipment_date or date(2000, 1, 4)
    return shipment - timedelta(days=3)


def _break_prohibited(d: DUA | OE) -> DUA | OE:
    if isinstance(d, DUA):
        return _goods(d, "6309000000", "ROPA USADA EN FARDOS", state=GoodsState.USED)
    return _goods(d, "0106130000", "ALPACAS VIVAS PARA REPRODUCCION")


def _restricted_goods(d: DUA | OE) -> DUA | OE:
    if isinstance(d, DUA):
        return _goods(d, "3004902900", "MEDICAMENTOS ANALGESICOS EN TABLETAS")
    return _goods(d, "3101000000", "GUANO DE ISLAS TIPO PREMIUM")


def _break_restr_doc(d: DUA | OE) -> DUA | OE:
    # Without any control document: one left by an earlier break (a DIGEMID certificate)
    # would be the very permit the medicines need.
    return _set_series(_restricted_goods(d), 0, control_documents=())


def _break_restr_entity(d: DUA | OE) -> DUA | OE:
    wrong = "05" if isinstance(d, DUA) else "06"
    document = _control(d, wrong, "09", "PER-2025-00871", issued=-30, expires=300)
    return _set_series(_restricted_goods(d), 0, control_documents=(document,))


def _break_restr_tprod(d: DUA | OE) -> DUA | OE:
    return _set_series(d, 0, tprod="96")


def _break_restr_office(d: DUA | OE) -> DUA | OE:
    document = _control(d, "02", "02", "RD-0457-DICSCAMEC", issued=-10, expires=300)
    armed = _goods(
        d, "9302000000", "PISTOLAS SEMIAUTOMATICAS CAL. 9 MM", control_documents=(document,)
    )
    return _set(armed, office="154") if d.office in ("118", "235") else armed


def _break_restr_validity(d: DUA | OE) -> DUA | OE:
    document = _control(d, "17", "01", "AUT-DIQPF-0912", issued=-40, expires=10)
    return _goods(d, "2914110000", "ACETONA GRADO TECNICO", control_documents=(document,))


def _break_docs_regime(d: DUA | OE) -> DUA | OE:
    return _set(d, invoices=(), sworn_statement=False)


def _without_ruc(d: DUA) -> DUA:
    """The importer is a natural person with a DNI (transport documents consigned to it)."""
    dni = "45871236"
    importer = _set(
        d.importer, doc_type=PartyDocType.DNI, doc_number=dni, name="ROSA QUISPE MAMANI"
    )
    documents = tuple(
        _set(doc, consignee_doc_number=dni) if doc.consignee_doc_number else doc
        for doc in d.transport.documents
    )
    return _set(d, importer=importer, transport=_set(d.transport, documents=documents))


def _above(d: DUA, limit: int) -> DUA:
    """``d`` scaled to the smallest whole multiple whose total FOB exceeds ``limit``."""
    fob = d.totals.fob
    factor = max(2, int(limit // fob) + 1) if fob > 0 else 2
    scaled = _scaled(d, factor)
    assert isinstance(scaled, DUA)
    return scaled


def _break_id_noruc(d: DUA) -> DUA:
    return _without_ruc(_above(d, 3000))


def _break_ant_mandatory(d: DUA) -> DUA:
    scaled = _above(d, 2000)
    return _modality(scaled, Modality(code=ModalityCode.EXCEPCIONAL), arrival=-8, discharge=-7)


def _break_vigente(d: DUA) -> DUA:
    broken = _set_series(d, 0, codes_7_24=("21",), preceding_declaration=None)
    assert isinstance(broken, DUA)
    return broken


def _note_tasa(d: DUA) -> DUA:
    scaled = _scaled(d, 5)
    assert isinstance(scaled, DUA)
    return scaled


def _note_fob_10(d: DUA) -> DUA:
    cents = Decimal("0.01")
    series = []
    for item in d.series:
        fob = Decimal("4.00")
        freight = (fob * Decimal("0.08")).quantize(cents)
        insurance = (fob * Decimal("0.015")).quantize(cents)
        series.append(
            _set(
                item,
                quantity=Decimal(1),
                fob=fob,
                freight=freight,
                insurance=insurance,
                cif=fob + freight + insurance,
            )
        )
    small = _with_series(d, tuple(series))
    invoices = tuple(_set(i, amount=small.totals.fob) for i in small.invoices[:1])
    result = _set(small, invoices=(*invoices, *small.invoices[1:]))
    assert isinstance(result, DUA)
    return result


BREAKABLE: Final[dict[str, Callable[[DUA | OE], DUA | OE]]] = {
    "TD-OFFICE": _break_td_office,
    "REG-CODE": _break_reg_code,
    "STR-REQUIRED": _break_str_required,
    "STR-SERIES": _break_str_series,
    "STR-SUBPARTIDA": _break_str_subpartida,
    "STR-COUNTRY": _break_str_country,
    "STR-AMOUNTS": _break_str_amounts,
    "STR-TOTALS": _break_str_totals,
    "STR-CIF": _break_str_cif,
    "STR-WEIGHT": _break_str_weight,
    "STR-DATES": _break_str_dates,
    "ID-RUC": _break_id_ruc,
    "MOD-CODE": _dua_only(_break_mod_code, "MOD-CODE"),
    "MOD-TDOC": _dua_only(_break_mod_tdoc, "MOD-TDOC"),
    "MOD-04-PLACE": _dua_only(_break_mod_04_place, "MOD-04-PLACE"),
    "MOD-04-AUTH": _dua_only(_break_mod_04_auth, "MOD-04-AUTH"),
    "MOD-QUALIFY": _dua_only(_break_mod_qualify, "MOD-QUALIFY"),
    "INV-ELECTRONIC": _dua_only(_break_inv_electronic, "INV-ELECTRONIC"),
    "RESTR-NARCOTICS": _break_restr_narcotics,
    "VEH-USED": _dua_only(_break_veh_used, "VEH-USED"),
    "VEH-DESC": _dua_only(_break_veh_desc, "VEH-DESC"),
    "MOD-ANT-MANIFEST": _dua_only(_break_mod_ant_manifest, "MOD-ANT-MANIFEST"),
    "DL-ANTICIPADO": _dua_only(_break_dl_anticipado, "DL-ANTICIPADO"),
    "DL-URGENTE": _dua_only(_break_dl_urgente, "DL-URGENTE"),
    "DL-DIFERIDO": _dua_only(_break_dl_excepcional, "DL-DIFERIDO"),
    "DL-EXCEPCIONAL": _dua_only(_break_dl_excepcional, "DL-EXCEPCIONAL"),
    "ONE-CONSIGNEE": _dua_only(_break_one_consignee, "ONE-CONSIGNEE"),
    "ID-NORUC": _dua_only(_break_id_noruc, "ID-NORUC"),
    "DOCS-REGIME": _break_docs_regime,
    "ANT-MANDATORY": _dua_only(_break_ant_mandatory, "ANT-MANDATORY"),
    "PROHIBITED": _break_prohibited,
    "RESTR-DOC": _break_restr_doc,
    "RESTR-ENTITY": _break_restr_entity,
    "RESTR-TPROD": _break_restr_tprod,
    "RESTR-OFFICE": _break_restr_office,
    "RESTR-VALIDITY": _break_restr_validity,
    "VIGENTE": _dua_only(_break_vigente, "VIGENTE"),
}
"""Rules a single document can break, and how. TD-SENDER (needs the sender), NUMBER, DUP and
CH-ASSIGN (need the store) are not here: ``break_rule`` raises KeyError for them. ID-NORUC is
broken by the single operation (over US$3,000 without RUC); its yearly limits need the
importer's history from the store."""

NOTES: Final[dict[str, Callable[[DUA | OE], DUA | OE]]] = {
    "TASA": _dua_only(_note_tasa, "TASA"),
    "FOB-10": _dua_only(_note_fob_10, "FOB-10"),
}
"""Rules whose finding is information for the acceptance, not a fault (``info``), and how a
document makes them speak: ``break_rule`` takes their ids too; the result is accepted."""


def break_rule(declaration: DUA | OE, rule_id: str) -> DUA | OE:
    """``declaration`` changed so that it breaks ``rule_id`` and, for a sample, only that rule
    (for a rule in ``NOTES``: so that the rule's note, alone, is reported).

    Date-based breaks move dates relative to the declaration's own arrival date, so break a
    sample made for the date you validate on. Raises KeyError for rules a document alone cannot
    break or that do not apply to its type.
    """
    make = BREAKABLE.get(rule_id) or NOTES.get(rule_id)
    if make is None:
        raise KeyError(f"{rule_id} cannot be broken by a declaration alone")
    broken = make(declaration)
    # Re-validate: a break must still be a readable declaration in every wire format.
    return type(broken).model_validate(broken.model_dump())
