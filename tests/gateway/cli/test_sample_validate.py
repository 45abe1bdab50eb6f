"""``teledispatch sample`` and ``teledispatch validate``, in process and as a real pipe."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from edi_formats.codec import WireFormat, detect_format, parse_declaration
from edi_formats.edifact.codes import CUSDEC
from edi_formats.edifact.syntax import read_interchange
from gateway.cli import main
from tests.validators.test_samples import SAMPLE_DATE
from validators.context import PERU_TIME
from validators.rules import CATALOG
from validators.samples import BREAKABLE

AS_OF = "2025-03-03"
DUA_ONLY = {r.id for r in CATALOG} - {r.id for r in CATALOG if "OE" in r.applies_to}


def _sample(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> bytes:
    assert main(["sample", *args, "--as-of", AS_OF]) == 0
    return capsysbinary.readouterr().out


def _validate(
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    data: bytes,
    *args: str,
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status = main(["validate", "-", "--as-of", AS_OF, *args])
    return status, capsysbinary.readouterr().out.decode()


@pytest.mark.parametrize("fmt", ["flat", "json", "edifact"])
@pytest.mark.parametrize("kind", ["dua", "oe"])
def test_sample_is_in_the_asked_format_and_valid(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    fmt: str,
) -> None:
    data = _sample(capsysbinary, kind, "--format", fmt, "--office", "235", "--agent-code", "77")
    assert detect_format(data) is WireFormat(fmt)
    declaration = parse_declaration(data)
    assert (declaration.office, declaration.agent_code) == ("235", "77")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["validate", "-", "--as-of", AS_OF, "--office", "235"]) == 0


def test_an_edifact_sample_is_prepared_on_its_date_in_peru(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """The interchange's UNB says when the agent's software prepared it: the sample's date,
    at the hour it is in Peru, not a fixed day of 1997 beside a declaration of today."""
    before = datetime.now(PERU_TIME).replace(second=0, microsecond=0, tzinfo=None)
    data = _sample(capsysbinary, "dua", "--format", "edifact")
    after = datetime.now(PERU_TIME).replace(tzinfo=None)
    prepared = read_interchange(data, CUSDEC).prepared
    assert prepared.date() == date.fromisoformat(AS_OF)
    assert before.time() <= prepared.time() <= after.time() or after.date() != before.date()


@pytest.mark.parametrize(
    ("kind", "rule_id"),
    [
        (k, r)
        for k in ("dua", "oe")
        for r in BREAKABLE
        if (k == "dua" or r not in DUA_ONLY) and r not in SAMPLE_DATE  # in force today
    ],
)
def test_every_break_is_rejected_naming_its_rule(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    rule_id: str,
) -> None:
    data = _sample(capsysbinary, kind, "--break", rule_id)
    status, out = _validate(monkeypatch, capsysbinary, data, "--json")
    (verdict,) = json.loads(out)
    assert {f["rule_id"] for f in verdict["findings"]} == {rule_id}
    if rule_id == "MOD-ANT-MANIFEST":  # a warning: the seed lets the data follow later
        assert (status, verdict["status"]) == (0, "accepted")
    else:
        assert (status, verdict["status"]) == (1, "rejected")


def test_rules_that_cannot_be_broken_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sample", "oe", "--break", "MOD-CODE"]) == 2
    assert "cannot be broken" in capsys.readouterr().err
    assert main(["sample", "dua", "--break", "DUP"]) == 2


def test_text_report_names_rule_box_and_citation(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _sample(capsysbinary, "dua", "--break", "STR-SUBPARTIDA")
    status, out = _validate(monkeypatch, capsysbinary, data)
    assert status == 1
    assert "OBSERVADA" in out and "ERROR STR-SUBPARTIDA (Serie 1, subpartida nacional)" in out
    assert "Procedimiento INTA-PG.01-A, VII.A.7" in out


def test_as_of_decides_the_rules_in_force(
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["sample", "dua", "--break", "MOD-CODE", "--as-of", "1997-03-03"]) == 0
    data = capsysbinary.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["validate", "-", "--as-of", "1997-03-03"]) == 0  # no modalities in 1997
    out = capsysbinary.readouterr().out
    assert b"CONFORME" in out and b"ACEPTADA" not in out
    assert b"solo la aduana" in out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    # INTA-PG.01-A reached Maritime Callao (118) on 2010-09-20, not 2010-08-31.
    assert main(["validate", "-", "--as-of", "2010-09-19"]) == 0
    capsysbinary.readouterr()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["validate", "-", "--as-of", "2010-09-20", "--json"]) == 1
    (verdict,) = json.loads(capsysbinary.readouterr().out)
    assert [f["rule_id"] for f in verdict["findings"]] == ["MOD-CODE"]


def test_worst_verdict_decides_the_exit_status(
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    good = tmp_path / "good.txt"
    good.write_bytes(_sample(capsysbinary, "oe"))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(_sample(capsysbinary, "oe", "--break", "REG-CODE"))
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\xff" * 100)
    assert main(["validate", str(good), "--as-of", AS_OF]) == 0
    assert main(["validate", str(good), str(bad), "--as-of", AS_OF]) == 1
    assert main(["validate", str(bad), str(garbage), "--as-of", AS_OF]) == 2
    assert main(["validate", str(tmp_path / "missing"), "--as-of", AS_OF]) == 2
    out = capsysbinary.readouterr().out
    assert b"ILEGIBLE" in out and b"FMT-IO" in out


def test_unreadable_json_report(
    capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out = _validate(monkeypatch, capsysbinary, b"TDH|TELEDESPACHO|01|DUA|", "--json")
    (verdict,) = json.loads(out)
    assert status == 2 and verdict["status"] == "unreadable"
    assert verdict["error"]["code"].startswith("FMT-")


@pytest.mark.slow
def test_sample_piped_into_validate_exits_zero() -> None:
    """The issue's definition of done, with the installed console script."""
    script = Path(sys.executable).with_name("teledispatch")
    sample = subprocess.run([script, "sample", "dua"], capture_output=True, check=True)
    verdict = subprocess.run(
        [script, "validate", "-"], input=sample.stdout, capture_output=True, check=False
    )
    assert verdict.returncode == 0, verdict.stdout.decode()
    broken = subprocess.run(
        [script, "sample", "dua", "--break", "DL-URGENTE"], capture_output=True, check=True
    )
    verdict = subprocess.run(
        [script, "validate", "-"], input=broken.stdout, capture_output=True, check=False
    )
    assert verdict.returncode == 1 and b"DL-URGENTE" in verdict.stdout
