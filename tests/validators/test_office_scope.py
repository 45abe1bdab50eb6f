"""INTA-PG.01-A applies at the offices its scope lists, not everywhere (seed 004, I and IV)."""

from __future__ import annotations

from datetime import date

import pytest

from config import OfficeRegistry
from tests.validators.helpers import findings_of, rule_ids
from validators.engine import RuleContext
from validators.rules import CATALOG
from validators.samples import break_rule, sample_declaration

AS_OF = date(2025, 3, 3)
OUTSIDE = ["046", "163", "145", "127", "082", "091", "262"]
INSIDE = ["154", "055", "190", "226", "217", "280", "181", "172", "271", "019", "299", "118"]


@pytest.mark.parametrize("office", OUTSIDE)
def test_offices_outside_the_scope_are_not_judged_by_inta_pg01a(
    offices: OfficeRegistry, office: str
) -> None:
    """Seed 004 I Objetivo: the procedure is for "las intendencias de aduana de Arequipa,
    Chiclayo, Cusco, Iquitos, Postal del Callao, Pucallpa, Puerto Maldonado, Puno, Tacna,
    Tarapoto, Tumbes, Marítima y Aérea del Callao y la Agencia Aduanera La Tina". A modality
    code it defines is not asked of a DUA at Paita, Ilo, Mollendo, Pisco, Salaverry, Chimbote
    or Desaguadero."""
    declaration = break_rule(sample_declaration("dua", office=office, as_of=AS_OF), "MOD-CODE")
    ctx = RuleContext(as_of=AS_OF, offices=offices)
    assert findings_of(declaration, ctx, "MOD-CODE") == []
    for rule_id in ("MOD-CODE", "DL-ANTICIPADO", "TASA", "ID-NORUC", "VIGENTE"):
        (version,) = CATALOG.versions(rule_id)
        assert not version.in_force("DUA", AS_OF, office)
    _, draw, by_share, _ = CATALOG.versions("CH-ASSIGN")
    assert draw.in_force("DUA", AS_OF, office) and not by_share.in_force("DUA", AS_OF, office)


@pytest.mark.parametrize("office", INSIDE)
def test_offices_inside_the_scope_are(offices: OfficeRegistry, office: str) -> None:
    """Seed 004 I Objetivo names these offices; the same broken modality is refused there."""
    declaration = break_rule(sample_declaration("dua", office=office, as_of=AS_OF), "MOD-CODE")
    assert "MOD-CODE" in rule_ids(declaration, RuleContext(as_of=AS_OF, offices=offices))
