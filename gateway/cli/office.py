"""``teledispatch office move CODE --to NODE``: switch an office between centralized and
decentralized.

Rewrites the deployment's office registry (the ``offices_file`` every node's config names).
Running nodes notice the change within a second: new mail for the office goes to the new
node; declarations the old node already received finish there, and then the old node hands
its numbering over, so the new node's first number follows the old node's last.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from config.offices import load_offices, move_office, render_offices
from config.settings import ConfigError
from gateway.cli._common import fail, settings_from


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("office", help="office registry operations")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    move = actions.add_parser("move", help="move an office to another node")
    move.add_argument("code", help="customs office code, e.g. 127")
    move.add_argument("--to", required=True, dest="to_node", help="the node to host it")
    move.add_argument("--config", type=Path, help="TOML settings naming the offices_file")
    move.add_argument("--offices-file", type=Path, help="the registry to rewrite")
    move.set_defaults(handler=run_move, data_dir=None)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` so a node reading it never sees half a registry."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_move(args: argparse.Namespace) -> int:
    try:
        path = args.offices_file or settings_from(args).offices_file
    except ConfigError as exc:
        return fail(str(exc), 2)
    if path is None:
        return fail("name the deployment's registry: --offices-file or offices_file in --config", 2)
    try:
        registry = load_offices(path)
        before = registry[args.code]
        moved = move_office(registry, args.code, args.to_node)
    except OSError as exc:
        return fail(f"cannot read {path}: {exc.strerror}", 2)
    except KeyError:
        return fail(f"no office {args.code} in {path}", 2)
    except ValueError as exc:
        return fail(str(exc), 2)
    write_atomically(path, render_offices(moved))
    after = moved[args.code]
    print(
        f"office {after.code} ({after.name}) moved from {before.node} to {after.node} "
        f"({after.mode.value}, move {after.move_serial})"
    )
    return 0
