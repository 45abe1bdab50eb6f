"""``teledispatch rules list``: the catalog in force on a date, at an office, with citations."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from gateway.cli import main
from tests.validators.test_catalog import RULES_MD


def _list(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["rules", "list", *args]) == 0
    return capsys.readouterr().out


def test_today_every_rule_of_rules_md_is_listed_with_its_citation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = json.loads(_list(capsys, "--json", "--as-of", "2025-03-03"))
    assert {item["id"] for item in listed} >= (RULES_MD - {"DL-EXCEPCIONAL"}) | {"DL-DIFERIDO"}
    assert all(item["citation"] and item["title"] for item in listed)
    restr = next(item for item in listed if item["id"] == "RESTR-DOC")
    assert (
        restr["effective_from"] == "2004-07-23"
        and "Procedimiento INTA-PE.00.06, VI.5-7" in restr["citation"]
    )
    assert not any("seed" in item["citation"] for item in listed)


def test_the_date_and_office_decide(capsys: pytest.CaptureFixture[str]) -> None:
    def ids(*args: str) -> set[str]:
        return {item["id"] for item in json.loads(_list(capsys, "--json", *args))}

    assert "RESTR-DOC" not in ids("--as-of", "1997-03-03")
    assert "RESTR-DOC" in ids("--as-of", "2005-01-10")
    assert "MOD-CODE" in ids("--as-of", "2010-09-01", "--office", "154")
    assert "MOD-CODE" not in ids("--as-of", "2010-09-01", "--office", "118")
    assert "FOB-10" not in ids("--as-of", "2020-06-01")
    assert "MOD-CODE" not in ids("--as-of", "2025-03-03", "--document", "oe")


def test_the_text_names_dates_and_legal_basis(capsys: pytest.CaptureFixture[str]) -> None:
    out = _list(capsys, "--as-of", "2010-09-20", "--office", "118")
    assert out.startswith("Reglas en vigor al 20/09/2010, aduana 118 (Marítima del Callao):")
    assert "MOD-CODE (DUA; error) desde 20/09/2010" in out
    assert "Base legal: Procedimiento INTA-PG.01-A, VII.A.2" in out
    assert "TASA (DUA; nota) desde 20/09/2010" in out


def test_all_versions(capsys: pytest.CaptureFixture[str]) -> None:
    out = _list(capsys, "--all")
    assert out.count("\nDL-URGENTE ") == 2 and out.count("\nCH-ASSIGN ") == 4
    assert "; 118 desde 20/09/2010" in out
    assert "046 no rige (aduana fuera del alcance del procedimiento)" in out


def test_a_bad_office_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["rules", "list", "--office", "11"])


def test_a_reader_that_stops_early_is_no_error() -> None:
    """``teledispatch rules list | head``: no BrokenPipeError, exit status 0.

    The reading end is closed before the command writes (it takes a while to start), so
    every write meets a closed pipe, as after ``head`` has read its lines and exited.
    """
    script = shutil.which("teledispatch", path=os.path.dirname(sys.executable))
    assert script is not None
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [script, "rules", "list"],
            stdout=writer,
            capture_output=False,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and b"BrokenPipe" not in done.stderr


def test_in_1997_only_what_was_in_force_then_cited_by_norm(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Seed 000: "As of 17.02.1997 the automated Customs clearance system (Teledispatch) is
    mandatory ..." and the server will "validate the DUA and O/E for their subsequent
    acceptance or rejection". On 03/03/1997 neither INTA-PE.00.06 (2004), INTA-PG.01-A (2010)
    nor D.S. 367-2019-EF existed: no rule of theirs is listed, no citation names them."""
    listed = json.loads(_list(capsys, "--json", "--as-of", "1997-03-03"))
    ids = {item["id"] for item in listed}
    assert ids == {
        "TD-OFFICE", "TD-SENDER", "REG-CODE", "STR-REQUIRED", "STR-SERIES", "STR-SUBPARTIDA",
        "STR-COUNTRY", "STR-AMOUNTS", "STR-TOTALS", "STR-CIF", "STR-WEIGHT", "STR-DATES",
        "ID-RUC", "NUMBER", "DUP", "CH-ASSIGN", "PROHIBITED",
    }  # fmt: skip
    for item in listed:
        citation = item["citation"]
        assert "INTA-" not in citation and "367-2019" not in citation and "seed" not in citation
        assert any(
            norm in citation
            for norm in ("Teledespacho (Aduanas, 1997)", "regla del proyecto", "Norma que")
        )
        assert item["source"]
    text = _list(capsys, "--as-of", "1997-03-03")
    assert "Base legal: Método de operación del Teledespacho (Aduanas, 1997)" in text
