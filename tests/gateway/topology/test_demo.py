"""``teledispatch demo topology`` runs its three nodes and says ok on its last line."""

from __future__ import annotations

import pytest

from gateway.cli import main


def test_the_topology_demo_relays_moves_and_reports_ok(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a user runs it: the suite's own HTTP port 0 once hid that every node of the demo
    # took the default 8025, and the second could not start.
    monkeypatch.delenv("TELEDISPATCH_HTTP_PORT")
    status = main(["demo", "topology", "--timeout", "20"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "topology: ok", "\n".join(lines)
    assert status == 0
    assert any("118-" in line and "relayed back" in line for line in lines)
    assert "numbering continued across the move" in lines
