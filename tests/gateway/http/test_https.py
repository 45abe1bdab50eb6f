"""The API and the console over TLS: the mail ports' certificate, verified against the CA.

httpx trusts only the node's own CA file, as the mail TLS tests do with smtplib and
poplib; a client speaking plain HTTP to the TLS port is turned away without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from config.clock import FixedClock
from config.settings import Settings, load_settings
from gateway.demo import DEMO_PASSWORD
from gateway.http.tokens import issue_token
from gateway.node import Node, NodeStartError
from tests.conftest import FAST_HASHER

OFFICE = "aduana-118@aduanas.gob.pe"


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "node",
        "smtp_port": 0,
        "pop3_port": 0,
        "imap_port": 0,
        "http_port": 0,
        "https_port": 0,
        "host_all_offices": True,
    }
    return Settings(**(values | overrides))


@pytest.fixture
async def node(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Node]:
    running = Node(_settings(tmp_path), clock=clock, hasher=FAST_HASHER)
    await running.start(demo=True)
    try:
        yield running
    finally:
        await running.stop()


def trusting(node: Node) -> ssl.SSLContext:
    """Python's default client checks, trusting only the node's CA."""
    assert node.tls is not None and node.tls.ca is not None
    return ssl.create_default_context(cafile=str(node.tls.ca.ca_file))


def https(node: Node, user: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"https://127.0.0.1:{node.port('https')}",
        verify=trusting(node),
        auth=(user, DEMO_PASSWORD) if user else None,
        timeout=30,
    )


def test_https_is_off_by_default_and_takes_a_port_or_off() -> None:
    assert Settings.model_fields["https_port"].default is None
    assert load_settings(https_port="8443").https_port == 8443
    assert load_settings(https_port="off").https_port is None


async def test_the_api_and_the_console_over_tls(node: Node) -> None:
    async with https(node) as client:
        document = await client.get("/api/openapi.json")
        assert document.status_code == 200
        assert "/api/declarations" in document.json()["paths"]
        form = await client.get("/login")
        assert form.status_code == 200
        assert 'name="usuario"' in form.text
        assert "secure" in form.headers["set-cookie"].lower()  # the CSRF cookie stays on TLS
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        login = {"usuario": OFFICE, "clave": DEMO_PASSWORD, "csrf": token.group(1)}
        answer = await client.post("/login", data=login)
        assert answer.status_code == 303
        assert "secure" in answer.headers["set-cookie"].lower()
        assert (await client.get("/declaraciones")).status_code == 200
    async with https(node, "agente1@agencias.pe") as agent:
        assert (await agent.get("/api/declarations")).status_code == 200
    assert node.tls is not None
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        async with httpx.AsyncClient(verify=ssl.create_default_context()) as stranger:
            await stranger.get(f"https://127.0.0.1:{node.port('https')}/api/openapi.json")


def _plain_request(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        return received


async def test_plain_http_to_the_tls_port_is_refused_quietly(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(20):
        answer = await asyncio.to_thread(_plain_request, node.port("https"))
        assert not answer.startswith(b"HTTP/")  # at most a TLS alert, then the close
    async with https(node) as client:
        assert (await client.get("/api/openapi.json")).status_code == 200
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert noisy == []
    assert "Traceback" not in caplog.text


async def test_plain_http_keeps_working_beside_https(node: Node) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.port('http')}") as plain:
        assert (await plain.get("/api/openapi.json")).status_code == 200


async def test_a_busy_https_port_is_a_one_line_start_error(
    tmp_path: Path, clock: FixedClock
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        node = Node(_settings(tmp_path, https_port=port), clock=clock, hasher=FAST_HASHER)
        with pytest.raises(NodeStartError, match=rf"cannot listen for HTTPS on 127.0.0.1:{port}"):
            await node.start()
    assert node.http is None and node.store is None


async def test_with_auth_requires_tls_passwords_and_tokens_go_over_https_only(
    tmp_path: Path, clock: FixedClock
) -> None:
    """As the mail ports refuse AUTH before TLS under ``auth_requires_tls``, the plain HTTP
    port refuses Basic passwords, bearer tokens and the console's login form; HTTPS takes
    them. What needs no credential (the OpenAPI document, the login form) stays readable."""
    settings = _settings(tmp_path, auth_requires_tls=True, http_token_secret="s" * 32)
    node = Node(settings, clock=clock, hasher=FAST_HASHER)
    await node.start(demo=True)
    try:
        token = issue_token("s" * 32, OFFICE, seconds=600)
        base = f"http://127.0.0.1:{node.port('http')}"
        async with httpx.AsyncClient(base_url=base) as plain:
            assert (await plain.get("/api/openapi.json")).status_code == 200
            for credentials in (
                {"auth": (OFFICE, DEMO_PASSWORD)},
                {"headers": {"Authorization": f"Bearer {token}"}},
            ):
                refused = await plain.get("/api/declarations", **credentials)  # type: ignore[arg-type]
                assert refused.status_code == 403, refused.text
                assert refused.headers["content-type"] == "application/problem+json"
                assert "HTTPS" in refused.json()["detail"]
            form = await plain.get("/login")
            assert form.status_code == 200 and "HTTPS" in form.text
            token_field = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert token_field is not None
            login = {"usuario": OFFICE, "clave": DEMO_PASSWORD, "csrf": token_field.group(1)}
            refused_login = await plain.post("/login", data=login)
            assert refused_login.status_code == 403
            assert "set-cookie" not in refused_login.headers
        async with https(node, OFFICE) as secure:
            assert (await secure.get("/api/declarations")).status_code == 200
        async with https(node) as secure:
            bearer = await secure.get(
                "/api/declarations", headers={"Authorization": f"Bearer {token}"}
            )
            assert bearer.status_code == 200
    finally:
        await node.stop()
