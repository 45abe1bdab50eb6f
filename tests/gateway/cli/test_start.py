"""The console script imports only the command it runs, so the quick ones start quickly."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from gateway.cli import COMMANDS, build_parser

SERVER_MODULES = ("sqlalchemy", "pymap", "aiosmtpd", "alembic", "aiosqlite", "argon2")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["sample", "dua"],
        ["sample", "oe", "--format", "edifact"],
        ["schema", "dua"],
        ["rules", "list"],
        ["validate", "--help"],
    ],
)
def test_quick_commands_do_not_import_the_server(argv: list[str]) -> None:
    """Measured by what is imported, not by a clock: the server's modules take ~1 s."""
    code = (
        "import sys\n"
        "from gateway.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {SERVER_MODULES!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=True)
    assert done.stderr.decode().strip().splitlines()[-1] == "[]"


def test_the_summaries_are_the_commands_own() -> None:
    """The help lists every command without importing it; the words must be the module's."""
    for name, summary in COMMANDS.items():
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(f"gateway.cli.{name}").register(subparsers)
        (action,) = subparsers._choices_actions
        assert (action.dest, action.help) == (name, summary)


def test_the_full_parser_knows_every_command() -> None:
    parser = build_parser()
    args = parser.parse_args(["sample", "dua"])
    assert args.command == "sample" and callable(args.handler)
