"""The office's answer as a CUSRES D.96B interchange, and back.

Addressed to the CUSDEC's sender (UNB S002 identification and qualifier) so the agent's
translator routes it. BGM: 1001 962 (customs response), the CUSDEC's document number and the
verdict in 4343 (AP accepted, RE rejected); DTM+137 the time of receipt; LOC+22 the office;
GIS the control channel. Segment group 3 refers back to the request: RFF+ACW its message
reference (0062), RFF+ZZZ its interchange control reference (0020), and on acceptance
RFF+AAE the number assigned with its date. Each finding is one segment group 4: ERP (where,
when it can be told), ERC with the finding's code (rule id, list REG) and its severity (list
SEV), and FTX+AAO segments holding the rule, field, message and citation in full, cut at
word boundaries. Segment group 6 (DOC 929/830) names the declaration answered. Interchange
syntax errors also get a CONTRL (``contrl``): D.96B's CUSRES does not replace it.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError

from edi_formats.edifact import codes as c
from edi_formats.edifact.identity import RequestReferences
from edi_formats.edifact.segments import EdiSegment, Element
from edi_formats.edifact.syntax import SegmentSpec, read_interchange, write_interchange
from edi_formats.edifact.values import FTX_PART, FTX_PARTS, split_text, text_value
from edi_formats.errors import DeclarationSyntaxError
from edi_formats.responses import DeclarationResponse, ResponseFinding, ResponseStatus
from edi_formats.validation_errors import describe_error, json_path

__all__ = ["error_code", "parse_cusres", "render_cusres"]

DEFAULT_RECIPIENT: Final = "DESPACHADOR"
"""UNB recipient when the agent's EDI identity is not known to the caller."""

_SERIES_FIELD: Final = re.compile(r"series\[(\d+)\]")
_SEGMENT_POSITION: Final = re.compile(r"segmento (\d+) del mensaje \(([A-Z0-9]{3})\)")
_TIMESTAMP: Final = re.compile(r"(\d{14})(UTC)?")
_PARTS: Final = {
    c.PART_RULE: "rule_id",
    c.PART_FIELD: "field",
    c.PART_MESSAGE: "message",
    c.PART_CITATION: "citation",
}


def _timestamp(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%d%H%M%S}UTC"


def _error_point(field: str | None) -> list[Element | None]:
    """ERP's C701/C853 for a finding's field: a series, a CUSDEC segment, or the heading."""
    if field is not None:
        series = _SERIES_FIELD.match(field)
        if series is not None:
            return [(c.SECTION_ITEM, str(int(series.group(1)) + 1))]
        segment = _SEGMENT_POSITION.search(field)
        if segment is not None and len(segment.group(1)) <= 6:
            return [None, (segment.group(2), segment.group(1))]
    return [c.SECTION_HEADING]


def _part(part: str, text: str | None) -> list[SegmentSpec]:
    if text is None:
        return []
    pieces = split_text(text, FTX_PART)
    reference = (part, c.LIST_FINDING_PART, c.MUTUALLY_DEFINED)
    return [
        ("FTX", [c.TEXT_ERROR, None, reference, tuple(pieces[start : start + FTX_PARTS])])
        for start in range(0, len(pieces), FTX_PARTS)
    ]


def error_code(rule_id: str) -> str:
    """9321 (an..8) for a finding: its rule id, or a stable short code when the id is longer.

    The short code is the rule id's CRC-32 in hexadecimal; the id itself travels in full in
    the group's FTX+AAO REG, so nothing is lost.
    """
    if len(rule_id) <= 8 and rule_id.isascii():
        return rule_id
    return f"{zlib.crc32(rule_id.encode('utf-8')):08X}"


def _finding(finding: ResponseFinding) -> list[SegmentSpec]:
    severity = c.SEVERITY_CODE[finding.severity]
    out: list[SegmentSpec] = [
        ("ERP", _error_point(finding.field)),
        ("ERC", [(error_code(finding.rule_id), c.LIST_RULE, c.MUTUALLY_DEFINED)]),
        ("ERC", [(severity, c.LIST_SEVERITY, c.MUTUALLY_DEFINED)]),
    ]
    out += _part(c.PART_RULE, finding.rule_id)
    out += _part(c.PART_FIELD, finding.field)
    out += _part(c.PART_MESSAGE, finding.message)
    out += _part(c.PART_CITATION, finding.citation)
    return out


