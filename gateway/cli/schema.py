"""``teledispatch schema [dua|oe]``: print the JSON Schema of the declarations.

The JSON wire format is the models dumped as they are, so their schema is its specification;
without an argument it is the schema of either document, told apart by ``document_type``.
"""

from __future__ import annotations

import argparse
import json
import sys

from edi_formats.jsonfmt import declaration_schema

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("schema", help="print the JSON Schema of DUA and O/E")
    parser.add_argument(
        "kind", nargs="?", choices=["dua", "oe"], help="one document (default: either)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    schema = declaration_schema(args.kind)
    sys.stdout.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return 0
