"""``teledispatch send`` and ``fetch``: the agent's client, direct and dialled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from dialup_sim.phonebook import Address, Phonebook
from dialup_sim.proxy import ModemProxy, ProxySettings
from edi_formats.codec import WireFormat, render_declaration
from gateway.cli import main
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from validators.samples import sample_declaration

pytestmark = pytest.mark.slow

AGENT, OTHER = DEMO_AGENTS[0].address, DEMO_AGENTS[1].address


@contextlib.asynccontextmanager
async def dialup(node: Node, lines: int = 4) -> AsyncIterator[ModemProxy]:
    smtp = Address("127.0.0.1", node.port("smtp"))
    book = Phonebook({"0800": smtp, "0801": Address("127.0.0.1", node.port("pop3"))})
    proxy = ModemProxy(
        ProxySettings(
            listen=Address("127.0.0.1", 0),
            target=smtp,
            hayes=True,
            time_scale=50.0,
            phonebook=book,
            lines=lines,
            tick=0.005,
        )
    )
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture
def dua_file(tmp_path: Path) -> Path:
    path = tmp_path / "dua-001.txt"
    declaration = sample_declaration("dua", as_of=date(2026, 11, 2))
    path.write_bytes(render_declaration(declaration, WireFormat("flat")))
    return path


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_send_and_fetch_over_the_modem(
    node: Node, dua_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with dialup(node) as proxy:
        modem = f"127.0.0.1:{proxy.address.port}"
        status = await cli(
            "send", str(dua_file), "--from", AGENT, "--password", DEMO_PASSWORD,
            "--to", OTHER, "--via-modem", modem, "--number", "0800", "--timeout", "30",
        )  # fmt: skip
        sent = capsys.readouterr().out
        assert status == 0, sent
        out_dir = tmp_path / "inbox"
        status = await cli(
            "fetch", "--user", OTHER, "--password", DEMO_PASSWORD, "--out", str(out_dir),
            "--via-modem", modem, "--number", "0801", "--timeout", "30",
        )  # fmt: skip
        fetched = capsys.readouterr().out
    assert status == 0, fetched
    assert f"to {OTHER}" in sent
    assert "line: CONNECT 9600/REL" in sent and "simulated time on the line:" in sent
    assert "saved 1 message(s)" in fetched and "line: CONNECT 9600/REL" in fetched
    (saved,) = out_dir.glob("*.eml")
    assert b'filename="dua-001.txt"' in saved.read_bytes()


async def test_fetch_prints_a_summary_without_out(
    node: Node, dua_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp, pop3 = f"127.0.0.1:{node.port('smtp')}", f"127.0.0.1:{node.port('pop3')}"
    assert await cli(
        "send", str(dua_file), "--from", AGENT, "--password", DEMO_PASSWORD, "--to", OTHER,
        "--server", smtp, "--subject", "DUA de prueba", "--no-progress",
    ) == 0  # fmt: skip
    capsys.readouterr()
    assert await cli(
        "fetch", "--user", OTHER, "--password", DEMO_PASSWORD, "--server", pop3, "--no-progress"
    ) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "DUA de prueba" in out and AGENT in out
    assert "1 message(s)" in out


async def test_exit_statuses(
    node: Node, dua_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp = f"127.0.0.1:{node.port('smtp')}"
    common = ["--from", AGENT, "--to", OTHER, "--server", smtp, "--no-progress"]
    assert await cli("send", str(tmp_path / "absent.txt"), "--password", "x", *common) == 2
    assert await cli("send", str(dua_file), "--password", "wrong", *common) == 1
    async with dialup(node, lines=1) as proxy:
        reader, writer = await asyncio.open_connection(proxy.address.host, proxy.address.port)
        writer.write(b"ATDT0800\r")
        await asyncio.wait_for(reader.readuntil(b"REL\r\n"), 10)
        busy = await cli(
            "send", str(dua_file), "--password", DEMO_PASSWORD, *common,
            "--via-modem", f"127.0.0.1:{proxy.address.port}", "--timeout", "30",
        )  # fmt: skip
        writer.close()
    assert busy == 3
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in errors] == ["teledispatch send"] * 3
    assert "BUSY" in errors[-1]
