from __future__ import annotations

from datetime import date

import pytest

from config import OfficeRegistry
from tests.validators.helpers import findings_of
from validators.engine import RuleContext
from validators.samples import sample_declaration

AS_OF = date(2025, 3, 3)


def test_addressed_mailbox_must_be_the_declarations_office(offices: OfficeRegistry) -> None:
    declaration = sample_declaration("dua", office="118", as_of=AS_OF)
    same = RuleContext(as_of=AS_OF, offices=offices, addressed_office="118")
    other = RuleContext(as_of=AS_OF, offices=offices, addressed_office="235")
    assert findings_of(declaration, same, "TD-OFFICE") == []
    (finding,) = findings_of(declaration, other, "TD-OFFICE")
    assert "buzón de la aduana 235" in finding.message and finding.field == "office"


def test_office_before_its_teledespacho_start_is_rejected(offices: OfficeRegistry) -> None:
    day = date(1997, 3, 3)
    ctx = RuleContext(as_of=day, offices=offices)
    callao = sample_declaration("oe", office="118", as_of=day)
    tacna = sample_declaration("oe", office="172", as_of=day)
    assert findings_of(callao, ctx, "TD-OFFICE") == []
    (finding,) = findings_of(tacna, ctx, "TD-OFFICE")
    assert "desde el 01/01/1998" in finding.message
    later = RuleContext(as_of=date(1998, 1, 1), offices=offices)
    assert findings_of(sample_declaration("oe", office="172", as_of=day), later, "TD-OFFICE") == []


CENTRALIZED_1997 = ["127", "082", "154", "190", "181", "055", "091", "217", "271"]


@pytest.mark.parametrize("office", CENTRALIZED_1997)
def test_the_nine_centralized_offices_already_operated_in_1997(
    offices: OfficeRegistry, office: str
) -> None:
    """Seed 000: "At the present time, the Customs Offices of Pisco, Salaverry, Arequipa,
    Cuzco, Puno, Chiclayo, Chimbote, Pucallpa and Tarapoto are already operating with the
    centralized method". They take declarations from 17.02.1997, the first date the seed
    gives; not the day before."""
    day = date(1997, 3, 3)
    declaration = sample_declaration("dua", office=office, as_of=day)
    assert findings_of(declaration, RuleContext(as_of=day, offices=offices), "TD-OFFICE") == []
    before = RuleContext(as_of=date(1997, 2, 16), offices=offices)
    (finding,) = findings_of(declaration, before, "TD-OFFICE")
    assert "desde el 17/02/1997" in finding.message


def test_headquarters_is_no_dispatch_office(offices: OfficeRegistry) -> None:
    """Seed 000: "the Network Server of the customs office will be physically located in the
    Customs Headquarters": Headquarters hosts the mail server of the centralized offices and
    dispatches no goods, so a declaration naming office 000 is refused with that reason."""
    for day in (date(1998, 3, 3), AS_OF):
        ctx = RuleContext(as_of=day, offices=offices, addressed_office="000")
        declaration = sample_declaration("dua", office="118", as_of=day)
        hq = declaration.model_copy(update={"office": "000"})
        (finding,) = findings_of(hq, ctx, "TD-OFFICE")
        assert "no es una aduana de despacho" in finding.message and finding.field == "office"


def test_nothing_is_accepted_before_teledespacho_existed(offices: OfficeRegistry) -> None:
    day = date(1996, 12, 2)
    ctx = RuleContext(as_of=day, offices=offices)
    assert findings_of(sample_declaration("dua", as_of=day), ctx, "TD-OFFICE")


def test_sender_must_be_the_declarations_agent(offices: OfficeRegistry) -> None:
    declaration = sample_declaration("dua", agent_code="4821", as_of=AS_OF)

    def sender(code: str | None) -> RuleContext:
        return RuleContext(as_of=AS_OF, offices=offices, sender_agent_code=code)

    assert findings_of(declaration, sender("4821"), "TD-SENDER") == []
    assert findings_of(declaration, sender(None), "TD-SENDER") == []
    (finding,) = findings_of(declaration, sender("9001"), "TD-SENDER")
    assert finding.field == "agent_code" and "9001" in finding.message
