"""Which store failures are the database's trouble (retried, charged to nobody)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from mailboxes.errors import store_unavailable


def test_the_database_out_of_reach_locked_or_cut_off_is_its_own_trouble() -> None:
    driver_error = Exception("driver")
    assert store_unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert store_unavailable(OperationalError("COMMIT", {}, driver_error))  # locked, full
    assert store_unavailable(
        DBAPIError("COMMIT", {}, driver_error, connection_invalidated=True)  # a restart
    )


def test_a_statement_the_database_refuses_is_the_works_trouble() -> None:
    driver_error = Exception("driver")
    assert not store_unavailable(IntegrityError("INSERT", {}, driver_error))
    assert not store_unavailable(DBAPIError("SELECT", {}, driver_error))
    assert not store_unavailable(ValueError("a bug"))
