"""``teledispatch send``: submit declarations by mail, optionally over the simulated modem."""

from __future__ import annotations

import argparse
import email.policy
import sys
from pathlib import Path

from config.clock import SystemClock
from config.offices import UnknownOffice
from config.settings import ConfigError, load_settings
from dialup_sim.phonebook import PhonebookError, parse_address
from gateway.cli._progress import RichTransferProgress
from gateway.cli.offices import intake_of
from gateway.clients.agent import ClientError, ErrorKind, Route, SendResult, send_message
from gateway.clients.mail_files import build_submission

__all__ = ["EXIT_STATUS", "register", "run"]

EXIT_STATUS = {
    ErrorKind.AUTH: 1,
    ErrorKind.REFUSED: 1,
    ErrorKind.PROTOCOL: 1,
    ErrorKind.DIAL: 3,
    ErrorKind.CONNECT: 3,
    ErrorKind.DISCONNECTED: 3,
}


def add_route_flags(parser: argparse.ArgumentParser, server_help: str) -> None:
    """Flags for reaching the server directly or by dialling through the modem simulator."""
    parser.add_argument("--server", metavar="HOST:PORT", help=server_help)
    parser.add_argument(
        "--via-modem", metavar="HOST:PORT", help="dial through a 'teledispatch modem --hayes'"
    )
    parser.add_argument("--number", default="0800", help="number to dial (0800)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per step (180)")
    parser.add_argument("--no-progress", action="store_true", help="draw no progress bar")


def route_from(args: argparse.Namespace, default_server: str) -> Route:
    return Route(
        server=parse_address(args.server or default_server),
        modem=parse_address(args.via_modem) if args.via_modem else None,
        number=args.number,
        timeout=args.timeout,
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "send",
        help="mail declarations to a customs office (the agent's reference client)",
        description="Exit status: 0 sent, 1 refused by the server, 2 unreadable input, "
        "3 no connection (dial failed, line dropped).",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--from", dest="sender", required=True, help="the agent's address")
    parser.add_argument(
        "--password", help="SMTP AUTH password (without it, no AUTH: a mailbox request)"
    )
    destination = parser.add_mutually_exclusive_group(required=True)
    destination.add_argument("--to", dest="recipient", help="e.g. aduana-118@...")
    destination.add_argument(
        "--office", help="the customs office by code or name (118, Pisco): its intake address"
    )
    parser.add_argument("--config", type=Path, help="TOML settings (domain, offices_file)")
    parser.add_argument("--subject", help="Subject (default: the file names)")
    parser.add_argument(
        "--raw", action="store_true", help="FILE is a complete RFC 822 message: send it as is"
    )
    add_route_flags(parser, "SMTP server (127.0.0.1:2525)")
    parser.set_defaults(handler=run)


def resolve_recipient(args: argparse.Namespace) -> str:
    """``--to`` as given, or the intake address of the ``--office`` chosen from the registry."""
    if args.recipient is not None:
        return str(args.recipient)
    try:
        office, address = intake_of(load_settings(args.config), args.office)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc
    print(f"office {office.code} {office.name} (node {office.node}): {address}")
    return address


def run(args: argparse.Namespace) -> int:
    try:
        args.recipient = resolve_recipient(args)
        route = route_from(args, "127.0.0.1:2525")
        if args.raw:
            if len(args.files) != 1:
                raise ValueError("--raw takes exactly one FILE")
            message = args.files[0].read_bytes()
        else:
            message = build_submission(
                args.files,
                sender=args.sender,
                recipient=args.recipient,
                clock=SystemClock(),
                subject=args.subject,
            ).as_bytes(policy=email.policy.SMTP)
    except (OSError, ValueError, PhonebookError, UnknownOffice) as exc:
        print(f"teledispatch send: {exc}", file=sys.stderr)
        return 2
    progress = None if args.no_progress else RichTransferProgress()
    try:
        result = send_message(
            message,
            sender=args.sender,
            password=args.password,
            recipients=[args.recipient],
            route=route,
            progress=progress,
        )
    except ClientError as exc:
        print(f"teledispatch send: {exc}", file=sys.stderr)
        return EXIT_STATUS[exc.kind]
    print(describe(result, args.recipient))
    return 0


def describe(result: SendResult, recipient: str) -> str:
    lines = [
        f"sent {result.message_id or 'message'} ({result.size} bytes) to {recipient} "
        f"in {result.wall_seconds:.1f} s"
    ]
    if result.connect_message:
        lines.append(f"line: {result.connect_message}")
    if result.call is not None:
        call = result.call
        lines.append(
            f"simulated time on the line: {call.online_seconds:.1f} s online "
            f"(+{call.dialing_seconds:.1f} s dialling), {call.retransmissions} retransmissions"
        )
    return "\n".join(lines)
