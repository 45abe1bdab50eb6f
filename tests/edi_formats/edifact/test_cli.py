"""``teledispatch sample --format edifact`` and ``teledispatch validate`` on .edi files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edi_formats.codec import WireFormat, detect_format
from gateway.cli import main

AS_OF = "2025-03-03"


def _sample(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> bytes:
    assert main(["sample", *args, "--format", "edifact", "--as-of", AS_OF]) == 0
    return capsysbinary.readouterr().out


def _wrong_unt(data: bytes) -> tuple[bytes, str]:
    count = data.split(b"UNT+")[1].split(b"+")[0]
    wrong = data.replace(b"UNT+" + count + b"+", b"UNT+" + str(int(count) + 1).encode() + b"+")
    return wrong, f"segmento {int(count)} del mensaje (UNT), elemento 1"


def test_validate_reads_edi_files(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    good = tmp_path / "dua.edi"
    good.write_bytes(_sample(capsysbinary, "dua"))
    assert detect_format(good.read_bytes()) is WireFormat.EDIFACT
    broken = tmp_path / "oe.edi"
    broken.write_bytes(_sample(capsysbinary, "oe", "--break", "REG-CODE"))
    assert main(["validate", str(good), "--as-of", AS_OF]) == 0
    assert b"CONFORME" in capsysbinary.readouterr().out
    assert main(["validate", str(good), str(broken), "--as-of", AS_OF, "--json"]) == 1
    verdicts = json.loads(capsysbinary.readouterr().out)
    assert [v["status"] for v in verdicts] == ["accepted", "rejected"]
    assert {f["rule_id"] for f in verdicts[1]["findings"]} == {"REG-CODE"}


def test_a_wrong_unt_count_is_unreadable_naming_the_segment(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wrong, position = _wrong_unt(_sample(capsysbinary, "dua"))
    path = tmp_path / "dua.edi"
    path.write_bytes(wrong)
    assert main(["validate", str(path), "--as-of", AS_OF]) == 2
    out = capsysbinary.readouterr().out.decode()
    assert "ILEGIBLE" in out and "EDI-COUNT" in out and position in out


@pytest.mark.slow
def test_sample_edifact_piped_into_validate_exits_zero() -> None:
    """The issue's definition of done, with the installed console script."""
    script = Path(sys.executable).with_name("teledispatch")
    sample = subprocess.run(
        [script, "sample", "dua", "--format", "edifact"], capture_output=True, check=True
    )
    assert sample.stdout.startswith(b"UNA:+.? '")
    verdict = subprocess.run(
        [script, "validate", "-"], input=sample.stdout, capture_output=True, check=False
    )
    assert verdict.returncode == 0, verdict.stdout.decode()
    assert verdict.stderr == b""  # no pydifact warnings on the terminal
    wrong, position = _wrong_unt(sample.stdout)
    verdict = subprocess.run(
        [script, "validate", "-"], input=wrong, capture_output=True, check=False
    )
    assert verdict.returncode == 2 and position.encode() in verdict.stdout
