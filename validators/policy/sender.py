"""TD-SENDER when the sender is no agent at all: every declaration it sent is rejected.

The engine skips TD-SENDER when the sender has no agent code (offline validation has none),
so the answering step adds this finding for a sender that has an account but no agent code.
"""

from __future__ import annotations

from edi_formats.models import DUA, OE
from validators.context import RuleContext
from validators.findings import Finding, Severity
from validators.rules import CATALOG

__all__ = ["not_an_agent"]


def _citation(declaration: DUA | OE, context: RuleContext) -> str:
    """TD-SENDER's citation in force for the declaration (the 1997 one before INTA-PG.01-A)."""
    versions = CATALOG.versions("TD-SENDER")
    for version in versions:
        if version.in_force(declaration.document_type, context.as_of, declaration.office):
            return version.citation
    return versions[0].citation


def not_an_agent(declaration: DUA | OE, context: RuleContext) -> Finding:
    """TD-SENDER when the sender has no agent code at all (the engine skips it then)."""
    return Finding(
        rule_id="TD-SENDER",
        severity=Severity.ERROR,
        field="agent_code",
        message=(
            f"Casilla Despachador: la declaración del despachador {declaration.agent_code} fue "
            "transmitida desde una cuenta que no es de un despachador de aduana. Solo los "
            "despachadores transmiten declaraciones, con su clave electrónica."
        ),
        citation=_citation(declaration, context),
    )
