"""The store's one error type, in a module of its own: a batch that stores nothing can catch it without
importing the database layer (SQLAlchemy and Alembic are a third of a second to import)."""

from __future__ import annotations


class StoreError(Exception):
    """A store that cannot be opened, is out of date, or was asked for something it does not hold."""
