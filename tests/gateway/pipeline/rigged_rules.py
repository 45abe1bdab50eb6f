"""Rule catalogs with a bug planted, for the worker's failure tests.

A module of its own, importing only the validators: the factories are sent to the worker
processes by name, and each process that uses one imports this module (a test module would
bring the store, the test tools and pytest with it, a second per process).
"""

from __future__ import annotations

import os
from datetime import date

from config.reference import ReferenceData
from validators.registry import Rule, RuleRegistry
from validators.rules import CATALOG

__all__ = ["dying_rules", "exploding_rules"]


class ExplodingRegistry(RuleRegistry):
    """The catalog, except that office 235's declarations hit a bug in the engine."""

    def __init__(self) -> None:
        super().__init__(list(CATALOG))

    def in_force(self, document_type: str, as_of: date, office: str) -> tuple[Rule, ...]:
        if office == "235":
            raise RuntimeError("engine bug")
        return super().in_force(document_type, as_of, office)


class DyingRegistry(RuleRegistry):
    """The catalog, except that office 235's declarations kill the process reading them
    (as a crash in a C extension, or the kernel's out-of-memory killer, would)."""

    def __init__(self) -> None:
        super().__init__(list(CATALOG))

    def in_force(self, document_type: str, as_of: date, office: str) -> tuple[Rule, ...]:
        if office == "235":
            os._exit(70)
        return super().in_force(document_type, as_of, office)


def exploding_rules(reference: ReferenceData) -> RuleRegistry:
    return ExplodingRegistry()


def dying_rules(reference: ReferenceData) -> RuleRegistry:
    return DyingRegistry()
