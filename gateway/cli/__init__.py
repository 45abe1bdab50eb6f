"""The ``teledispatch`` console script.

Each subcommand lives in its own module with ``register(subparsers)``, which adds its parser
and sets ``handler`` (``Namespace -> int`` exit status). Only the module of the command being
run is imported: the server's modules (SQLAlchemy, pymap, aiosmtpd) take about a second to
import, which ``--help``, ``sample`` or ``validate`` have no use for. The other commands are
listed by name and summary only; a test checks that each summary is its module's own.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Final

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: Final[dict[str, str]] = {
    "serve": "run a node (SMTP, POP3, IMAP, pipeline)",
    "account": "manage accounts",
    "schema": "print the JSON Schema of DUA and O/E",
    "sample": "print a sample declaration",
    "validate": "validate declarations offline",
    "rules": "the validation rules and their citations",
    "declaration": "what the office records on a declaration",
    "modem": "dial-up link simulator: a Hayes MNP modem and a slow line, as a TCP proxy",
    "send": "mail declarations to a customs office (the agent's reference client)",
    "fetch": "download a mailbox (the agent's reference client)",
    "watch": "print each accepted declaration as it reaches an office mailbox (IMAP IDLE)",
    "office": "office registry operations",
    "offices": "list the customs offices: code, name, mode, node, intake address",
    "demo": "demonstrations on loopback",
    "tls": "the node's TLS certificate authority",
}
"""Every subcommand (module ``gateway.cli.<name>``) with its one-line summary, in help order."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with every command's own arguments only for ``command`` (None: all)."""
    parser = argparse.ArgumentParser(
        prog="teledispatch",
        description="Teledespacho: customs declarations by mail, as in Peru in 1997.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(f"gateway.cli.{name}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def _command_in(argv: Sequence[str]) -> str:
    """The subcommand ``argv`` names (its first word that is not an option), or ``""``."""
    first = next((word for word in argv if not word.startswith("-")), "")
    return first if first in COMMANDS else ""


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_in(words)).parse_args(words)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``rules list | head``): stop quietly, as Unix tools do.
        # Python's own flush at exit would fail again, so point stdout at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
