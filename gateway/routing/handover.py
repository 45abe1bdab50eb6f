"""The numbering handover of an office move, as a mail between nodes (sans-IO).

Addressed to ``traspaso-<code>@<domain>`` on the office's new node, from the null path,
accepted only from a peer; the body is JSON (ASCII, one value a line, so no line nears the
998-octet limit however many counters): the office, the move's serial, both nodes and the
old node's counters. Written with ``gateway.mail``.
"""

from __future__ import annotations

import email.utils
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from gateway.mail import address_field, field, ids_field, literal_part, message
from mailboxes.handover import CounterValue

__all__ = ["Handover", "HandoverError", "handover_address", "handover_office", "parse", "render"]

_ADDRESS = re.compile(r"^traspaso-(?P<code>\d{3})@(?P<domain>.+)$")


class HandoverError(ValueError):
    """The message is not a well-formed handover."""


@dataclass(frozen=True, slots=True)
class Handover:
    office: str
    serial: int
    from_node: str
    to_node: str
    counters: list[CounterValue]


def handover_address(office: str, domain: str) -> str:
    return f"traspaso-{office}@{domain}"


def handover_office(address: str, domain: str) -> str | None:
    """The office code if ``address`` is a handover address of ``domain``."""
    match = _ADDRESS.match(address)
    if match is None or match["domain"] != domain.lower():
        return None
    return match["code"]


def render(handover: Handover, *, domain: str, now: datetime) -> bytes:
    body = json.dumps(
        {
            "office": handover.office,
            "serial": handover.serial,
            "from_node": handover.from_node,
            "to_node": handover.to_node,
            "counters": [
                {"year": c.year, "regime": c.regime, "last": c.last} for c in handover.counters
            ],
        },
        sort_keys=True,
        indent=1,
    )
    address = handover_address(handover.office, domain)
    fields = [
        address_field("From", address),
        address_field("To", address),
        field("Subject", f"Traspaso de numeracion {handover.office} ({handover.serial})"),
        field("Date", email.utils.format_datetime(now)),
        ids_field("Message-ID", f"<{uuid.uuid4().hex}@{handover.from_node}.{domain}>"),
    ]
    part = literal_part("application/json", body.encode("ascii") + b"\n")
    return message(fields, part)


def parse(raw: bytes) -> Handover:
    _, _, body = raw.partition(b"\r\n\r\n")
    try:
        data = json.loads(body)
        return Handover(
            office=str(data["office"]),
            serial=int(data["serial"]),
            from_node=str(data["from_node"]),
            to_node=str(data["to_node"]),
            counters=[
                CounterValue(int(c["year"]), str(c["regime"]), int(c["last"]))
                for c in data["counters"]
            ],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise HandoverError(f"not a numbering handover: {exc}") from exc
