"""The rules of this gateway, by topic, and the catalog that runs them.

Adding a rule is adding a function with ``@rule(...)`` to a topic module and its name to that
module's ``RULES``; a new topic module is added to ``CATALOG`` below.
"""

from __future__ import annotations

from config.reference import ReferenceData, shipped_reference
from validators.registry import RuleRegistry
from validators.rules import (
    authorizations,
    charges,
    consignment,
    countries,
    deadlines,
    documents,
    identity,
    invoices,
    modality,
    narcotics,
    office,
    pipeline,
    prior_dispatches,
    regime,
    restricted,
    structure,
    vehicles,
    vigente,
)

__all__ = ["CATALOG", "catalog_for"]

CATALOG = RuleRegistry(
    [
        *office.RULES,
        *regime.RULES,
        *structure.RULES,
        *countries.RULES,
        *identity.RULES,
        *modality.RULES,
        *authorizations.RULES,
        *deadlines.RULES,
        *consignment.RULES,
        *documents.RULES,
        *invoices.RULES,
        *restricted.RULES,
        *narcotics.RULES,
        *vehicles.RULES,
        *prior_dispatches.RULES,
        *vigente.RULES,
        *charges.RULES,
        *pipeline.RULES,
    ]
)
"""Every rule, in the order their findings are reported."""


def catalog_for(reference: ReferenceData) -> RuleRegistry:
    """The catalog with its dates taken from ``reference``'s office schedules (the shipped
    catalog itself when ``reference`` is the shipped data)."""
    if reference is shipped_reference():
        return CATALOG
    return RuleRegistry(item.rescheduled(reference) for item in CATALOG)
