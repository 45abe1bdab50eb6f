"""``teledispatch fetch --protocol imap`` against a whole node, directly and over the modem."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dialup_sim.phonebook import Address, Phonebook
from dialup_sim.proxy import ModemProxy, ProxySettings
from gateway.cli import main
from gateway.clients.mail_files import message_file_name
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.node import Node
from tests.gateway.imap.conftest import mail

pytestmark = pytest.mark.slow

AGENT = DEMO_AGENTS[1].address


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_fetch_over_imap_saves_and_deletes(
    node: Node, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = node.store
    assert store is not None
    for subject in ("uno", "dos"):
        await store.deliver("z@example.pe", [AGENT], mail(subject))
    out = tmp_path / "inbox"
    status = await cli(
        "fetch", "--protocol", "imap", "--user", AGENT, "--password", DEMO_PASSWORD,
        "--server", f"127.0.0.1:{node.port('imap')}", "--out", str(out), "--delete",
        "--no-progress",
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "saved 2 message(s)" in printed
    saved = {p.name: p.read_bytes() for p in out.glob("*.eml")}
    assert sorted(saved.values()) == sorted([mail("uno"), mail("dos")])
    assert set(saved) == {message_file_name(mail("uno")), message_file_name(mail("dos"))}
    assert await store.list_messages(AGENT) == []


async def test_fetch_over_imap_through_the_modem(
    node: Node, capsys: pytest.CaptureFixture[str]
) -> None:
    store = node.store
    assert store is not None
    await store.deliver("z@example.pe", [AGENT], mail("por la linea"))
    imap = Address("127.0.0.1", node.port("imap"))
    proxy = ModemProxy(
        ProxySettings(
            listen=Address("127.0.0.1", 0),
            target=imap,
            hayes=True,
            time_scale=50.0,
            phonebook=Phonebook({"0802": imap}),
            lines=1,
            tick=0.005,
        )
    )
    await proxy.start()
    try:
        status = await cli(
            "fetch", "--protocol", "imap", "--user", AGENT, "--password", DEMO_PASSWORD,
            "--via-modem", f"127.0.0.1:{proxy.address.port}", "--number", "0802",
            "--timeout", "30", "--no-progress",
        )  # fmt: skip
    finally:
        await proxy.close()
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "por la linea" in printed and "line: CONNECT" in printed
    assert len(await store.list_messages(AGENT)) == 1  # kept: no --delete


async def test_pop3_and_imap_save_a_message_under_the_same_name(
    node: Node, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = node.store
    assert store is not None
    await store.deliver("z@example.pe", [AGENT], mail("el mismo"))
    names = {}
    for protocol in ("pop3", "imap"):
        out = tmp_path / protocol
        status = await cli(
            "fetch", "--protocol", protocol, "--user", AGENT, "--password", DEMO_PASSWORD,
            "--server", f"127.0.0.1:{node.port(protocol)}", "--out", str(out), "--no-progress",
        )  # fmt: skip
        assert status == 0, capsys.readouterr().out
        names[protocol] = sorted(p.name for p in out.glob("*.eml"))
    assert names["pop3"] == names["imap"] == [message_file_name(mail("el mismo"))]