def _control_reference(resp: DeclarationResponse) -> str:
    """A reference (0020, n14) fixed by what the interchange says, so rendering is canonical."""
    sent_at = resp.received_at.astimezone(UTC).replace(microsecond=0)
    as_sent = resp.model_copy(update={"received_at": sent_at})
    digest = hashlib.sha256(as_sent.model_dump_json().encode()).hexdigest()
    return f"{int(digest[:16], 16) % 10**14:014d}"


def render_cusres(
    resp: DeclarationResponse,
    *,
    request: RequestReferences | None = None,
    control_reference: str | None = None,
) -> bytes:
    """``resp`` as a CUSRES D.96B interchange from the office (canonical, deterministic).

    ``request`` (what could be read of the CUSDEC answered) addresses it and refers back.
    """
    request = request or RequestReferences()
    accepted = resp.status is ResponseStatus.ACCEPTED
    received = _timestamp(resp.received_at)
    body: list[SegmentSpec] = [
        (
            "BGM",
            [
                c.RESPONSE_DOCUMENT,
                request.document_number or resp.agent_reference,
                c.MESSAGE_ORIGINAL,
                c.RESPONSE_ACCEPTED if accepted else c.RESPONSE_REJECTED,
            ],
        ),
        ("DTM", [(c.DATE_DOCUMENT, received, c.TIMESTAMP_FORMAT)]),
    ]
    if resp.office is not None:
        body.append(("LOC", [c.LOCATION_CLEARANCE, resp.office]))
    if resp.channel is not None:
        code = c.CHANNEL_CODE[resp.channel.value]
        body.append(("GIS", [(code, c.LIST_CHANNEL, c.MUTUALLY_DEFINED)]))
    if request.message_reference is not None:
        body.append(("RFF", [(c.REFERENCE_PREVIOUS_MESSAGE, request.message_reference)]))
    if request.control_reference is not None:
        body.append(("RFF", [(c.REFERENCE_OWN, request.control_reference)]))
    if resp.number is not None:
        body.append(("RFF", [(c.REFERENCE_DECLARATION, resp.number)]))
        body.append(("DTM", [(c.DATE_ISSUE, received, c.TIMESTAMP_FORMAT)]))
    for finding in resp.findings:
        body += _finding(finding)
    if resp.document_type is not None:
        body.append(("DOC", [c.DOCUMENT_NAME[resp.document_type], resp.agent_reference]))
    sender = f"ADUANA{resp.office}" if resp.office else "ADUANAS"
    recipient = (request.sender or DEFAULT_RECIPIENT, request.sender_qualifier or "")
    if request.sender is None:
        recipient = (DEFAULT_RECIPIENT, c.PARTNER_QUALIFIER)
    return write_interchange(
        sender=(sender, c.PARTNER_QUALIFIER),
        recipient=recipient,
        prepared=resp.received_at.astimezone(UTC).replace(tzinfo=None),
        control_reference=control_reference or _control_reference(resp),
        message_type=c.CUSRES,
        body=body,
    )


# -- reading --------------------------------------------------------------------------------------


def _error(code: str, message: str, where: str | None) -> DeclarationSyntaxError:
    return DeclarationSyntaxError(code, message, where)


