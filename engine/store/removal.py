"""Removing a run that stored nothing usable (a batch whose files held no valid record).

Every table with a ``run_id`` column loses that run's rows, children before parents, so a table
added by a later migration is covered without being named here.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import SQLModel

import engine.store.models  # noqa: F401  (registers the tables in SQLModel.metadata)
from engine.store.database import StoreError
from engine.store.store import Store


def discard_run(store: Store, run_id: int) -> None:
    """Delete run `run_id` and everything stored under it; refuse if it holds record versions."""
    tables = SQLModel.metadata.sorted_tables
    with store.write() as conn:
        versions = SQLModel.metadata.tables["record_versions"]
        if conn.execute(versions.select().where(versions.c.first_run_id == run_id).limit(1)).first():
            raise StoreError(f"run {run_id} stored records; it is not discarded")
        for t in reversed(tables):
            if "run_id" in t.c and t.name != "runs":
                conn.execute(delete(t).where(t.c.run_id == run_id))
        runs = SQLModel.metadata.tables["runs"]
        conn.execute(delete(runs).where(runs.c.id == run_id))
