"""``teledispatch sample dua|oe``: print a valid sample declaration, or one breaking a rule.

Brokers and tests use it to see what a correct declaration looks like in each wire format,
and ``--break RULE_ID`` gives the failing case of a rule (``validate`` then names that rule).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime

from config.clock import SystemClock
from edi_formats.codec import DeclarationSyntaxError, WireFormat, render_declaration
from validators.engine import PERU_TIME, transmission_date
from validators.samples import BREAKABLE, break_rule, sample_declaration


def fail(message: str, status: int) -> int:
    """Say why on standard error and return the exit status."""
    print(f"teledispatch: {message}", file=sys.stderr)
    return status


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sample", help="print a sample declaration")
    parser.add_argument("kind", choices=["dua", "oe"])
    parser.add_argument(
        "--format", choices=[f.value for f in WireFormat], default=WireFormat.FLAT.value
    )
    parser.add_argument("--office", default="118", help="customs office code (118)")
    parser.add_argument("--agent-code", default="4821", help="the agent's code (4821)")
    parser.add_argument("--break", dest="break_rule", metavar="RULE_ID", help="break this rule")
    parser.add_argument(
        "--as-of", type=iso_date, help="date the sample is valid on (default: today in Peru)"
    )
    parser.add_argument("--series", type=int, default=2, help="number of series (2)")
    parser.add_argument("--reference", help="the agent's reference (default from the date)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    now = SystemClock().now()
    as_of: date = args.as_of or transmission_date(now)
    try:
        declaration = sample_declaration(
            args.kind,
            office=args.office,
            agent_code=args.agent_code,
            as_of=as_of,
            series_count=args.series,
            reference=args.reference,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        return fail(f"cannot make that sample: {exc}", 2)
    if args.break_rule:
        try:
            declaration = break_rule(declaration, args.break_rule)
        except KeyError:
            breakable = ", ".join(BREAKABLE)
            return fail(
                f"{args.break_rule} cannot be broken by a {args.kind.upper()} alone; "
                f"rules that can: {breakable} (MOD-*, DL-* and ONE-CONSIGNEE: DUA only)",
                2,
            )
    try:
        data = render_declaration(
            declaration, WireFormat(args.format), prepared_at=_prepared_at(as_of, now)
        )
    except DeclarationSyntaxError as exc:
        return fail(f"{exc.code}: {exc.message}", 2)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


def _prepared_at(as_of: date, now: datetime) -> datetime:
    """When the agent's software in Peru prepared the sample: its date, at the minute it is
    in Lima (UNB's date and time; an interchange carries its sender's local time)."""
    in_peru = now.astimezone(PERU_TIME)
    return datetime.combine(as_of, in_peru.time().replace(second=0, microsecond=0))
