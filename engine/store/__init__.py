"""The store: every evaluation kept, auditable and comparable (SQLite or PostgreSQL via SQLModel).

Public API (see docs/store.md):
- ``Store(url, create=True)``: open (and on an empty database create) the store.
- ``begin_run`` / ``resume_plan`` / ``resume_run`` -> ``RunWriter`` with ``save_chunk`` and ``finish``.
- ``list_runs``, ``run_detail``, ``run_findings``, ``record_history``, ``compare_runs`` / ``diff_runs``.
- ``next_letter_number``, ``record_letter``, ``letters_for_record`` for issued letters.
- ``default_db_path`` (engine/store/location.py): where the store lives unless --db / $COMPLIANCE_DB say.

The names are loaded on first use (PEP 562), so ``engine.store.location`` can be imported without
SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "DEFAULT_DB_FILE": "location",
    "ENV_VAR": "location",
    "default_db_path": "location",
    "StoreError": "database",
    "resolve_url": "database",
    "letters_for_record": "letters",
    "next_letter_number": "letters",
    "record_letter": "letters",
    "compare_runs": "diffs",
    "diff_runs": "diffs",
    "list_runs": "run_reads",
    "record_history": "record_reads",
    "run_detail": "run_reads",
    "run_findings": "finding_reads",
    "RunSummary": "runs",
    "RunWriter": "run_writer",
    "begin_run": "runs",
    "resume_plan": "runs",
    "resume_run": "runs",
    "Store": "store",
}

__all__ = [
    "DEFAULT_DB_FILE",
    "ENV_VAR",
    "RunSummary",
    "RunWriter",
    "Store",
    "StoreError",
    "begin_run",
    "compare_runs",
    "default_db_path",
    "diff_runs",
    "letters_for_record",
    "list_runs",
    "next_letter_number",
    "record_history",
    "record_letter",
    "resolve_url",
    "resume_plan",
    "resume_run",
    "run_detail",
    "run_findings",
]
assert sorted(__all__) == sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


if TYPE_CHECKING:
    from engine.store.database import StoreError, resolve_url
    from engine.store.diffs import compare_runs, diff_runs
    from engine.store.finding_reads import run_findings
    from engine.store.letters import letters_for_record, next_letter_number, record_letter
    from engine.store.location import DEFAULT_DB_FILE, ENV_VAR, default_db_path
    from engine.store.record_reads import record_history
    from engine.store.run_reads import list_runs, run_detail
    from engine.store.run_writer import RunWriter
    from engine.store.runs import RunSummary, begin_run, resume_plan, resume_run
    from engine.store.store import Store
