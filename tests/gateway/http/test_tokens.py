"""API tokens: issued by ``teledispatch account token``, accepted as Bearer, refused altered."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from config.clock import FixedClock
from config.settings import Settings
from gateway.http.tokens import InvalidToken, issue_token, read_token
from gateway.node import Node
from tests.conftest import FAST_HASHER

SECRET = "secreto-de-prueba"
AGENT = "agente1@agencias.pe"


def test_a_token_names_its_account_until_it_expires() -> None:
    token = issue_token(SECRET, AGENT, seconds=60, now=1000.0)
    assert read_token(SECRET, token, now=1059.0) == AGENT
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, now=1060.0)
    with pytest.raises(InvalidToken):
        read_token("otro secreto", token, now=1000.0)
    prefix, _payload, signature = token.split(".")
    forged = issue_token(SECRET, "aduana-000@aduanas.gob.pe", seconds=60, now=1000.0)
    with pytest.raises(InvalidToken):  # another payload under this signature
        read_token(SECRET, f"{prefix}.{forged.split('.')[1]}.{signature}", now=1000.0)
    for junk in ("", "td1", "td1.x.y.z", "td2.a.b", "x" * 2000):
        with pytest.raises(InvalidToken):
            read_token(SECRET, junk, now=1000.0)


@pytest.fixture
async def node_with_tokens(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    settings = Settings(
        data_dir=tmp_path / "node",
        smtp_port=0,
        pop3_port=0,
        imap_port=0,
        http_port=0,
        host_all_offices=True,
        http_token_secret=SECRET,  # type: ignore[arg-type]
    )
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        yield node
    finally:
        await node.stop()


async def _cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "account", "token", *args,
        env={**os.environ, "TELEDISPATCH_HTTP_TOKEN_SECRET": SECRET},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_cli_token_is_accepted_as_bearer(node_with_tokens: Node, tmp_path: Path) -> None:
    code, out, err = await _cli(AGENT, "--days", "1", "--data-dir", str(tmp_path / "node"))
    assert code == 0, err
    token = out.strip()
    base = f"http://127.0.0.1:{node_with_tokens.port('http')}"
    async with httpx.AsyncClient(base_url=base) as http:
        ok = await http.get("/api/declarations", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        bad = await http.get(
            "/api/declarations", headers={"Authorization": f"Bearer {token[:-2]}xx"}
        )
        assert bad.status_code == 401
        assert bad.headers["content-type"] == "application/problem+json"
    code, _, err = await _cli("nadie@agencias.pe", "--data-dir", str(tmp_path / "node"))
    assert code != 0 and "no account" in err
