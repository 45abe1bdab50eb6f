"""The Alembic migrations build exactly the schema the models describe, on both backends.

A column, index or constraint added to ``mailboxes.schema`` without a migration (or the
other way round) shows here as a difference, before it shows as a failing deployment.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from mailboxes.schema import Base
from mailboxes.store import Store


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_is_the_models_schema(store: Store) -> None:
    async with store.database.writer.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []
