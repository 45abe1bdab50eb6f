"""The rules of this gateway, by topic, and the catalog that runs them.

Adding a rule is adding a function with ``@rule(...)`` to a topic module and its name to that
module's ``RULES``; a new topic module is added to ``CATALOG`` below.
"""

from __future__ import annotations

from validators.registry import RuleRegistry
from validators.rules import (
    consignment,
    deadlines,
    identity,
    modality,
    office,
    pipeline,
    regime,
    structure,
)

__all__ = ["CATALOG"]

CATALOG = RuleRegistry(
    [
        *office.RULES,
        *regime.RULES,
        *structure.RULES,
        *identity.RULES,
        *modality.RULES,
        *deadlines.RULES,
        *consignment.RULES,
        *pipeline.RULES,
    ]
)
"""Every rule, in the order their findings are reported."""
