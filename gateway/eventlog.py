"""One log line per thing an operator follows: a submission taken, a declaration answered.

The node logs these at INFO as *events*: a name and fields (``event("answer", reference=…)``).
How they are written is the operator's choice (setting ``log_format``): ``text`` lines with
``key=value`` pairs, as Postfix's log is grepped, or one JSON object per line, for a log
collector. Other log records are written the same way, with their message as the text.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any, Final, Literal

__all__ = ["EventFormatter", "LogFormat", "event"]

LogFormat = Literal["text", "json"]

_FIELDS: Final = "teledespacho_fields"
_TEXT_SAFE: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.:-_/+,"
)


def event(logger: logging.Logger, name: str, **fields: object) -> None:
    """Log the event ``name`` with ``fields`` at INFO (None values are left out).

    The record is made here rather than by ``logger.info``, which would walk the stack to
    find its caller: this function, every time (``_SOURCE``)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    present = {key: value for key, value in fields.items() if value is not None}
    record = logger.makeRecord(
        logger.name, logging.INFO, *_SOURCE, name, (), None, "event", {_FIELDS: present}
    )
    logger.handle(record)


_SOURCE: Final = (event.__code__.co_filename, event.__code__.co_firstlineno)
"""Where an event's record says it was logged (``logger.info`` would find this function)."""


class EventFormatter(logging.Formatter):
    """Writes records as ``text`` (``… name key=value …``) or as one JSON object a line."""

    def __init__(self, style: LogFormat = "text") -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._output = style
        self._stamp: tuple[int, str] = (-1, "")  # a second, and its date and time

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, _FIELDS, {})
        if self._output == "json":
            return self._json(record, fields)
        if record.exc_info or record.exc_text or record.stack_info:
            line = super().format(record)
        else:  # what ``super().format`` writes, its date and time made once a second
            record.message = record.getMessage()
            record.asctime = self.formatTime(record)
            line = f"{record.asctime} {record.levelname} {record.name}: {record.message}"
        if fields:
            pairs = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
            head, _, tail = line.partition("\n")  # a traceback stays after the pairs
            line = f"{head} {pairs}" + (f"\n{tail}" if tail else "")
        return line

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """``logging.Formatter``'s own, its ``strftime`` done once per second: every intake
        and every answer writes a line, hundreds a second."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        stamp = self._stamp  # one tuple: handlers in other threads may share the formatter
        if stamp[0] != second:
            text = time.strftime(self.default_time_format, self.converter(second))
            stamp = self._stamp = (second, text)
        msec_format = self.default_msec_format
        return stamp[1] if msec_format is None else msec_format % (stamp[1], record.msecs)

    def _json(self, record: logging.LogRecord, fields: dict[str, Any]) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if fields:
            out["event"] = record.getMessage()
            out.update({key: _json_value(value) for key, value in fields.items()})
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def _json_value(value: object) -> object:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return str(value)


def _text_value(value: object) -> str:
    if type(value) is str:  # most values: no conversion to look for
        text = value
    elif isinstance(value, list | tuple):
        text = ",".join(map(str, value))
    else:
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
    if text and _TEXT_SAFE.issuperset(text):  # a set walk in C, not a generator a char
        return text
    return json.dumps(text, ensure_ascii=False)  # quoted, with its blanks and quotes escaped
