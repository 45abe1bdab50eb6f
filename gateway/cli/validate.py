"""``teledispatch validate FILE...``: judge declarations offline, as the office would.

Each file (``-`` is standard input) is parsed in whatever format it is in and run through
every rule in force on ``--as-of`` (default: today in Peru). No sender is known offline, so
TD-SENDER is skipped; ``--office`` plays the addressed mailbox for TD-OFFICE. A document
that passes is CONFORME, one the office would refuse OBSERVADA: the words of a check, since
only the office accepts. Exit status: 0 every declaration conforme, 1 any observada, 2 any
unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from config import load_offices
from config.clock import SystemClock
from edi_formats.boxes import box_label
from edi_formats.codec import DeclarationSyntaxError, parse_declaration
from edi_formats.models import DUA, OE
from gateway.cli.sample import iso_date
from validators.engine import RuleContext, transmission_date, validate
from validators.findings import Finding, Severity, has_errors

Status = Literal["accepted", "rejected", "unreadable"]
_EXIT: dict[Status, int] = {"accepted": 0, "rejected": 1, "unreadable": 2}
_LABEL: dict[Status, str] = {  # not ACEPTADA/RECHAZADA: only the office accepts and numbers
    "accepted": "CONFORME",
    "rejected": "OBSERVADA",
    "unreadable": "ILEGIBLE",
}
_OFFLINE_NOTE = (
    "Verificación local: solo la aduana, al recibir la declaración por Teledespacho, "
    "la acepta y le asigna número y canal."
)


def _office_code(text: str) -> str:
    if len(text) != 3 or not text.isdigit():
        raise argparse.ArgumentTypeError(f"an office code has 3 digits: {text!r}")
    return text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("validate", help="validate declarations offline")
    parser.add_argument("files", nargs="+", metavar="FILE", help="declaration files, - for stdin")
    parser.add_argument("--as-of", type=iso_date, help="transmission date (default: today)")
    parser.add_argument("--office", type=_office_code, help="the addressed office's code")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.set_defaults(handler=run)


@dataclass
class Verdict:
    """What became of one file."""

    source: str
    status: Status
    declaration: DUA | OE | None = None
    findings: list[Finding] = field(default_factory=list)
    error: DeclarationSyntaxError | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.source, "status": self.status}
        if self.declaration is not None:
            out["document_type"] = self.declaration.document_type
            out["office"] = self.declaration.office
            out["agent_code"] = self.declaration.agent_code
            out["agent_reference"] = self.declaration.agent_reference
        out["findings"] = [
            {
                "rule_id": f.rule_id,
                "severity": f.severity.value,
                "field": f.field,
                "message": f.message,
                "citation": f.citation,
            }
            for f in self.findings
        ]
        if self.error is not None:
            out["error"] = {
                "code": self.error.code,
                "message": self.error.message,
                "position": self.error.position,
            }
        return out

    def as_text(self) -> str:
        head = f"{self.source}: {_LABEL[self.status]}"
        d = self.declaration
        if d is not None:
            kind = "DUA" if d.document_type == "DUA" else "O/E"
            head += f" ({kind} {d.agent_reference}, aduana {d.office}, despachador {d.agent_code})"
        lines = [head]
        if self.error is not None:
            where = f" [{self.error.position}]" if self.error.position else ""
            lines.append(f"  {self.error.code}: {self.error.message}{where}")
        document_type = d.document_type if d is not None else None
        for f in self.findings:
            mark = "ERROR" if f.severity is Severity.ERROR else "AVISO"
            label = box_label(f.field, document_type)
            box = f" ({label})" if label else ""
            lines.append(f"  {mark} {f.rule_id}{box}: {f.message}")
            lines.append(f"      {f.citation}")
        return "\n".join(lines)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    with open(name, "rb") as handle:
        return handle.read()


def judge(source: str, data: bytes, ctx: RuleContext) -> Verdict:
    """Parse and validate one document."""
    try:
        declaration = parse_declaration(data)
    except DeclarationSyntaxError as exc:
        return Verdict(source, "unreadable", error=exc)
    except Exception as exc:  # a reader bug must not read as exit 1, "rejected"
        error = DeclarationSyntaxError(
            "FMT-INTERNAL", f"error interno al leer el documento ({type(exc).__name__})"
        )
        return Verdict(source, "unreadable", error=error)
    findings = validate(declaration, ctx)
    status: Status = "rejected" if has_errors(findings) else "accepted"
    return Verdict(source, status, declaration, findings)


def run(args: argparse.Namespace) -> int:
    as_of: date = args.as_of or transmission_date(SystemClock().now())
    ctx = RuleContext(as_of=as_of, offices=load_offices(), addressed_office=args.office)
    verdicts: list[Verdict] = []
    for name in args.files:
        source = "stdin" if name == "-" else name
        try:
            data = _read(name)
        except OSError as exc:
            error = DeclarationSyntaxError("FMT-IO", f"no se pudo leer el archivo: {exc.strerror}")
            verdicts.append(Verdict(source, "unreadable", error=error))
            continue
        verdicts.append(judge(source, data, ctx))
    if args.json:
        print(json.dumps([v.as_json() for v in verdicts], ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(v.as_text() for v in verdicts))
        print(f"\n{_OFFLINE_NOTE}")
    return max(_EXIT[v.status] for v in verdicts)
