"""What a database sends to PostgreSQL: its statements and its transaction commands."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from mailboxes.database import Database

__all__ = ["Observed"]


class Observed:
    """What runs on a database's writer: the statements SQLAlchemy hands to the driver, and
    the transaction commands the driver sends (its query log: ``BEGIN``, ``COMMIT``)."""

    def __init__(self, database: Database) -> None:
        self.statements: list[str] = []
        self.commands: list[str] = []
        self._engine = database.writer.sync_engine
        self._logging: list[Any] = []

    def _executed(self, *args: Any) -> None:
        self.statements.append(args[2])

    def _sent(self, query: Any) -> None:
        self.commands.append(query.query.strip().rstrip(";").upper())

    def _checked_out(self, dbapi_connection: Any, *_: Any) -> None:
        driver = dbapi_connection.driver_connection
        driver.add_query_logger(self._sent)
        self._logging.append(driver)

    def __enter__(self) -> Observed:
        event.listen(self._engine, "before_cursor_execute", self._executed)
        event.listen(self._engine, "checkout", self._checked_out)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._executed)
        event.remove(self._engine, "checkout", self._checked_out)
        for driver in self._logging:
            driver.remove_query_logger(self._sent)
