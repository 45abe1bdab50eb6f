"""An HTTP client for the node under test, logged in as a demo account."""

from __future__ import annotations

import httpx

from gateway.demo import DEMO_PASSWORD
from gateway.node import Node

ADMIN = "aduana-000@aduanas.gob.pe"
"""The Headquarters account, made administrator by the ``rig`` fixture's settings."""


def client(node: Node, user: str | None = "agente1@agencias.pe") -> httpx.AsyncClient:
    auth = (user, DEMO_PASSWORD) if user else None
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.port('http')}", auth=auth, timeout=30
    )
