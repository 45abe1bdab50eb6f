"""``teledispatch tls ca``: the CA file a client trusts to talk TLS to this node."""

from __future__ import annotations

import argparse

from config.settings import ConfigError
from gateway.cli._common import add_node_flags, fail, settings_from
from gateway.tls import TlsSetupError, node_tls

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("tls", help="the node's TLS certificate authority")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ca = actions.add_parser(
        "ca",
        help="print the CA file clients should trust and its fingerprint (made if missing)",
    )
    add_node_flags(ca)
    ca.add_argument("--pem", action="store_true", help="print the CA certificate itself")
    ca.set_defaults(handler=run_ca)


def run_ca(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        tls = node_tls(settings)
    except (ConfigError, TlsSetupError) as exc:
        return fail(str(exc), 2)
    if tls.ca is None:
        return fail(
            f"the node serves {settings.tls_cert_file}, not a certificate of its own CA; "
            "clients trust that certificate's issuer",
            2,
        )
    if args.pem:
        print(tls.ca.ca_file.read_text("ascii"), end="")
    else:
        print(tls.ca.ca_file.resolve())
        print(f"SHA-256 fingerprint: {tls.ca.fingerprint}")
    return 0
