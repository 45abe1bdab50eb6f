"""Alembic migrations of the store; applied by ``teledispatch serve`` and ``db upgrade``."""
