"""The code values of Teledespacho's CUSDEC/CUSRES implementation guide (docs/edifact.md).

UN code lists where D.96B has a code for the thing (document names 1001, qualifiers 2005,
3035, 3227, 5025, 6311/6313, 6069, Rec. 19 transport modes 8067, the 1131 code list
qualifiers 117 customs procedure and 108 tariff for SUNAT's regime and subpartida...). SUNAT's
other code sets (modality, TPROD, box 7.24...) have no UN list: they travel as mutually defined
codes, ``value:LIST:ZZZ`` (7365 or 7361 with code list 1131 = one of the ``LIST_*`` names
below and agency 3055 = ZZZ), so a reader can tell them apart by list.
"""

from __future__ import annotations

from typing import Final

from edi_formats.codes import TransportMode
from edi_formats.edifact.syntax import MessageType

CUSDEC: Final = MessageType("CUSDEC", "D", "96B", "UN")
CUSRES: Final = MessageType("CUSRES", "D", "96B", "UN")
CONTRL: Final = MessageType("CONTRL", "2", "2", "UN")
"""The syntax and service report message of ISO 9735 syntax version 3."""

MUTUALLY_DEFINED: Final = "ZZZ"
"""3055 code list responsible agency: mutually defined."""

PARTNER_QUALIFIER: Final = "ZZ"
"""0007 partner identification code qualifier in UNB: mutually defined."""

# -- 1001 document name codes -------------------------------------------------------------------

DOCUMENT_NAME: Final[dict[str, str]] = {"DUA": "929", "OE": "830"}
"""BGM: 929 goods declaration for importation, 830 goods declaration for exportation."""

INVOICE_DOCUMENT: Final = "380"
"""Commercial invoice."""

MANIFEST_DOCUMENT: Final = "785"
"""Cargo manifest."""

MASTER_DOCUMENT: Final[dict[TransportMode, str]] = {mode: "704" for mode in TransportMode} | {
    TransportMode.AIR: "741"
}
"""Master bill of lading 704, master air waybill 741: a consolidated document's master."""

MASTER_DOCUMENTS: Final = frozenset(MASTER_DOCUMENT.values())

RESPONSE_DOCUMENT: Final = "962"
"""BGM of CUSRES: 962, the customs response to a goods declaration (not the request's code)."""

TRANSPORT_DOCUMENT: Final[dict[TransportMode, str]] = {
    TransportMode.MARITIME: "705",
    TransportMode.RIVER: "705",
    TransportMode.POSTAL: "750",
    TransportMode.AIR: "740",
    TransportMode.RAIL: "720",
    TransportMode.ROAD: "730",
    TransportMode.PIPELINE: "705",
    TransportMode.OTHER: "705",
}
"""Bill of lading 705, despatch note (post parcels) 750, air waybill 740, rail 720, road 730."""

TRANSPORT_DOCUMENTS: Final = frozenset(TRANSPORT_DOCUMENT.values())

INSURANCE_DOCUMENT: Final = "SEG"
"""Insurance policy or certificate: mutually defined ``SEG:TDD:ZZZ`` (no D.96B code used)."""

LIST_DOCUMENTS: Final = "TDD"
"""1131 for mutually defined document names (insurance, control documents)."""

TRANSPORT_DOC_NAME: Final[dict[str, str]] = {
    "1": "DIRECTO",
    "2": "CONSOLIDADO",
    "3": "CONSOLIDADO 1 A 1",
}
"""1000 document name of a transport document: SUNAT's tipo de documento de transporte."""

ELECTRONIC_INVOICE_NAME: Final = "FACTURA ELECTRONICA"
"""1000 document name of an invoice issued or transmitted by electronic means."""

# -- 2005 date/time qualifiers ------------------------------------------------------------------

DATE_INVOICE: Final = "3"
DATE_DESPATCH: Final = "11"
DATE_EXPIRY: Final = "36"
DATE_ARRIVAL_ESTIMATED: Final = "132"
DATE_DOCUMENT: Final = "137"
DATE_ISSUE: Final = "182"
DATE_END: Final = "206"
DATE_FORMAT: Final = "102"
"""2379: CCYYMMDD."""
TIMESTAMP_FORMAT: Final = "304"
"""2379: CCYYMMDDHHMMSSZZZ; this gateway writes UTC as the zone."""

# -- 3035 party qualifiers ----------------------------------------------------------------------

PARTY_IMPORTER: Final = "IM"
PARTY_EXPORTER: Final = "EX"
PARTY_CONSIGNEE: Final = "CN"
PARTY_SUPPLIER: Final = "SU"
PARTY_AGENT: Final = "AE"
"""Declarant's agent/representative: the customs broker (despachador de aduana)."""
PARTY_GUARANTEE: Final = "ZZZ"
"""FII party qualifier for the guarantee account (art. 160): mutually defined."""

# -- 3227 location qualifiers -------------------------------------------------------------------

LOCATION_STORAGE: Final = "14"
"""Goods item storage location: the temporary warehouse (CODI_ALMA)."""
LOCATION_CLEARANCE: Final = "22"
"""Customs office of clearance: the aduana de despacho."""
LOCATION_ORIGIN: Final = "27"
LOCATION_DESTINATION: Final = "28"

# -- 5025 monetary amounts ----------------------------------------------------------------------

