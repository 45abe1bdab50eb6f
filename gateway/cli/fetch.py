"""``teledispatch fetch``: read a mailbox over POP3 or IMAP, optionally over the modem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dialup_sim.phonebook import PhonebookError
from gateway.cli._progress import RichTransferProgress
from gateway.cli.send import EXIT_STATUS, add_route_flags, route_from
from gateway.clients.agent import ClientError, FetchResult, fetch_messages
from gateway.clients.mail_files import save_messages

__all__ = ["register", "run"]

_DEFAULT_PORTS = {"pop3": 1110, "imap": 1143}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "fetch",
        help="download a mailbox (the agent's reference client)",
        description="Exit status: 0 fetched, 1 refused by the server, 2 bad arguments, "
        "3 no connection (dial failed, line dropped).",
    )
    parser.add_argument("--user", required=True, help="mailbox address")
    parser.add_argument("--password", required=True)
    parser.add_argument("--protocol", choices=sorted(_DEFAULT_PORTS), default="pop3")
    parser.add_argument(
        "--out", type=Path, help="save messages here as <date>-<reference>-<id>.eml"
    )
    parser.add_argument("--delete", action="store_true", help="delete what was fetched")
    add_route_flags(parser, "POP3 server (127.0.0.1:1110) or IMAP server (127.0.0.1:1143)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        route = route_from(args, f"127.0.0.1:{_DEFAULT_PORTS[args.protocol]}")
    except (ValueError, PhonebookError) as exc:
        print(f"teledispatch fetch: {exc}", file=sys.stderr)
        return 2
    progress = None if args.no_progress else RichTransferProgress()
    try:
        result = fetch_messages(
            user=args.user,
            password=args.password,
            route=route,
            protocol=args.protocol,
            delete=args.delete,
            progress=progress,
        )
    except ClientError as exc:
        print(f"teledispatch fetch: {exc}", file=sys.stderr)
        return EXIT_STATUS[exc.kind]
    if args.out is not None:
        try:
            written = save_messages(result.messages, args.out)
        except OSError as exc:
            print(f"teledispatch fetch: {exc}", file=sys.stderr)
            return 2
        print(f"saved {len(written)} message(s) to {args.out}")
    else:
        print(summary(result))
    print(footer(result))
    return 0


def summary(result: FetchResult) -> str:
    if not result.messages:
        return "no messages"
    rows = []
    for message in result.messages:
        status = message.header("X-Teledespacho-Status") or "-"
        rows.append(
            f"{message.key:>12}  {len(message.data):>8}  {status:<9}  "
            f"{message.header('From')}  {message.header('Subject')}"
        )
    return "\n".join(rows)


def footer(result: FetchResult) -> str:
    total = sum(len(m.data) for m in result.messages)
    lines = [f"{len(result.messages)} message(s), {total} bytes in {result.wall_seconds:.1f} s"]
    if result.connect_message:
        lines.append(f"line: {result.connect_message}")
    if result.call is not None:
        lines.append(
            f"simulated time on the line: {result.call.online_seconds:.1f} s online "
            f"(+{result.call.dialing_seconds:.1f} s dialling)"
        )
    return "\n".join(lines)
