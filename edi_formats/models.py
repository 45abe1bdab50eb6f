"""The declarations as data: one set of pydantic models for every wire format.

A DUA (import, regime 10) and an O/E (export, regime 40) are modelled after the boxes
(*casillas*) of the SUNAT forms that seed 004 and RULES.md name. The models hold what a
declaration *says*; whether it says it correctly is the rule engine's job. So the models only
refuse what cannot be read at all (wrong types, impossible dates, control characters, codes
with the wrong characters or too long), and keep values a broker can get wrong but still write
down (a 9-digit subpartida, a negative amount, a missing importer name, regime 20, modality
``2-0``): those reach ``validators`` and come back as findings naming the casilla.

Conventions every format follows:

- optional values are ``None`` when absent, never ``""`` (text has ``min_length=1``);
- text is stripped of surrounding blanks and may not hold control characters;
- money is ``Decimal`` in US dollars (transaction currency only on invoices), weights are
  ``Decimal`` kilograms, packages are ``int``;
- repeated parts are tuples, so a declaration is immutable and hashable end to end.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Final, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from edi_formats.codes import GoodsState, PartyDocType, TransportDocType, TransportMode

__all__ = [
    "DUA",
    "OE",
    "AgentCode",
    "AgentReference",
    "ControlDocument",
    "CountryCode",
    "Declaration",
    "DeclarationNumber",
    "ExportSeries",
    "ExportTotals",
    "ExportTransport",
    "ForeignParty",
    "ImportSeries",
    "ImportTotals",
    "ImportTransport",
    "InsuranceDocument",
    "Invoice",
    "ManifestRef",
    "Modality",
    "Money",
    "OfficeCode",
    "Party",
    "PrecedingDeclaration",
    "Quantity",
    "RegimeCode",
    "Text",
    "TransportDocument",
    "Weight",
    "model_json",
]

_NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"


def _text(max_length: int) -> object:
    return StringConstraints(
        strip_whitespace=True, min_length=1, max_length=max_length, pattern=_NO_CONTROL
    )


def _code(pattern: str) -> object:
    return StringConstraints(strip_whitespace=True, pattern=pattern)


# -- scalar types ---------------------------------------------------------------------------

Text = Annotated[str, _text(250)]
"""Free text of a form box: 1..250 printable characters, blanks around it removed."""

ShortText = Annotated[str, _text(60)]
LongText = Annotated[str, _text(1000)]

OfficeCode = Annotated[str, _code(r"^\d{3}$")]
"""Customs office (intendencia) code, three digits (e.g. ``118`` Maritime Callao)."""

RegimeCode = Annotated[str, _code(r"^\d{2}$")]
"""Customs regime code, two digits (``10`` import for consumption, ``40`` export)."""

AgentCode = Annotated[str, _code(r"^[0-9A-Z]{1,8}$")]
"""The despachador's (customs agent's) code as SUNAT assigned it."""

AgentReference = Annotated[str, _code(r"^[0-9A-Za-z][0-9A-Za-z./_-]{0,19}$")]
"""The agent's own reference for the declaration: the key for duplicate detection."""

DeclarationNumber = Annotated[str, _code(r"^\d{3}-\d{4}-\d{2}-\d{6}$")]
"""A numbered declaration: ``OOO-YYYY-RR-NNNNNN`` (office, year, regime, correlative)."""

