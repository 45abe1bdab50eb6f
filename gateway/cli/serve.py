"""``teledispatch serve``: run a node until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from config.offices import load_offices
from config.reference import ReferenceFiles, load_reference
from config.settings import ConfigError
from gateway.cli._common import add_node_flags, fail, settings_from, setup_logging
from gateway.node import Node, NodeStartError, clock_for, run_until_signalled


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="run a node (SMTP, POP3, IMAP, pipeline)")
    add_node_flags(parser)
    parser.add_argument("--host", help="address to listen on (127.0.0.1)")
    parser.add_argument("--smtp-port", type=int, help="SMTP port (2525)")
    parser.add_argument("--pop3-port", type=int, help="POP3 port (1110)")
    parser.add_argument("--imap-port", type=int, help="IMAP port (1143)")
    for service, default in (("smtps", 4465), ("pop3s", 1995), ("imaps", 1993)):
        parser.add_argument(
            f"--{service}-port",
            help=f"{service[:4].upper()} port with implicit TLS ({default}; 'off': none)",
        )
    parser.add_argument("--http-port", type=int, help="HTTP port of the API and console (8025)")
    parser.add_argument(
        "--https-port", help="HTTPS port of the API and console, the mail TLS certificate (off)"
    )
    parser.add_argument(
        "--pipeline-workers",
        type=int,
        metavar="N",
        help="processes that read and validate submissions (one per core)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="host every office and create the demo accounts if missing",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(
            args,
            host=args.host,
            smtp_port=args.smtp_port,
            pop3_port=args.pop3_port,
            imap_port=args.imap_port,
            smtps_port=args.smtps_port,
            pop3s_port=args.pop3s_port,
            imaps_port=args.imaps_port,
            http_port=args.http_port,
            https_port=args.https_port,
            pipeline_workers=args.pipeline_workers,
            host_all_offices=True if args.demo else None,
        )
        offices = load_offices(settings.offices_file)
        reference = load_reference(ReferenceFiles.from_settings(settings))
        node = Node(settings, clock=clock_for(settings), offices=offices, reference=reference)
    except (ConfigError, OSError, ValueError) as exc:  # ReferenceDataError, FilingError too
        return fail(str(exc), 2)
    setup_logging(args.verbose, settings.log_format)
    try:
        asyncio.run(run_until_signalled(node, demo=args.demo))
    except NodeStartError as exc:
        return fail(str(exc))
    return 0
