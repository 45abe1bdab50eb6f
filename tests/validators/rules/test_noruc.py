"""ID-NORUC: importers without RUC, the single operation and the year's history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from config import OfficeRegistry
from edi_formats.codes import PartyDocType
from edi_formats.models import DUA
from tests.validators.helpers import change, findings_of, sample_dua
from validators.engine import RuleContext
from validators.facts import ImportHistory
from validators.samples import break_rule

AS_OF = date(2025, 3, 3)


@dataclass
class History:
    """Facts as the store would give them: FOBs of the importer's imports by year."""

    fobs: dict[tuple[str, str, int], tuple[Decimal, ...]] = field(default_factory=dict)

    def imports_in_year(self, doc_type: str, doc_number: str, year: int) -> ImportHistory:
        return ImportHistory(year, self.fobs.get((doc_type, doc_number, year), ()))


def _importing(fob: Decimal) -> DUA:
    """The sample DUA as one series worth ``fob``, imported by a person with a DNI."""
    dua = sample_dua()
    zero = Decimal(0)
    item = change(dua.series[0], fob=fob, freight=zero, insurance=zero, cif=fob)
    totals = change(
        dua.totals,
        fob=fob,
        freight=zero,
        insurance=zero,
        cif=fob,
        gross_weight=item.gross_weight,
        net_weight=item.net_weight,
        packages=item.packages,
    )
    dni = "45871236"
    documents = tuple(change(d, consignee_doc_number=dni) for d in dua.transport.documents)
    return change(
        dua,
        series=(item,),
        totals=totals,
        importer=change(dua.importer, doc_type=PartyDocType.DNI, doc_number=dni),
        transport=change(dua.transport, documents=documents),
    )


def _ctx(offices: OfficeRegistry, *fobs: int) -> RuleContext:
    history = History({("DNI", "45871236", AS_OF.year): tuple(Decimal(f) for f in fobs)})
    return RuleContext(as_of=AS_OF, offices=offices, facts=history)


def test_more_than_3000_without_ruc_is_refused_even_offline(ctx: RuleContext) -> None:
    broken = break_rule(sample_dua(), "ID-NORUC")
    (finding,) = findings_of(broken, ctx, "ID-NORUC")
    assert finding.field == "importer.doc_type" and "US$ 3,000.00" in finding.message
    assert "inscribirse en el RUC" in finding.message


def test_importers_with_ruc_are_not_judged(offices: OfficeRegistry) -> None:
    assert findings_of(sample_dua(), _ctx(offices, 500, 500, 500, 500), "ID-NORUC") == []


@pytest.mark.parametrize(
    ("fob", "earlier", "refused"),
    [
        (800, (), False),
        (800, (500, 900), False),
        (800, (500, 900, 100), True),  # a) at most three a year
        (1000, (2000,), True),  # the year's single larger import was made
        (2500, (), False),  # b) once a year, over 1,000 up to 3,000
        (2500, (300,), True),  # b) only alone in its year
        (3000, (), False),
    ],
)
def test_the_yearly_limits(
    offices: OfficeRegistry, fob: int, earlier: tuple[int, ...], refused: bool
) -> None:
    findings = findings_of(_importing(Decimal(fob)), _ctx(offices, *earlier), "ID-NORUC")
    assert bool(findings) is refused


def test_other_years_do_not_count(offices: OfficeRegistry) -> None:
    history = History({("DNI", "45871236", 2024): (Decimal(100),) * 5})
    ctx = RuleContext(as_of=AS_OF, offices=offices, facts=history)
    assert findings_of(_importing(Decimal(500)), ctx, "ID-NORUC") == []


def test_id_noruc_starts_with_inta_pg01a(offices: OfficeRegistry) -> None:
    broken = break_rule(sample_dua(), "ID-NORUC")
    before = RuleContext(as_of=date(2010, 9, 19), offices=offices)
    assert findings_of(broken, before, "ID-NORUC") == []  # 118 joined on 2010-09-20