CountryCode = Annotated[str, _code(r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code."""

CurrencyCode = Annotated[str, _code(r"^[A-Z]{3}$")]
"""ISO 4217 currency code."""

PartyNumber = Annotated[str, _code(r"^[0-9A-Z]{1,15}$")]
SubpartidaCode = Annotated[str, _code(r"^\d{1,12}$")]
TwoDigitCode = Annotated[str, _code(r"^\d{2}$")]
DocumentNumber = Annotated[str, _code(r"^[0-9A-Za-z][0-9A-Za-z ./_-]{0,34}$")]
ContainerNumber = Annotated[str, _code(r"^[A-Z0-9]{4,15}$")]
UnitCode = Annotated[str, _code(r"^[0-9A-Z]{1,5}$")]
AccountNumber = Annotated[str, _code(r"^[0-9A-Z-]{1,20}$")]
Email = Annotated[str, _code(r"^[^\s@\x00-\x1f\x7f-\x9f]{1,64}@[^\s@\x00-\x1f\x7f-\x9f]{1,190}$")]
FaxNumber = Annotated[str, _code(r"^\+?[0-9][0-9 ()-]{3,24}$")]

Money = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=18, decimal_places=4)]
"""US dollars. The model keeps up to 4 decimals and negative values; STR-AMOUNTS rejects them."""

Weight = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=18, decimal_places=4)]
"""Kilograms."""

Quantity = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=18, decimal_places=4)]
Packages = Annotated[int, Field(ge=0, le=999_999_999)]
SeriesNumber = Annotated[int, Field(ge=1, le=99_999)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def __reduce__(self) -> tuple[Callable[[type[_M], str], _M], tuple[type[Self], str]]:
        """Pickled as its JSON, read back validated.

        A declaration crosses the analysis pool's pipe with every analysis, and pydantic
        pickles each nested model through Python-level ``__getstate__`` (a DUA of two series
        took 57 µs to pickle); its JSON is written in one call (10 µs, and DUP's fingerprint
        reuses it: ``model_json``) and validated back (42 µs, against 49 to unpickle). The
        copy is equal, field for field; the validation it goes through again checks nothing
        its original did not pass. (Every field of the copy counts as set: pydantic's
        ``model_fields_set``, which nothing here reads.)
        """
        return _from_json, (type(self), model_json(self))


_M = TypeVar("_M", bound=_Frozen)


def _from_json(model: type[_M], data: str) -> _M:
    """A model from what its ``__reduce__`` gave."""
    return model.model_validate_json(data)


_JSON_KEPT: Final = 128
"""Models whose JSON is kept: about the analyses a pool process holds for their decisions."""
_JSON_KEPT_CHARS: Final = 16 * 1024
"""A longer JSON (a declaration of some twenty-five series or more) is not kept, nor its model:
what the memo holds stays within a few megabytes."""
_json_kept: OrderedDict[int, tuple[_Frozen, str]] = OrderedDict()
"""The JSON of the models asked last, by ``id`` (each model held, so its id is not reused)."""


def model_json(model: _Frozen) -> str:
    """``model.model_dump_json()``, written once for the models asked last.

    A declaration's JSON is written to pickle its analysis for the node, and again when its
    answer is decided, for DUP's fingerprint. Models are frozen: the text does not change.
    """
    kept = _json_kept.get(id(model))
    if kept is not None and kept[0] is model:
        return kept[1]
    text = model.model_dump_json()
    if len(text) <= _JSON_KEPT_CHARS:
        _json_kept[id(model)] = (model, text)
        if len(_json_kept) > _JSON_KEPT:
            _json_kept.popitem(last=False)
    return text


# -- parts shared by DUA and O/E ------------------------------------------------------------


class Party(_Frozen):
    """Importer (DUA) or exporter (O/E): a person or company identified in Peru."""

    doc_type: PartyDocType = Field(description="tipo de documento: RUC, DNI, CE, PAS, SAL")
    doc_number: PartyNumber = Field(description="número de documento (RUC: 11 dígitos)")
    name: Text | None = Field(default=None, description="nombre o razón social")
    address: Text | None = Field(default=None, description="domicilio fiscal")


class ForeignParty(_Frozen):
    """A party abroad: the O/E consignee, an invoice's supplier."""

    name: Text | None = None
    country: CountryCode | None = None
    address: Text | None = None


class ManifestRef(_Frozen):
    """Cargo manifest: office, year, number (manifiesto de carga)."""

    office: OfficeCode
    year: int = Field(ge=1900, le=2999)
    number: Annotated[str, _code(r"^\d{1,6}$")]


class TransportDocument(_Frozen):
    """Bill of lading, air waybill or road consignment note."""

    number: DocumentNumber = Field(description="número del documento de transporte")
    doc_type: TransportDocType | None = Field(
        default=None, description="tipo: 1 directo, 2 consolidado, 3 consolidado 1 a 1"
    )
    master_number: DocumentNumber | None = Field(
        default=None, description="documento de transporte máster (consolidados)"
    )
    manifest: ManifestRef | None = Field(
        default=None, description="manifiesto en que viene la carga, si se indica por documento"
    )
    consignee_doc_number: PartyNumber | None = Field(
        default=None, description="documento del consignatario según el documento de transporte"
    )


class Invoice(_Frozen):
    """Commercial invoice, equivalent document or contract (seed 004 VII.A.22 b)."""

    number: DocumentNumber
    issued_on: date | None = None
    supplier: ForeignParty | None = None
    currency: CurrencyCode | None = Field(default=None, description="moneda de transacción")
    amount: Money | None = Field(default=None, description="importe en la moneda de transacción")
    electronic: bool = Field(
        default=False, description="factura emitida o transmitida por medios electrónicos"
    )
    supplier_fax: FaxNumber | None = Field(default=None, description="casilla 3.7 (formato B)")
    supplier_email: Email | None = Field(default=None, description="casilla 3.9 (formato B)")


class ControlDocument(_Frozen):
    """Control document of a restricted good: box 7.37 (DUA) or 4.13 (O/E), seed 003 VI.5-7.

    Written on paper as ``XX XX XXXXXXXXXX- dd/mm/aaaa dd/mm/aaaa``.
    """

    entity_code: TwoDigitCode = Field(description="entidad de control (Anexo A de 003)")
    document_code: TwoDigitCode = Field(description="tipo de documento (Anexo B de 003)")
    number: DocumentNumber
    issued_on: date
    expires_on: date | None = None


class PrecedingDeclaration(_Frozen):
    """Box 7.3: the preceding declaration and its series (goods 'vigentes', seed 004 VI.30)."""

    number: DeclarationNumber
    series: SeriesNumber


# -- DUA (import) ---------------------------------------------------------------------------


class Modality(_Frozen):
    """Recuadro "Destinación" of the DUA (seed 004 VII.A.2).

    ``code`` is ``1-0`` anticipado, ``0-1`` urgente (envíos de urgencia), ``0-2`` urgente
    (envíos de socorro) or ``0-0`` excepcional. Anticipado adds the point of arrival
    ``03`` (option ``A`` terminal / ``B`` temporary warehouse) or ``04`` (primary zone with
    special authorization); urgente adds the category letter.
    """

    code: Annotated[str, _code(r"^\d-\d$")]
    arrival_point: TwoDigitCode | None = Field(default=None, description="03 o 04 (anticipado)")
    arrival_option: Annotated[str, _code(r"^[A-Z]$")] | None = Field(
        default=None, description="A terminal, B depósito temporal (anticipado 03)"
    )
    category: Annotated[str, _code(r"^[a-z]$")] | None = Field(
        default=None, description="inciso de urgencia (0-1: a-n) o de socorro (0-2: a-i)"
    )


class ImportTransport(_Frozen):
    """Transport and cargo data of a DUA."""

    mode: TransportMode = Field(description="vía de transporte")
    manifest: ManifestRef | None = Field(default=None, description="manifiesto de carga")
    documents: tuple[TransportDocument, ...] = Field(
        default=(), description="documentos de transporte"
    )
    containers: tuple[ContainerNumber, ...] = ()
    arrival_date: date | None = Field(
        default=None, description="fecha de llegada (estimada en el anticipado)"
    )
    discharge_end_date: date | None = Field(
        default=None, description="fecha de término de la descarga, si se conoce"
    )
    warehouse_code: Annotated[str, _code(r"^[0-9A-Z]{1,6}$")] | None = Field(
        default=None, description="depósito temporal (CODI_ALMA)"
    )


class ImportTotals(_Frozen):
    """Declaration totals; each must equal the sum over the series (STR-TOTALS)."""

    fob: Money
    freight: Money
    insurance: Money
    cif: Money
    gross_weight: Weight
    net_weight: Weight
    packages: Packages


class InsuranceDocument(_Frozen):
    """Transport insurance policy or certificate (seed 004 VII.A.22 d)."""

    number: DocumentNumber
    issued_on: date | None = None
    insurer: Text | None = None


class ImportSeries(_Frozen):
    """One series (line) of a DUA: goods of one subpartida, origin and state."""

    number: SeriesNumber = Field(description="número de serie (1..n)")
    subpartida: SubpartidaCode = Field(description="subpartida nacional, 10 dígitos")
    description: Text | None = Field(default=None, description="descripción comercial")
    origin_country: CountryCode | None = Field(default=None, description="país de origen")
    quantity: Quantity | None = None
    unit: UnitCode | None = Field(default=None, description="unidad de medida")
    fob: Money
    freight: Money
    insurance: Money
    cif: Money
    gross_weight: Weight
    net_weight: Weight
    packages: Packages
    state: GoodsState | None = Field(default=None, description="estado: nueva o usada")
    tprod: TwoDigitCode | None = Field(
        default=None, description="código TPROD (97, 98, 99: seed 003 VI.8)"
    )
    codes_7_24: tuple[TwoDigitCode, ...] = Field(default=(), description="casilla 7.24")
    preceding_declaration: PrecedingDeclaration | None = Field(
        default=None, description="casilla 7.3"
    )
    control_documents: tuple[ControlDocument, ...] = Field(
        default=(), description="documentos de control (casilla 7.37)"
    )
    observations: LongText | None = Field(default=None, description="casilla 7.37, texto libre")


class DUA(_Frozen):
    """Declaración Única de Aduanas for import for consumption (regime 10)."""

    document_type: Literal["DUA"] = "DUA"
    office: OfficeCode = Field(description="aduana de despacho")
    regime: RegimeCode = Field(description="régimen (destinación), 10")
    modality: Modality
    agent_code: AgentCode = Field(description="código del despachador de aduana")
    agent_reference: AgentReference = Field(description="referencia del despachador")
    importer: Party
    transport: ImportTransport
    totals: ImportTotals
    invoices: tuple[Invoice, ...] = ()
    sworn_statement: bool = Field(
        default=False, description="declaración jurada en lugar de factura"
    )
    insurance: InsuranceDocument | None = None
    guarantee_account: AccountNumber | None = Field(
        default=None, description="cuenta corriente de garantía (art. 160 de la Ley)"
    )
    observations_7_38: LongText | None = Field(
        default=None, description="casilla 7.38 (anticipado 04: E.A.:XXXX, dirección, ubigeo)"
    )
    anticipado_exception: Annotated[str, _code(r"^[a-z]$")] | None = Field(
        default=None,
        description="inciso del art. 62A del Reglamento que exceptúa del despacho anticipado",
    )
    series: tuple[ImportSeries, ...] = Field(default=(), max_length=99_999)


# -- O/E (export) ---------------------------------------------------------------------------


class ExportTransport(_Frozen):
    """Transport data of an O/E."""

    mode: TransportMode = Field(description="vía de transporte")
    documents: tuple[TransportDocument, ...] = ()
    containers: tuple[ContainerNumber, ...] = ()
    shipment_date: date | None = Field(default=None, description="fecha de embarque prevista")


class ExportTotals(_Frozen):
    """O/E totals; each must equal the sum over the series (STR-TOTALS)."""

    fob: Money
    gross_weight: Weight
    net_weight: Weight
    packages: Packages


class ExportSeries(_Frozen):
    """One series of an O/E."""

    number: SeriesNumber
    subpartida: SubpartidaCode
    description: Text | None = None
    origin_country: CountryCode | None = None
    quantity: Quantity | None = None
    unit: UnitCode | None = None
    fob: Money
    gross_weight: Weight
    net_weight: Weight
    packages: Packages
    state: GoodsState | None = None
    tprod: TwoDigitCode | None = None
    control_documents: tuple[ControlDocument, ...] = Field(
        default=(), description="documentos de control (casilla 4.13)"
    )
    observations: LongText | None = None


class OE(_Frozen):
    """Orden de Embarque for definitive export (regime 40)."""

    document_type: Literal["OE"] = "OE"
    office: OfficeCode
    regime: RegimeCode
    agent_code: AgentCode
    agent_reference: AgentReference
    exporter: Party
    consignee: ForeignParty = Field(description="consignatario en el exterior")
    destination_country: CountryCode | None = None
    transport: ExportTransport
    totals: ExportTotals
    invoices: tuple[Invoice, ...] = ()
    sworn_statement: bool = False
    observations: LongText | None = None
    series: tuple[ExportSeries, ...] = Field(default=(), max_length=99_999)


Declaration = Annotated[DUA | OE, Field(discriminator="document_type")]
"""Either document, told apart by ``document_type``."""
