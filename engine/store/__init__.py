"""The store: every evaluation kept, auditable and comparable (SQLite or PostgreSQL via SQLModel).

Public API (see docs/store.md):
- ``Store(url, create=True)``: open (and on an empty database create) the store.
- ``begin_run`` / ``resume_plan`` / ``resume_run`` -> ``RunWriter`` with ``save_chunk`` and ``finish``.
- ``list_runs``, ``run_detail``, ``run_findings``, ``record_history``, ``diff_runs``.
- ``next_letter_number``, ``record_letter``, ``letters_for_record`` for issued letters.
"""

from engine.store.database import DEFAULT_DB_FILE, ENV_VAR, StoreError, resolve_url
from engine.store.letters import letters_for_record, next_letter_number, record_letter
from engine.store.queries import diff_runs, list_runs, record_history, run_detail, run_findings
from engine.store.runs import RunSummary, RunWriter, begin_run, resume_plan, resume_run
from engine.store.store import Store

__all__ = [
    "DEFAULT_DB_FILE", "ENV_VAR", "RunSummary", "RunWriter", "Store", "StoreError", "begin_run", "diff_runs",
    "letters_for_record", "list_runs", "next_letter_number", "record_history", "record_letter", "resolve_url",
    "resume_plan", "resume_run", "run_detail", "run_findings",
]
