"""``teledispatch declaration regularize NUMBER``: the office records a regularization.

Seed 004 VII.B.12: once the officer verifies the urgent dispatch's documents, the SIGAD shows
it "REGULARIZADA"; the anticipado is regularized by its weights (VII.B.1-6). The gateway does
not receive those transmissions, so the office records the regularization here, and
URG-REGULARIZE and MOD-04-OVERDUE stop counting that dispatch against the importer.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date

from config.clock import SystemClock
from config.settings import ConfigError, Settings
from gateway.cli._common import add_node_flags, fail, settings_from
from gateway.cli.account import _open
from gateway.cli.sample import iso_date
from mailboxes.dispatch_history import mark_regularized
from validators.engine import transmission_date

__all__ = ["register", "run_regularize"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("declaration", help="what the office records on a declaration")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    regularize = actions.add_parser(
        "regularize", help="record that an urgent or anticipado-04 dispatch was regularized"
    )
    regularize.add_argument("number", help="declaration number OOO-YYYY-RR-NNNNNN")
    regularize.add_argument("--on", type=iso_date, help="date of the regularization (today)")
    add_node_flags(regularize)
    regularize.set_defaults(handler=run_regularize)


def run_regularize(args: argparse.Namespace) -> int:
    async def record(settings: Settings, on: date) -> bool:
        store = await _open(settings)
        try:
            async with store.database.write_session() as session, session.begin():
                return await mark_regularized(session, args.number, on)
        finally:
            await store.close()

    on: date = args.on or transmission_date(SystemClock().now())
    try:
        done = asyncio.run(record(settings_from(args), on))
    except ConfigError as exc:
        return fail(str(exc), 2)
    if not done:
        return fail(f"{args.number} is not a dispatch pending regularization")
    print(f"{args.number} regularized on {on.isoformat()}")
    return 0
