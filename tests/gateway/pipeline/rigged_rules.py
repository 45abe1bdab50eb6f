"""Rule catalogs with a bug planted, for the worker's and the pool's failure tests.

A module of its own, importing only the validators: the factories are sent to the worker
processes by name, and each process that uses one imports this module (a test module would
bring the store, the test tools and pytest with it, a second per process).
"""

from __future__ import annotations

import os
import time
from datetime import date

from config.reference import ReferenceData
from validators.registry import Rule, RuleRegistry
from validators.rules import CATALOG

__all__ = ["aborting_rules", "dying_rules", "exploding_rules", "slow_rules"]


class _Rigged(RuleRegistry):
    """The catalog, except that office 235's declarations meet ``fault``."""

    def __init__(self) -> None:
        super().__init__(list(CATALOG))

    def in_force(self, document_type: str, as_of: date, office: str) -> tuple[Rule, ...]:
        if office == "235":
            self.fault()
        return super().in_force(document_type, as_of, office)

    def fault(self) -> None:
        raise NotImplementedError


class ExplodingRegistry(_Rigged):
    """A bug in the engine."""

    def fault(self) -> None:
        raise RuntimeError("engine bug")


class DyingRegistry(_Rigged):
    """The process reading them dies (as a crash in a C extension, or the kernel's
    out-of-memory killer, would)."""

    def fault(self) -> None:
        os._exit(70)


class AbortingRegistry(_Rigged):
    """The process reading them aborts, as a Rust extension (pydantic's core) does when an
    allocation fails under the process's memory limit."""

    def fault(self) -> None:
        os.abort()


class SlowRegistry(_Rigged):
    """Reading them takes a minute."""

    def fault(self) -> None:
        time.sleep(60)


def exploding_rules(reference: ReferenceData) -> RuleRegistry:
    return ExplodingRegistry()


def dying_rules(reference: ReferenceData) -> RuleRegistry:
    return DyingRegistry()


def aborting_rules(reference: ReferenceData) -> RuleRegistry:
    return AbortingRegistry()


def slow_rules(reference: ReferenceData) -> RuleRegistry:
    return SlowRegistry()
