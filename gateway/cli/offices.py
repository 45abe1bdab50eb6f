"""``teledispatch offices``: the office registry, as brokers choose a destination from it.

The 1997 client module "will permit the selection of mailbox destinee" (seed 000): this is
the list it chose from, and ``send --office`` resolves a choice into the intake address.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from config.offices import Office, OfficeRegistry, find_office, load_offices
from config.settings import ConfigError, Settings, load_settings
from gateway.cli._common import fail
from gateway.directory import intake_address

__all__ = ["intake_of", "register", "registry_of"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "offices", help="list the customs offices: code, name, mode, node, intake address"
    )
    parser.add_argument("--config", type=Path, help="TOML settings (domain, offices_file)")
    parser.set_defaults(handler=run)


def registry_of(settings: Settings) -> OfficeRegistry:
    return load_offices(settings.offices_file)


def intake_of(settings: Settings, wanted: str) -> tuple[Office, str]:
    """The office ``wanted`` names (code or name) and its intake address.

    Raises ``UnknownOffice`` (with the candidates when the name is ambiguous) or ``OSError``
    when the deployment's registry cannot be read.
    """
    office = find_office(registry_of(settings), wanted)
    return office, intake_address(office.code, settings.domain)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
        registry = registry_of(settings)
    except ConfigError as exc:
        return fail(str(exc), 2)
    except OSError as exc:
        return fail(f"cannot read the office registry: {exc.strerror}", 2)
    rows = [
        (o.code, o.name, o.mode.value, o.node, intake_address(o.code, settings.domain))
        for o in sorted(registry.values(), key=lambda office: office.code)
    ]
    header = ("code", "name", "mode", "node", "intake address")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for *cells, address in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)), address
        )
    return 0
