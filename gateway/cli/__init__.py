"""The ``teledispatch`` console script.

Each subcommand lives in its own module with ``register(subparsers)``, which adds its parser
and sets ``handler`` (``Namespace -> int`` exit status); this module only assembles them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from gateway.cli import (
    account,
    demo,
    fetch,
    modem,
    office,
    offices,
    rules,
    sample,
    schema,
    send,
    serve,
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
    offices,
    demo,
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
