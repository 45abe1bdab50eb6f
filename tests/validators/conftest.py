from __future__ import annotations

from datetime import date

import pytest

from config import OfficeRegistry, load_offices
from validators.engine import RuleContext

AS_OF = date(2025, 3, 3)


@pytest.fixture(scope="session")
def offices() -> OfficeRegistry:
    return load_offices()


@pytest.fixture
def ctx(offices: OfficeRegistry) -> RuleContext:
    return RuleContext(as_of=AS_OF, offices=offices)
