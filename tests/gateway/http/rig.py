"""An HTTP client for the node under test, logged in as a demo account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from config.settings import Settings
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node

ADMIN = "aduana-000@aduanas.gob.pe"
"""The Headquarters account, made administrator by ``rig_settings``."""


def rig_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A demo node on free ports with the test rig's administration on, ``ADMIN`` its
    administrator; ``overrides`` are further settings."""
    return Settings(
        data_dir=tmp_path / "node",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        http_port=0,
        host_all_offices=True,
        http_admins=[ADMIN],
        http_test_rig=True,
        **overrides,
    )


def client(node: Node, user: str | None = "agente1@agencias.pe") -> httpx.AsyncClient:
    auth = (user, DEMO_PASSWORD) if user else None
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.port('http')}", auth=auth, timeout=30
    )
