"""``teledispatch rules list``: the catalog of rules in force, with their citations.

A broker or an operator asks which rules a declaration transmitted on a date to an office is
judged by: ``--as-of`` (default today in Peru) and ``--office`` (per-office start dates, e.g.
INTA-PG.01-A reached Maritime Callao on 2010-09-20). ``--all`` lists every version of every
rule with its dates instead; ``--json`` prints the same as data. ``rules doc`` prints
docs/rules.md, the broker's guide generated from the catalog.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from config import load_offices
from config.clock import SystemClock
from config.reference import NEVER
from gateway.cli.sample import iso_date
from validators.catalog_doc import render_rules_doc
from validators.engine import transmission_date
from validators.findings import Severity
from validators.registry import Rule, RuleRegistry, Validity
from validators.rules import CATALOG
from validators.rules.sources import source_of

__all__ = ["in_force", "register", "run", "run_doc"]

_DOCUMENTS = {"dua": "DUA", "oe": "OE"}
_DOCUMENT_NAMES = {"DUA": "DUA", "OE": "O/E"}
_DAY = timedelta(days=1)
_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "aviso", Severity.INFO: "nota"}


def _office_code(text: str) -> str:
    if len(text) != 3 or not text.isdigit():
        raise argparse.ArgumentTypeError(f"an office code has 3 digits: {text!r}")
    return text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rules", help="the validation rules and their citations")
    actions = parser.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list the rules in force on a date")
    listing.add_argument("--as-of", type=iso_date, help="transmission date (default: today)")
    listing.add_argument("--office", type=_office_code, help="office code (per-office dates)")
    listing.add_argument("--document", choices=sorted(_DOCUMENTS), help="DUA or O/E only")
    listing.add_argument("--all", action="store_true", help="every version, whatever the date")
    listing.add_argument("--json", action="store_true", help="print the catalog as JSON")
    listing.set_defaults(handler=run)
    doc = actions.add_parser("doc", help="print docs/rules.md, generated from the catalog")
    doc.set_defaults(handler=run_doc)


def in_force(
    registry: RuleRegistry, as_of: date, office: str | None, documents: Iterable[str]
) -> list[Rule]:
    """The rules in force for any of ``documents``, in catalog order, each version once."""
    wanted = set(documents)
    return [
        item
        for item in registry
        if item.applies_to & wanted
        and any(item.in_force(document, as_of, office or "") for document in wanted)
    ]


def _window(validity: Validity) -> str:
    if validity.start == NEVER:
        return "no rige (aduana fuera del alcance del procedimiento)"
    end = validity.end if validity.end is None or validity.end < NEVER - _DAY else None
    if validity.start is None and end is None:
        return "siempre en vigor"
    parts = []
    if validity.start is not None:
        parts.append(f"desde {validity.start:%d/%m/%Y}")
    if end is not None:
        parts.append(f"hasta {end:%d/%m/%Y}")
    return " ".join(parts)


def _documents(item: Rule) -> str:
    return ", ".join(_DOCUMENT_NAMES[d] for d in sorted(item.applies_to))


def _as_text(item: Rule, office: str | None) -> str:
    validity = item.validity_for(office or "")
    lines = [
        f"{item.id} ({_documents(item)}; {_SEVERITY[item.severity]}) {_window(validity)}",
        f"    {item.title}",
        f"    Base legal: {item.citation}",
    ]
    if office is None and item.office_validity:
        per_office = "; ".join(
            f"{code} {_window(window)}" for code, window in item.office_validity.items()
        )
        lines.append(f"    Por aduana: {per_office}")
    return "\n".join(lines)


def _as_json(item: Rule, office: str | None) -> dict[str, Any]:
    validity = item.validity_for(office or "")
    return {
        "id": item.id,
        "title": item.title,
        "citation": item.citation,
        "source": source_of(item.citation),
        "applies_to": sorted(item.applies_to),
        "severity": item.severity.value,
        "effective_from": validity.start.isoformat() if validity.start else None,
        "effective_to": validity.end.isoformat() if validity.end else None,
        "office_dates": {
            code: {
                "effective_from": window.start.isoformat() if window.start else None,
                "effective_to": window.end.isoformat() if window.end else None,
            }
            for code, window in item.office_validity.items()
        }
        if office is None
        else {},
    }


def _heading(as_of: date | None, office: str | None, count: int) -> str:
    where = ""
    if office is not None:
        known = load_offices().get(office)
        where = f", aduana {office}" + (f" ({known.name})" if known is not None else "")
    if as_of is None:
        return f"Catálogo completo de reglas{where}: {count} versiones"
    return f"Reglas en vigor al {as_of:%d/%m/%Y}{where}: {count}"


def run_doc(args: argparse.Namespace) -> int:
    """Print docs/rules.md: every rule, its dates, offices and source, for brokers."""
    sys.stdout.write(render_rules_doc(CATALOG, load_offices()))
    return 0


def run(args: argparse.Namespace) -> int:
    documents = [_DOCUMENTS[args.document]] if args.document else list(_DOCUMENTS.values())
    as_of: date | None = None
    if args.all:
        rules = [item for item in CATALOG if item.applies_to & set(documents)]
    else:
        as_of = args.as_of or transmission_date(SystemClock().now())
        rules = in_force(CATALOG, as_of, args.office, documents)
    if args.json:
        print(
            json.dumps(
                [_as_json(item, args.office) for item in rules], ensure_ascii=False, indent=2
            )
        )
        return 0
    print(_heading(as_of, args.office, len(rules)))
    print()
    print("\n\n".join(_as_text(item, args.office) for item in rules))
    return 0
