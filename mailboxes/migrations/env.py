"""Alembic environment: runs on the connection handed in by ``mailboxes.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from mailboxes.schema import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # plain `alembic` command line: use the configured URL synchronously
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection")
    with create_engine(url).connect() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
