"""The operator's log lines: events as key=value text or as JSON."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.eventlog import EventFormatter, event


def _record(caplog: pytest.LogCaptureFixture, **fields: object) -> logging.LogRecord:
    logger = logging.getLogger("teledespacho.test")
    with caplog.at_level(logging.INFO, logger=logger.name):
        event(logger, "answer", **fields)
    (record,) = caplog.records
    return record


def test_text_events_are_key_value_pairs_quoted_only_when_needed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = _record(
        caplog, job=7, reference="20261204-DUA-001", verdict="accepted", seconds=0.25,
        rcpt=["aduana-118@aduanas.gob.pe", "x@y.pe"], note='dos "palabras"', number=None,
    )  # fmt: skip
    line = EventFormatter("text").format(record)
    assert line.endswith(
        ": answer job=7 reference=20261204-DUA-001 verdict=accepted seconds=0.250 "
        'rcpt=aduana-118@aduanas.gob.pe,x@y.pe note="dos \\"palabras\\""'
    )
    assert "number" not in line  # absent values are left out


def test_json_events_are_one_object_a_line(caplog: pytest.LogCaptureFixture) -> None:
    record = _record(caplog, job=7, verdict="rejected", rcpt=["a@b.pe"])
    line = EventFormatter("json").format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["event"] == "answer" and data["job"] == 7 and data["rcpt"] == ["a@b.pe"]
    assert data["level"] == "info" and data["logger"] == "teledespacho.test"


def test_plain_records_keep_their_message(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("teledespacho.test")
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.warning("disk %s", "full")
    (record,) = caplog.records
    assert json.loads(EventFormatter("json").format(record))["message"] == "disk full"
    assert EventFormatter("text").format(record).endswith("teledespacho.test: disk full")


def test_text_lines_start_as_the_logging_packages_own_formatter_writes_them() -> None:
    """The date and time are made once a second: records a second apart, and again the
    first second, each get their own, as ``logging.Formatter`` gives them."""
    ours = EventFormatter("text")
    standard = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger = logging.getLogger("teledespacho.test")
    for created in (1_764_806_400.0, 1_764_806_400.999, 1_764_806_401.5, 1_764_806_400.25):
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "a %s", ("b",), None)
        record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
        assert ours.format(record) == standard.format(record)


def test_an_event_is_a_record_at_info_from_the_event_function(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = _record(caplog, job=7)
    assert record.levelno == logging.INFO and record.name == "teledespacho.test"
    assert record.funcName == "event" and record.pathname.endswith("eventlog.py")
    logger = logging.getLogger("teledespacho.test")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        event(logger, "answer", job=8)  # below the logger's level: nothing
    assert len(caplog.records) == 1
