"""``teledispatch serve --demo`` as a process prints the console's URL, and the URL works."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

FAST_ENV = {"TELEDISPATCH_ARGON2_MEMORY_KIB": "8", "TELEDISPATCH_ARGON2_TIME_COST": "1"}


async def test_demo_prints_the_console_url(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--demo",
        "--data-dir", str(tmp_path / "data"),
        "--smtp-port", "0", "--pop3-port", "0", "--imap-port", "0", "--http-port", "0",
        "--https-port", "0",
        env={**os.environ, **FAST_ENV},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        found = re.match(r"Consola: (http://127\.0\.0\.1:\d+/) ", line)
        assert found is not None, line
        async with asyncio.timeout(30):  # with HTTPS on, its URL too
            tls_line = (await process.stdout.readline()).decode()
        assert re.match(r"Consola \(HTTPS\): https://127\.0\.0\.1:\d+/$", tls_line), tls_line
        async with httpx.AsyncClient(base_url=found.group(1)) as http:
            home = await http.get("/")
            assert home.status_code == 303
            assert home.headers["location"] == "/login"
            login = await http.get("/login")
            assert login.status_code == 200
            assert "Ingreso a la consola" in login.text
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
