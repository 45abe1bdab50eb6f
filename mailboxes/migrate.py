"""Apply the Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from mailboxes.database import Database

__all__ = ["alembic_config", "upgrade"]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "mailboxes:migrations")
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision; idempotent."""
    async with database.writer.connect() as connection:
        await connection.run_sync(_upgrade)
        await connection.commit()
