"""The store's tables (SQLModel).

Every constraint and index is named explicitly so the Alembic migrations can refer to them and the
schema compares equal on SQLite and PostgreSQL. Decimals (values, thresholds) are kept as text so they
come back exactly as judged; record values are canonical JSON text for the same reason.

Identity of a record: kind, record id and period (the report year for kinds that report once a year,
"" otherwise). Each distinct content of one identity is a version; a new version points to the
previous one.

Each table model declares ``__table__: ClassVar[Table]``: SQLAlchemy sets it, SQLModel does not declare
it, and the declaration lets ``Model.__table__.c.column`` type-check (a bare annotation: no value, no
field, no change to the mapping).
"""

from __future__ import annotations

from sqlmodel import SQLModel

from engine.store.finding_tables import CheckKey, CheckVersion, RunMessage, SharedMessage, StoredFinding
from engine.store.letter_tables import AuditEvent, Letter, LetterJudgement, LetterSequence, User, WebJob
from engine.store.run_tables import BigId, RecordVersion, Run, RunChunk, RunPack, RunRecord

__all__ = [
    "TABLES",
    "AuditEvent",
    "BigId",
    "CheckKey",
    "CheckVersion",
    "Letter",
    "LetterJudgement",
    "LetterSequence",
    "RecordVersion",
    "Run",
    "RunChunk",
    "RunMessage",
    "RunPack",
    "RunRecord",
    "SharedMessage",
    "StoredFinding",
    "User",
    "WebJob",
    "metadata",
]

metadata = SQLModel.metadata
TABLES = [
    Run,
    RunPack,
    RunChunk,
    RecordVersion,
    RunRecord,
    CheckKey,
    CheckVersion,
    StoredFinding,
    RunMessage,
    Letter,
    LetterSequence,
    LetterJudgement,
]
TABLES += [User, AuditEvent, WebJob]
