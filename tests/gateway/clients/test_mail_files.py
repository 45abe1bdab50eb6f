"""The agent's mail as files: what a submission carries, and what a saved message is called."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from config.clock import FixedClock
from gateway.clients.agent import FetchedMessage
from gateway.clients.mail_files import build_submission, message_file_name, save_messages


def test_a_submission_carries_each_file_with_its_type(tmp_path: Path) -> None:
    files = [tmp_path / "dua.txt", tmp_path / "dua.edi", tmp_path / "dua.json"]
    for path in files:
        path.write_bytes(b"contenido de " + path.name.encode() + b"\n")
    clock = FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    built = build_submission(
        files, sender="agente1@agencias.pe", recipient="aduana-118@aduanas.gob.pe", clock=clock
    )
    parsed = BytesParser(policy=email.policy.default).parsebytes(built.as_bytes())
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "Teledespacho: dua.txt, dua.edi, dua.json"
    assert parsed["Message-ID"].endswith("@agencias.pe>")
    attachments = [
        (part.get_filename(), part.get_content_type(), part.get_content())
        for part in parsed.iter_attachments()
    ]
    assert attachments == [
        ("dua.txt", "text/plain", "contenido de dua.txt\n"),
        ("dua.edi", "application/edifact", b"contenido de dua.edi\n"),
        ("dua.json", "application/json", b"contenido de dua.json\n"),
    ]


def test_a_saved_message_is_named_by_its_date_reference_and_identity(tmp_path: Path) -> None:
    answer = (
        b"Date: Mon, 02 Nov 2026 09:30:00 -0500\r\nMessage-ID: <a@aduanas.gob.pe>\r\n"
        b"X-Teledespacho-Reference: REF/001 x\r\n\r\nACEPTADA\r\n"
    )
    name = message_file_name(answer)
    assert name.startswith("20261102-093000-REF_001_x-") and name.endswith(".eml")
    undated = message_file_name(b"Subject: hola\r\n\r\n")
    assert undated.startswith("sin-fecha-")
    assert message_file_name(b"Subject: otra\r\n\r\n") != undated  # the bytes tell them apart
    written = save_messages([FetchedMessage("1", answer)], tmp_path / "buzon")
    assert [path.name for path in written] == [name]
    assert written[0].read_bytes() == answer
