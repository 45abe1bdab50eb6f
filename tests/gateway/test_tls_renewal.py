"""The served certificate is kept current while the node runs (``gateway.tls.renewal``).

Each test serves TLS on a real socket from the context the listeners share and asks, with a
real client, which certificate a new handshake presents.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from config.settings import Settings
from gateway.tls import ensure_local_ca, node_tls, server_context, server_names
from gateway.tls.renewal import CertificateRenewal
from tests.logs import told

HOST = "127.0.0.1"


async def _serve(context: ssl.SSLContext) -> AsyncIterator[int]:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, HOST, 0, ssl=context)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def presented(port: int, trust: ssl.SSLContext) -> x509.Certificate:
    """The certificate a new handshake on ``port`` presents."""
    _, writer = await asyncio.open_connection(HOST, port, ssl=trust, server_hostname="localhost")
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der)
    finally:
        writer.close()
        await writer.wait_closed()


async def test_the_own_certificate_near_its_end_is_renewed_and_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A node started 380 days ago with the certificate its CA issued then (17 days left):
    the next look issues a new one, and the next client is handed it, still trusting only
    the CA file it was given."""
    settings = Settings(data_dir=tmp_path)
    names = server_names(settings.greeting_name, settings.host)
    ca, server, _ = ensure_local_ca(
        settings.tls_dir, names, now=datetime.now(UTC) - timedelta(days=380)
    )
    context = server_context(server.cert_file, server.key_file)  # as the node loaded it then
    trust = ssl.create_default_context(cafile=str(ca.ca_file))
    renewal = CertificateRenewal(settings, context)
    async for port in _serve(context):
        before = await presented(port, trust)
        assert before.not_valid_after_utc < datetime.now(UTC) + timedelta(days=30)
        caplog.set_level(logging.INFO, logger="gateway.tls.renewal")
        assert await renewal.check() is True
        after = await presented(port, trust)
        assert after.serial_number != before.serial_number
        assert after.not_valid_after_utc > datetime.now(UTC) + timedelta(days=360)
        assert await renewal.check() is False  # nothing more to do until it nears its end
        assert await presented(port, trust) == after
    assert [r.levelname for r in caplog.records] == ["INFO"]


def _issue(directory: Path, when: datetime) -> tuple[bytes, bytes, Path]:
    """A certificate and key from a CA of their own under ``directory``; and its CA file."""
    ca, server, _ = ensure_local_ca(directory, ["localhost"], now=when)
    return server.cert_file.read_bytes(), server.key_file.read_bytes(), ca.ca_file


async def test_a_deployments_renewed_files_are_served_once_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The deployment's own tooling writes a renewed pair over the configured files: served
    from the next look on. A pair caught half written (the new certificate beside the old
    key) is told once and not served: the previous certificate stays."""
    now = datetime.now(UTC)
    first_cert, first_key, first_ca = _issue(tmp_path / "ca1", now - timedelta(days=1))
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(first_cert)
    key_file.write_bytes(first_key)
    settings = Settings(data_dir=tmp_path, tls_cert_file=cert_file, tls_key_file=key_file)
    tls = node_tls(settings)
    renewal = CertificateRenewal(settings, tls.context)
    next_cert, next_key, next_ca = _issue(tmp_path / "ca2", now)
    caplog.set_level(logging.INFO, logger="gateway.tls.renewal")
    async for port in _serve(tls.context):
        served = await presented(port, ssl.create_default_context(cafile=str(first_ca)))
        assert await renewal.check() is False  # unchanged: not even read again

        cert_file.write_bytes(next_cert)  # the key not yet written
        os.utime(cert_file, ns=(1, 1))
        assert await renewal.check() is False
        assert await renewal.check() is False  # told once, not at every look
        again = await presented(port, ssl.create_default_context(cafile=str(first_ca)))
        assert again == served

        key_file.write_bytes(next_key)
        assert await renewal.check() is True
        renewed = await presented(port, ssl.create_default_context(cafile=str(next_ca)))
        assert renewed.serial_number != served.serial_number
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert "previous certificate stays" in caplog.records[0].getMessage()


async def test_the_renewal_looks_on_its_own_until_stopped(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    names = server_names(settings.greeting_name, settings.host)
    _, server, _ = ensure_local_ca(
        settings.tls_dir, names, now=datetime.now(UTC) - timedelta(days=380)
    )
    context = server_context(server.cert_file, server.key_file)
    renewal = CertificateRenewal(settings, context, interval=0.01)
    with told("gateway.tls.renewal") as log:
        renewal.start()
        try:
            await log.said("issued a new server certificate")
        finally:
            await renewal.stop()
    assert [r.levelname for r in log.records] == ["INFO"]
