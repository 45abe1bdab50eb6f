"""The ``teledispatch`` console script.

Each subcommand lives in its own module with ``register(subparsers)``, which adds its parser
and sets ``handler`` (``Namespace -> int`` exit status); this module only assembles them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from gateway.cli import (
    account,
    demo,
    fetch,
    modem,
    office,
    rules,
    sample,
    schema,
    send,
    serve,
    tls,
    validate,
    watch,
)

__all__ = ["build_parser", "main"]

COMMANDS: tuple[ModuleType, ...] = (
    serve,
    account,
    schema,
    sample,
    validate,
    rules,
    modem,
    send,
    fetch,
    watch,
    office,
    demo,
    tls,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teledispatch",
        description="Teledespacho: customs declarations by mail, as in Peru in 1997.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
