"""The demonstration accounts ``serve --demo`` creates when they are missing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from config.offices import Office
from gateway.directory import intake_address
from mailboxes.schema import Role
from mailboxes.store import Store

__all__ = ["DEMO_AGENTS", "DEMO_PASSWORD", "DemoAgent", "ensure_demo_accounts"]

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo credential, printed in the README


@dataclass(frozen=True)
class DemoAgent:
    address: str
    agent_code: str


DEMO_AGENTS = (
    DemoAgent("agente1@agencias.pe", "4821"),
    DemoAgent("agente2@agencias.pe", "5307"),
)


async def ensure_demo_accounts(store: Store, offices: Iterable[Office], domain: str) -> list[str]:
    """Create the offices' intake accounts and the demo agents; return the addresses created."""
    created: list[str] = []
    wanted = [
        (intake_address(office.code, domain), Role.OFFICE, None, office.code) for office in offices
    ] + [(agent.address, Role.AGENT, agent.agent_code, None) for agent in DEMO_AGENTS]
    for address, role, agent_code, office_code in wanted:
        if await store.get_account(address) is None:
            await store.create_account(
                address, DEMO_PASSWORD, role=role, agent_code=agent_code, office_code=office_code
            )
            created.append(address)
    return created
