"""Several nodes on loopback: Headquarters (with the centralized offices), Callao Maritime,
Tacna, and any extra node a test adds (Pisco after a move, an ISP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config.clock import FixedClock
from config.logins import LoginLimits
from config.offices import load_offices, render_offices
from config.settings import Settings
from config.topology import Peer, PickupSource, RelayTiming, Topology
from gateway.demo import DEMO_AGENTS
from gateway.node import Node
from gateway.pickup.evidence import DnsLookup
from tests.conftest import FAST_HASHER
from tests.ports import free_port

HQ = "sede-central"
CALLAO = "callao-maritima"
TACNA = "tacna"
PISCO = "pisco"
NODES = (HQ, CALLAO, TACNA)
SECRET = "secreto-entre-nodos"
QUICK_PENALTY = LoginLimits(penalty_seconds=0.05, max_penalty_seconds=1.0)
FAST_RELAY = RelayTiming(
    first_retry_seconds=60, max_retry_seconds=600, give_up_hours=2, poll_seconds=0.05
)


@dataclass
class Cluster:
    """Nodes sharing one topology; each can be stopped and started again on its ports."""

    root: Path
    clock: FixedClock
    smtp_ports: dict[str, int] = field(default_factory=dict)
    running: dict[str, Node] = field(default_factory=dict)
    pickup: dict[str, list[PickupSource]] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    dkim_dns: DnsLookup | None = None

    def topology(self, name: str) -> Topology:
        return Topology(
            peers={
                other: Peer(smtp_port=port, secret=SECRET)  # type: ignore[arg-type]
                for other, port in self.smtp_ports.items()
                if other != name
            },
            agent_homes={agent.address: HQ for agent in DEMO_AGENTS},
            relay=FAST_RELAY,
            pickup=self.pickup.get(name, []),
        )

    @property
    def offices_file(self) -> Path:
        """The deployment's registry, shared by every node (``office move`` rewrites it)."""
        return self.root / "offices.toml"

    def add(self, name: str) -> None:
        self.smtp_ports.setdefault(name, free_port())

    async def start(self, name: str) -> Node:
        self.add(name)
        settings = Settings(
            node_name=name,
            data_dir=self.root / name,
            database_url=self.database_urls.get(name),
            smtp_port=self.smtp_ports[name],
            pop3_port=0,
            imap_port=0,
            smtps_port=None,
            pop3s_port=None,
            imaps_port=None,
            offices_file=self.offices_file,
            topology=self.topology(name),
            logins=QUICK_PENALTY,  # every node and test client shares 127.0.0.1 here
        )
        offices = load_offices(self.offices_file)
        node = Node(
            settings, clock=self.clock, hasher=FAST_HASHER, offices=offices, dkim_dns=self.dkim_dns
        )
        await node.start(demo=True)
        self.running[name] = node
        return node

    async def stop(self, name: str) -> None:
        await self.running.pop(name).stop()

    async def restart_all(self) -> None:
        """Every running node again, with the topology as it is now (after adding nodes)."""
        for name in list(self.running):
            await self.stop(name)
            await self.start(name)

    def __getitem__(self, name: str) -> Node:
        return self.running[name]


@pytest.fixture
async def cluster(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Cluster]:
    made = Cluster(root=tmp_path, clock=clock)
    made.offices_file.write_text(render_offices(load_offices()), "utf-8")
    for name in (*NODES, PISCO):  # Pisco's own node is configured, started on a move
        made.add(name)
    try:
        for name in NODES:
            await made.start(name)
        yield made
    finally:
        for name in list(made.running):
            await made.stop(name)
