"""The clients' tests that need a store run on both backends (``tests.backends``)."""

from tests.backends import database_url, store

__all__ = ["database_url", "store"]