def _received(segment: EdiSegment) -> datetime:
    value, shape = segment.get(1, 2), segment.get(1, 3)
    found = _TIMESTAMP.fullmatch(value)
    if shape not in (c.TIMESTAMP_FORMAT, "204") or found is None:
        raise _error(
            "EDI-VALUE",
            f"fecha y hora {value!r} ({shape}): se espera CCYYMMDDHHMMSS seguido de UTC (304)",
            segment.where(1, 2),
        )
    try:
        return datetime.strptime(found.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise _error("EDI-VALUE", f"la fecha {value!r} no existe", segment.where(1, 2)) from None


def _bgm(segment: EdiSegment, data: dict[str, Any]) -> None:
    name = segment.get(1, 1)
    if name != c.RESPONSE_DOCUMENT:
        raise _error(
            "EDI-VALUE", f"documento {name!r}: una respuesta de aduana es 962", segment.where(1)
        )
    verdict = segment.get(4)
    statuses = {c.RESPONSE_ACCEPTED: "accepted", c.RESPONSE_REJECTED: "rejected"}
    if verdict not in statuses:
        raise _error("EDI-VALUE", f"resultado {verdict!r}: se espera AP o RE", segment.where(4))
    data["status"] = statuses[verdict]


def _coded(segment: EdiSegment, element: int, code_list: str) -> str:
    if segment.get(element, 2) != code_list:
        raise _error(
            "EDI-VALUE",
            f"se espera un código de la lista {code_list}, no {segment.get(element, 2)!r}",
            segment.where(element, 2),
        )
    return segment.get(element, 1)


def _finding_part(segment: EdiSegment, finding: dict[str, Any]) -> None:
    if segment.get(1) != c.TEXT_ERROR:
        raise _error("EDI-SEGMENT", f"texto de asunto {segment.get(1)!r} (AAO)", segment.where(1))
    key = _PARTS.get(_coded(segment, 3, c.LIST_FINDING_PART))
    if key is None:
        raise _error(
            "EDI-VALUE", f"parte {segment.get(3, 1)!r} de la observación", segment.where(3)
        )
    text = "".join(
        text_value(segment, 4, number, max_length=FTX_PART, what="texto") or ""
        for number in range(1, len(segment.components(4)) + 1)
    )
    finding[key] = finding.get(key, "") + text


def _read(body: tuple[EdiSegment, ...]) -> dict[str, Any]:
    if not body or body[0].tag != "BGM":
        raise _error(
            "EDI-SEGMENT", "el mensaje CUSRES empieza con BGM", body[0].where() if body else None
        )
    data: dict[str, Any] = {"findings": []}
    _bgm(body[0], data)
    data["agent_reference"] = body[0].get(2) or None  # unless a DOC group names the declaration
    finding: dict[str, Any] | None = None
    for segment in body[1:]:
        tag, qualifier = segment.tag, segment.get(1, 1)
        if tag == "ERP":
            finding = {}
            data["findings"].append(finding)
        elif finding is not None and tag == "ERC" and segment.get(1, 2) == c.LIST_RULE:
            continue  # the rule id travels in full in FTX+AAO REG
        elif finding is not None and tag == "ERC":
            severities = {code: name for name, code in c.SEVERITY_CODE.items()}
            finding["severity"] = severities.get(_coded(segment, 1, c.LIST_SEVERITY), "?")
        elif tag == "DOC":
            kinds = {code: kind for kind, code in c.DOCUMENT_NAME.items()}
            if qualifier not in kinds:
                raise _error(
                    "EDI-VALUE", f"documento respondido {qualifier!r} (929 u 830)", segment.where(1)
                )
            data["document_type"] = kinds[qualifier]
            data["agent_reference"] = segment.get(2) or None
            finding = None
        elif finding is not None and tag == "FTX":
            _finding_part(segment, finding)
        elif finding is None and tag == "DTM" and qualifier == c.DATE_DOCUMENT:
            data["received_at"] = _received(segment)
        elif finding is None and tag == "DTM" and qualifier == c.DATE_ISSUE:
            _received(segment)
        elif finding is None and tag == "LOC" and qualifier == c.LOCATION_CLEARANCE:
            data["office"] = text_value(segment, 2, max_length=25, what="aduana")
        elif finding is None and tag == "GIS":
            codes = {code: name for name, code in c.CHANNEL_CODE.items()}
            data["channel"] = codes.get(_coded(segment, 1, c.LIST_CHANNEL), "?")
        elif finding is None and tag == "RFF" and qualifier == c.REFERENCE_DECLARATION:
            data["number"] = segment.get(1, 2)
        elif finding is None and tag == "RFF":
            continue  # the references of the CUSDEC answered
        else:
            raise _error(
                "EDI-SEGMENT", f"segmento {tag} no previsto en la respuesta", segment.where()
            )
    return data


def parse_cusres(data: bytes) -> DeclarationResponse:
    """The response in a CUSRES interchange written by ``render_cusres``."""
    fields = _read(read_interchange(data, c.CUSRES).body)
    try:
        return DeclarationResponse.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise _error("EDI-VALUE", describe_error(error), json_path(error["loc"])) from None
