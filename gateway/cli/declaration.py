"""``teledispatch declaration regularize|premises``: what the office records on dispatches.

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
from mailboxes.dispatch_history import OfficeRecords
from validators.engine import transmission_date

__all__ = ["register", "run_premises", "run_regularize"]


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
    premises = actions.add_parser(
        "premises", help="record code 44 on an importer's premises, or its cure (VII.A.51)"
    )
    premises.add_argument("state", choices=["unfit", "fit"], help="unfit: code 44; fit: cured")
    premises.add_argument("--importer", required=True, help="document type and number: RUC:2010")
    premises.add_argument("--establishment", required=True, help="E.A. code of box 7.38: 0003")
    premises.add_argument("--on", type=iso_date, help="date of the record (today)")
    add_node_flags(premises)
    premises.set_defaults(handler=run_premises)


def run_regularize(args: argparse.Namespace) -> int:
    async def record(settings: Settings, on: date) -> bool:
        store = await _open(settings)
        try:
            return await OfficeRecords(store).mark_regularized(args.number, on)
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


def run_premises(args: argparse.Namespace) -> int:
    """Seed 004 VII.A.51: the officer's code 44 ("local no apto"), or the importer's expedient
    that cures it; MOD-04-PREMISES reads them."""
    doc_type, _, doc_number = args.importer.partition(":")
    if not doc_type or not doc_number or len(args.establishment) != 4:
        return fail("give --importer TYPE:NUMBER and a 4-digit --establishment", 2)
    party = (doc_type.upper(), doc_number)

    async def record(settings: Settings, on: date) -> bool:
        store = await _open(settings)
        try:
            records = OfficeRecords(store)
            if args.state == "unfit":
                await records.premises_unfit(party, args.establishment, on)
                return True
            return await records.premises_fit(party, args.establishment, on)
        finally:
            await store.close()

    on: date = args.on or transmission_date(SystemClock().now())
    try:
        done = asyncio.run(record(settings_from(args), on))
    except ConfigError as exc:
        return fail(str(exc), 2)
    if not done:
        return fail(f"premises {args.establishment} of {args.importer} have no open code 44")
    print(f"premises {args.establishment} of {args.importer}: {args.state} on {on.isoformat()}")
    return 0
