"""``teledispatch offices`` and ``send --office``: the broker picks the office, the client
finds its intake address in the registry."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from edi_formats.codec import WireFormat, render_declaration
from gateway.cli import main
from gateway.demo import DEMO_AGENTS, DEMO_PASSWORD
from gateway.directory import INTAKE_FOLDER
from gateway.node import Node
from validators.samples import sample_declaration

AGENT = DEMO_AGENTS[0].address


def test_offices_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["offices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["code", "name", "mode", "node", "intake", "address"]
    pisco = next(line for line in lines if line.startswith("127 "))
    assert pisco.split() == [
        "127", "Pisco", "centralized", "sede-central", "aduana-127@aduanas.gob.pe"
    ]  # fmt: skip
    callao = next(line for line in lines if line.startswith("118 "))
    assert "decentralized" in callao and "callao-maritima" in callao
    assert len(lines) == 1 + 22


async def test_send_to_an_office_by_name_reaches_its_intake(
    node: Node, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert node.store is not None
    dua = tmp_path / "dua.txt"
    declaration = sample_declaration("dua", as_of=date(2026, 11, 2), office="127")
    dua.write_bytes(render_declaration(declaration, WireFormat("flat")))
    status = await asyncio.to_thread(
        main,
        [
            "send", str(dua), "--from", AGENT, "--password", DEMO_PASSWORD,
            "--office", "pisco", "--server", f"127.0.0.1:{node.port('smtp')}", "--no-progress",
        ],
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    assert "office 127 Pisco (node sede-central): aduana-127@aduanas.gob.pe" in out
    [filed] = await node.store.list_messages("aduana-127@aduanas.gob.pe", INTAKE_FOLDER)
    raw = await node.store.read_message("aduana-127@aduanas.gob.pe", INTAKE_FOLDER, filed.uid)
    assert b"To: aduana-127@aduanas.gob.pe" in raw


def test_send_to_an_ambiguous_office_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dua = tmp_path / "dua.txt"
    dua.write_text("TDH|TELEDESPACHO|\n")
    status = main(
        ["send", str(dua), "--from", AGENT, "--password", "x", "--office", "Callao",
         "--server", "127.0.0.1:9"]
    )  # fmt: skip
    assert status == 2
    assert "could be any of" in capsys.readouterr().err
