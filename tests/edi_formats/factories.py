"""Declarations for format tests: one with every part filled, one with only what is required."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from edi_formats.models import DUA, OE


def full_dua(series: int = 2) -> DUA:
    """A DUA using every record type of the flat layout, with accents and escapes."""
    return DUA.model_validate(
        {
            "office": "118",
            "regime": "10",
            "modality": {"code": "1-0", "arrival_point": "03", "arrival_option": "A"},
            "agent_code": "4821",
            "agent_reference": "REF-97/0001",
            "importer": {
                "doc_type": "RUC",
                "doc_number": "20100070970",
                "name": "IMPORTACIONES ÑANDÚ S.A.C.",
                "address": "Av. Argentina 1234 | Callao \\ Perú",
            },
            "transport": {
                "mode": "1",
                "manifest": {"office": "118", "year": 1997, "number": "123"},
                "documents": [
                    {
                        "number": "MSKU-BL-778",
                        "doc_type": "2",
                        "master_number": "MBL-1",
                        "manifest": {"office": "118", "year": 1997, "number": "124"},
                        "consignee_doc_number": "20100070970",
                    },
                    {"number": "HBL 2"},
                ],
                "containers": ["MSKU1234567", "TGHU7654321"],
                "arrival_date": date(1997, 3, 10),
                "discharge_end_date": date(1997, 3, 11),
            },
            "totals": {
                "fob": Decimal(1000) * series,
                "freight": Decimal("100.50") * series,
                "insurance": Decimal("10.25") * series,
                "cif": Decimal("1110.75") * series,
                "gross_weight": Decimal("500.000") * series,
                "net_weight": Decimal("450.5") * series,
                "packages": 10 * series,
            },
            "invoices": [
                {
                    "number": "F001-99",
                    "issued_on": date(1997, 2, 20),
                    "supplier": {"name": "Müller GmbH", "country": "DE", "address": "Köln"},
                    "currency": "DEM",
                    "amount": Decimal("1700.00"),
                    "electronic": True,
                    "supplier_fax": "+49 221 123456",
                    "supplier_email": "ventas@muller.de",
                },
                {"number": "F001-100"},
            ],
            "sworn_statement": False,
            "insurance": {
                "number": "POL-55",
                "issued_on": date(1997, 2, 21),
                "insurer": "La Positiva",
            },
            "guarantee_account": "GAR-0001",
            "observations_7_38": "Mercadería frágil; ¡no apilar!",
            "series": [
                {
                    "number": index,
                    "subpartida": "8471300000",
                    "description": f"Computadoras portátiles, lote {index}",
                    "origin_country": "US",
                    "quantity": Decimal("5.5"),
                    "unit": "U",
                    "fob": Decimal(1000),
                    "freight": Decimal("100.50"),
                    "insurance": Decimal("10.25"),
                    "cif": Decimal("1110.75"),
                    "gross_weight": Decimal("500.000"),
                    "net_weight": Decimal("450.5"),
                    "packages": 10,
                    "state": "N",
                    "tprod": "99",
                    "codes_7_24": ["20", "21"] if index == 1 else [],
                    "preceding_declaration": (
                        {"number": "118-1996-10-000123", "series": 3} if index == 1 else None
                    ),
                    "control_documents": (
                        [
                            {
                                "entity_code": "08",
                                "document_code": "01",
                                "number": "MTC-555",
                                "issued_on": date(1997, 1, 5),
                                "expires_on": date(1997, 7, 5),
                            },
                            {
                                "entity_code": "03",
                                "document_code": "02",
                                "number": "RS 1",
                                "issued_on": date(1997, 1, 1),
                            },
                        ]
                        if index == 1
                        else []
                    ),
                    "observations": "Ver carta \\ anexo" if index == 1 else None,
                }
                for index in range(1, series + 1)
            ],
        }
    )


def minimal_dua() -> DUA:
    """A DUA with only the required values."""
    return DUA.model_validate(
        {
            "office": "235",
            "regime": "10",
            "modality": {"code": "0-0"},
            "agent_code": "4821",
            "agent_reference": "R1",
            "importer": {"doc_type": "DNI", "doc_number": "12345678"},
            "transport": {"mode": "4"},
            "totals": {
                "fob": "0",
                "freight": "0",
                "insurance": "0",
                "cif": "0",
                "gross_weight": "0",
                "net_weight": "0",
                "packages": 0,
            },
        }
    )


def full_oe(series: int = 2) -> OE:
    """An O/E using every record type of its flat layout."""
    return OE.model_validate(
        {
            "office": "235",
            "regime": "40",
            "agent_code": "4821",
            "agent_reference": "OE-97-7",
            "exporter": {"doc_type": "RUC", "doc_number": "20100070970", "name": "Café Perú SAC"},
            "consignee": {"name": "Kaffee Import AG", "country": "DE"},
            "destination_country": "DE",
            "transport": {
                "mode": "4",
                "documents": [{"number": "AWB-123"}],
                "containers": [],
                "shipment_date": date(1997, 3, 5),
            },
            "totals": {
                "fob": Decimal("2500.00") * series,
                "gross_weight": Decimal(60) * series,
                "net_weight": Decimal(59) * series,
                "packages": 2 * series,
            },
            "invoices": [{"number": "001-4512", "issued_on": date(1997, 3, 1)}],
            "sworn_statement": True,
            "observations": "Embarque parcial",
            "series": [
                {
                    "number": index,
                    "subpartida": "0901119000",
                    "description": "Café verde sin tostar",
                    "origin_country": "PE",
                    "quantity": Decimal(60),
                    "unit": "KG",
                    "fob": Decimal("2500.00"),
                    "gross_weight": Decimal(60),
                    "net_weight": Decimal(59),
                    "packages": 2,
                    "state": "N",
                    "control_documents": [
                        {
                            "entity_code": "05",
                            "document_code": "03",
                            "number": "SENASA-1",
                            "issued_on": date(1997, 3, 1),
                        }
                    ],
                }
                for index in range(1, series + 1)
            ],
        }
    )
