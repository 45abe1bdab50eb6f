"""``teledispatch watch``: follow an office mailbox over IMAP IDLE, one line per acceptance."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable

from config.backoff import Backoff
from dialup_sim.phonebook import PhonebookError, parse_address
from gateway.clients.office_watch import Acceptance, OfficeWatcher, WatchRefused

__all__ = ["register", "run"]

DEFAULT_SERVER = "127.0.0.1:1143"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="print each accepted declaration as it reaches an office mailbox (IMAP IDLE)",
        description="Prints one line per accepted declaration: number, agent code, control "
        "channel, agent reference. Reconnects with backoff when the server goes away. "
        "Exit status: 0 stopped (SIGINT/SIGTERM), 1 refused by the server, 2 bad arguments.",
    )
    parser.add_argument("--user", required=True, help="office mailbox address")
    parser.add_argument("--password", required=True)
    parser.add_argument("--server", metavar="HOST:PORT", help=f"IMAP server ({DEFAULT_SERVER})")
    parser.add_argument(
        "--folder",
        action="append",
        help="folder to watch (INBOX); repeat it to watch several (one connection each)",
    )
    parser.add_argument(
        "--all", action="store_true", help="also print the acceptances already in the folder"
    )
    parser.add_argument(
        "--max-backoff", type=float, default=30.0, help="longest wait between reconnections (30)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        server = parse_address(args.server or DEFAULT_SERVER)
    except PhonebookError as exc:
        print(f"teledispatch watch: {exc}", file=sys.stderr)
        return 2
    if args.max_backoff <= 0:
        print("teledispatch watch: --max-backoff must be positive", file=sys.stderr)
        return 2
    folders: list[str] = args.folder or ["INBOX"]
    watchers = [
        OfficeWatcher(
            host=server.host,
            port=server.port,
            user=args.user,
            password=args.password,
            folder=folder,
            show_existing=args.all,
            report=_printer(folder if len(folders) > 1 else None),
            status=_print_status,
            backoff=Backoff(initial=min(0.5, args.max_backoff), maximum=args.max_backoff),
        )
        for folder in folders
    ]
    try:
        asyncio.run(_watch_until_signalled(watchers))
    except WatchRefused as exc:
        print(f"teledispatch watch: {exc}", file=sys.stderr)
        return 1
    return 0


async def _watch_until_signalled(watchers: list[OfficeWatcher]) -> None:
    task = asyncio.ensure_future(asyncio.gather(*(watcher.run() for watcher in watchers)))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(RuntimeError):  # not the main thread (embedded, tests)
            loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _printer(folder: str | None) -> Callable[[Acceptance], None]:
    prefix = f"[{folder}] " if folder is not None else ""

    def print_acceptance(acceptance: Acceptance) -> None:
        print(prefix + acceptance.line(), flush=True)

    return print_acceptance


def _print_status(message: str) -> None:
    print(f"teledispatch watch: {message}", file=sys.stderr, flush=True)
