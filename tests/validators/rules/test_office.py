from __future__ import annotations

from datetime import date

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
    arequipa = sample_declaration("oe", office="154", as_of=day)
    assert findings_of(callao, ctx, "TD-OFFICE") == []
    (finding,) = findings_of(arequipa, ctx, "TD-OFFICE")
    assert "desde el 01/01/1998" in finding.message
    later = RuleContext(as_of=date(1998, 1, 1), offices=offices)
    assert findings_of(sample_declaration("oe", office="154", as_of=day), later, "TD-OFFICE") == []


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