AMOUNT_ITEM: Final = "38"
"""Invoice item amount: a series' FOB value."""
AMOUNT_INVOICE: Final = "39"
"""Invoice total amount: an invoice's amount, and the declaration's total FOB value."""
AMOUNT_CUSTOMS_VALUE: Final = "40"
"""Customs value: CIF."""
AMOUNT_FREIGHT: Final = "64"
AMOUNT_INSURANCE: Final = "157"
"""Insurance value."""
DOLLARS: Final = "USD"

# -- measures -----------------------------------------------------------------------------------

MEASURE_WEIGHTS: Final = "WT"
MEASURE_CUSTOMS: Final = "AAF"
"""6311 customs line item measurement (the unit of measure of a series)."""
WEIGHT_GROSS: Final = "G"
WEIGHT_NET: Final = "AAL"
WEIGHT_GROSS_TOTAL: Final = "AAD"
WEIGHT_NET_TOTAL: Final = "AAC"
KILOGRAMS: Final = "KGM"

# -- other qualifiers ---------------------------------------------------------------------------

TRANSPORT_MAIN_CARRIAGE: Final = "20"
EQUIPMENT_CONTAINER: Final = "CN"
TEXT_GOODS: Final = "AAA"
TEXT_GENERAL: Final = "AAI"
TEXT_ERROR: Final = "AAO"
REFERENCE_DECLARATION: Final = "AAE"
"""Goods declaration number: the preceding declaration (box 7.3) and the number assigned."""
REFERENCE_BILL_OF_LADING: Final = "BM"
REFERENCE_AIR_WAYBILL: Final = "AWB"
REFERENCE_INVOICE: Final = "IV"
REFERENCE_PREVIOUS_MESSAGE: Final = "ACW"
"""CUSRES: the message reference (0062) of the CUSDEC answered."""
REFERENCE_OWN: Final = "ZZZ"
"""Mutually defined: the agent's reference as the heading RFF group that holds PAC (D.96B
keeps PAC under an RFF group), and in CUSRES the interchange control reference (0020) of the
CUSDEC answered (D.96B's 1153 has no code for an interchange reference)."""
CONTACT_INFORMATION: Final = "IC"
CHANNEL_FAX: Final = "FX"
CHANNEL_EMAIL: Final = "EM"
COUNT_ITEMS: Final = "5"
"""6069: number of customs item detail lines."""
MESSAGE_ORIGINAL: Final = "9"
RESPONSE_ACCEPTED: Final = "AP"
RESPONSE_REJECTED: Final = "RE"
SECTION_HEADING: Final = "1"
SECTION_ITEM: Final = "10"
"""1049: customs item detail section of CUSDEC."""

TRANSPORT_MODE_CODE: Final[dict[TransportMode, str]] = {
    TransportMode.MARITIME: "1",
    TransportMode.RIVER: "8",
    TransportMode.POSTAL: "5",
    TransportMode.AIR: "4",
    TransportMode.RAIL: "2",
    TransportMode.ROAD: "3",
    TransportMode.PIPELINE: "7",
    TransportMode.OTHER: "9",
}
"""SUNAT's vía de transporte -> UN/ECE Recommendation 19 (8067)."""

TRANSPORT_MODE_BY_CODE: Final[dict[str, TransportMode]] = {
    code: mode for mode, code in TRANSPORT_MODE_CODE.items()
}

# -- mutually defined code lists (1131, agency ZZZ) ---------------------------------------------

LIST_REGIME: Final = "117"
"""UN 1131 code list qualifier: customs procedure (SUNAT's régimen)."""
LIST_REGIME_OLD: Final = "RGM"
LIST_MODALITY: Final = "MOD"
LIST_ARRIVAL_POINT: Final = "PLL"
LIST_ARRIVAL_OPTION: Final = "OPL"
LIST_CATEGORY: Final = "INC"
LIST_SUBPARTIDA: Final = "108"
"""UN 1131 code list qualifier: tariff (SUNAT's subpartida nacional)."""
LIST_SUBPARTIDA_OLD: Final = "SPN"
"""What this guide wrote before it used the UN qualifiers; still read."""
LIST_SWORN_STATEMENT: Final = "DJR"
LIST_ANTICIPADO_EXCEPTION: Final = "EXA"
"""Inciso of art. 62A that exempts a DUA from the anticipado modality."""
LIST_GOODS_STATE: Final = "EST"
LIST_TPROD: Final = "TPR"
LIST_BOX_7_24: Final = "C24"
LIST_CHANNEL: Final = "CNL"
LIST_SEVERITY: Final = "SEV"
LIST_RULE: Final = "REG"
"""ERC 9321 list: the gateway's rule and error codes (docs/edifact.md, cusres.error_code)."""
LIST_FINDING_PART: Final = "PRT"

YES: Final = "S"
NO: Final = "N"

CHANNEL_CODE: Final[dict[str, str]] = {"verde": "VER", "naranja": "NAR", "rojo": "ROJ"}
SEVERITY_CODE: Final[dict[str, str]] = {"error": "ERR", "warning": "OBS"}

PART_RULE: Final = "REG"
PART_FIELD: Final = "CAM"
PART_MESSAGE: Final = "MSG"
PART_CITATION: Final = "CIT"
