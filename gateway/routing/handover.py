"""The numbering handover of an office move, as a mail between nodes (sans-IO).

Addressed to ``traspaso-<code>@<domain>`` on the office's new node, from the null path,
accepted only from a peer; the body is JSON: the office, the move's serial, both nodes and
the old node's counters.
"""

from __future__ import annotations

import email.utils
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

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
    )
    head = (
        f"From: <{handover_address(handover.office, domain)}>\r\n"
        f"To: <{handover_address(handover.office, domain)}>\r\n"
        f"Subject: Traspaso de numeracion {handover.office} ({handover.serial})\r\n"
        f"Date: {email.utils.format_datetime(now)}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@{handover.from_node}.{domain}>\r\n"
        "Content-Type: application/json\r\n"
        "\r\n"
    )
    return (head + body + "\r\n").encode()


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
