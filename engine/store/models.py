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

import datetime as dt
from typing import ClassVar

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Findings may outgrow 32-bit ids on PostgreSQL; SQLite needs INTEGER for its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _utc(value: dt.datetime | None = None) -> dt.datetime:
    return value or dt.datetime.now(dt.UTC)


class Run(SQLModel, table=True):
    """One `compliance evaluate`: who, when, on what, with which rules, and what came out."""

    __tablename__ = "runs"
    __table__: ClassVar[Table]

    id: int | None = Field(default=None, primary_key=True)
    started_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reviewer: str = Field(max_length=200)
    as_of: dt.date | None = None
    kind: str | None = Field(default=None, max_length=40)
    chunk_size: int
    engine: str = Field(max_length=20)
    engine_version: str = Field(max_length=40)
    policy_fingerprint: str = Field(max_length=64)
    rules_dirs: str = Field(sa_type=Text)  # JSON list of extra pack folders
    inputs: str = Field(sa_type=Text)  # JSON list of {path, sha256, size}
    n_records: int = 0
    n_rejected: int = 0
    n_file_problems: int = 0
    n_findings: int = 0
    counts: str = Field(default="{}", sa_type=Text)  # JSON {status: count}, filled when finished
    resumed: int = 0  # how many times --resume continued it


class RunPack(SQLModel, table=True):
    """A rule pack used by a run, with the fingerprint of its exact content."""

    __tablename__ = "run_packs"
    __table__: ClassVar[Table]

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_run_packs_run"), primary_key=True)
    )
    pack_id: str = Field(primary_key=True, max_length=100)
    title: str = Field(sa_type=Text)
    number: str = Field(max_length=100)  # the document number, e.g. 菏政发〔2024〕11号
    fingerprint: str = Field(max_length=64)


class RunChunk(SQLModel, table=True):
    """A chunk committed by a run; written in the same transaction as the chunk's content."""

    __tablename__ = "run_chunks"
    __table__: ClassVar[Table]

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_run_chunks_run"), primary_key=True)
    )
    chunk: int = Field(primary_key=True)
    committed_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    n_records: int
    n_rejected: int
    n_file_problems: int
    n_findings: int


class RecordVersion(SQLModel, table=True):
    """One distinct content of a record as submitted, normalised."""

    __tablename__ = "record_versions"
    __table__: ClassVar[Table]
    __table_args__ = (
        UniqueConstraint("kind", "record_id", "period", "content_hash", name="uq_record_versions_content"),
        UniqueConstraint("kind", "record_id", "period", "version", name="uq_record_versions_version"),
        Index("ix_record_versions_record_id", "record_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    record_id: str = Field(max_length=200)
    period: str = Field(default="", max_length=20)
    version: int
    content_hash: str = Field(max_length=64)
    name: str | None = Field(default=None, sa_type=Text)
    values_json: str = Field(sa_type=Text)
    previous_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("record_versions.id", name="fk_record_versions_previous")),
    )
    first_run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_record_versions_run"), nullable=False)
    )
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RunRecord(SQLModel, table=True):
    """A record version submitted to a run, and where it was read from."""

    __tablename__ = "run_records"
    __table__: ClassVar[Table]
    __table_args__ = (Index("ix_run_records_record_version", "record_version_id"),)

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_run_records_run"), primary_key=True)
    )
    record_version_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("record_versions.id", name="fk_run_records_record"), primary_key=True
        )
    )
    chunk: int
    file: str = Field(sa_type=Text)
    sheet: str | None = Field(default=None, max_length=200)
    row: int | None = None


class CheckKey(SQLModel, table=True):
    """A check's namespaced id, numbered once; findings refer to the number (one finding per check)."""

    __tablename__ = "checks"
    __table__: ClassVar[Table]
    __table_args__ = (UniqueConstraint("check_id", name="uq_checks_check_id"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: str = Field(max_length=200)  # namespaced: heze-2024:m9.invest_per_mu


class CheckVersion(SQLModel, table=True):
    """What every finding of one check version shares (titles, version text, unit, due), stored once.

    Kept out of the findings table, which has a row per record and check: this part was two thirds of
    a finding row (measured: 171 MB against 74 MB for 20,000 projects) and of the time to insert it.
    """

    __tablename__ = "check_versions"
    __table__: ClassVar[Table]
    __table_args__ = (
        UniqueConstraint("fingerprint", name="uq_check_versions_fingerprint"),
        Index("ix_check_versions_check", "check_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    check_ref: int = Field(
        sa_column=Column(Integer, ForeignKey("checks.id", name="fk_check_versions_check"), nullable=False)
    )
    fingerprint: str = Field(max_length=64)  # SHA-256 of every column below: same content, same row
    check_version: str = Field(sa_type=Text)
    pack: str = Field(max_length=100)
    measure: int
    measure_title: str = Field(sa_type=Text)
    check_title: str = Field(sa_type=Text)
    nature: str = Field(max_length=20)
    unit: str | None = Field(default=None, max_length=40)
    op: str = Field(max_length=4)
    due: dt.date | None = None


class SharedMessage(SQLModel, table=True):
    """A finding's sentence that does not vary with the record (most not-applicable findings), kept once.

    Most finding rows are not applicable and each repeated one sentence of its check version; the
    findings refer to it by ``message_ref`` instead (queries.run_findings puts it back in every row).
    """

    __tablename__ = "shared_messages"
    __table__: ClassVar[Table]
    __table_args__ = (UniqueConstraint("fingerprint", name="uq_shared_messages_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64)  # SHA-256 of the text
    text: str = Field(sa_type=Text)


class StoredFinding(SQLModel, table=True):
    """One outcome of one check for one record version in one run."""

    __tablename__ = "findings"
    __table__: ClassVar[Table]
    __table_args__ = (
        UniqueConstraint("run_id", "record_version_id", "check_ref", name="uq_findings_run_record_check"),
        Index("ix_findings_record_version", "record_version_id"),
        Index("ix_findings_check", "check_ref"),
        Index("ix_findings_run_review", "run_id", "review"),
        # Look-ups by run use the unique key's leading run_id; a (run, status) index would cost every
        # insert more than it saves the per-run counts.
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_findings_run"), nullable=False)
    )
    record_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("record_versions.id", name="fk_findings_record"), nullable=False)
    )
    chunk: int
    check_ref: int = Field(
        sa_column=Column(Integer, ForeignKey("checks.id", name="fk_findings_check"), nullable=False)
    )
    version_ref: int = Field(
        sa_column=Column(
            Integer, ForeignKey("check_versions.id", name="fk_findings_check_version"), nullable=False
        )
    )
    status: str = Field(max_length=20)
    value: str | None = Field(default=None, sa_type=Text)  # exact decimal text, or true/false
    threshold: str | None = Field(default=None, sa_type=Text)
    target: str | None = Field(default=None, sa_type=Text)
    as_of: dt.date
    # The sentence, or NULL where it is the same for many findings: then message_ref names it.
    message: str | None = Field(default=None, sa_type=Text)
    message_ref: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("shared_messages.id", name="fk_findings_message"), nullable=True
        ),
    )
    missing_fields: str | None = Field(default=None, sa_type=Text)
    review: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # JSON: review reasons, basis, reported/counted figures, baseline; NULL when there is none.
    details: str | None = Field(default=None, sa_type=Text)


class RunMessage(SQLModel, table=True):
    """What a run could not use or wants a reviewer to see: rejected rows, unusable files, warnings, notices."""

    __tablename__ = "run_messages"
    __table__: ClassVar[Table]
    __table_args__ = (Index("ix_run_messages_run", "run_id", "category"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_run_messages_run"), nullable=False)
    )
    chunk: int
    category: str = Field(max_length=20)  # rejected | file_problem | warning | notice
    file: str | None = Field(default=None, sa_type=Text)
    sheet: str | None = Field(default=None, max_length=200)
    row: int | None = None
    record_id: str | None = Field(default=None, max_length=200)
    field: str | None = Field(default=None, max_length=200)
    message: str = Field(sa_type=Text)


class Letter(SQLModel, table=True):
    """An issued letter: its number, what it judged, with which rules, and a hash of the file."""

    __tablename__ = "letters"
    __table__: ClassVar[Table]
    __table_args__ = (
        UniqueConstraint("number", "format", name="uq_letters_number_format"),
        Index("ix_letters_record_version", "record_version_id"),
        Index("ix_letters_run", "run_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=100)
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_letters_run"), nullable=False)
    )
    record_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("record_versions.id", name="fk_letters_record"), nullable=False)
    )
    format: str = Field(max_length=10)
    sha256: str = Field(max_length=64)
    pack_fingerprint: str = Field(max_length=64)
    path: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class LetterSequence(SQLModel, table=True):
    """The last letter number issued per prefix and year."""

    __tablename__ = "letter_sequences"
    __table__: ClassVar[Table]

    prefix: str = Field(primary_key=True, max_length=100)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int


class LetterJudgement(SQLModel, table=True):
    """The number given to one judgement of one record version (migration 0004_letter_judgements).

    ``judgement`` fingerprints each finding's check, version, status, value, threshold and review flag:
    rendering the letter again for the same record version and the same judgement reuses the number,
    a different judgement gets a new one. One number per prefix and judgement.
    """

    __tablename__ = "letter_judgements"
    __table__: ClassVar[Table]
    __table_args__ = (
        UniqueConstraint("record_version_id", "judgement", "prefix", name="uq_letter_judgements_key"),
        UniqueConstraint("number", name="uq_letter_judgements_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=100)
    prefix: str = Field(max_length=100)
    year: int
    record_version_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("record_versions.id", name="fk_letter_judgements_record"), nullable=False
        )
    )
    judgement: str = Field(max_length=64)
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("runs.id", name="fk_letter_judgements_run"), nullable=False)
    )
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


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


# --- the web workbench: accounts, audit trail, background evaluations (migration 0005_accounts) ------


class User(SQLModel, table=True):
    """An account of the web workbench (engine/store/accounts.py); the password only as an argon2 hash."""

    __tablename__ = "users"
    __table__: ClassVar[Table]
    __table_args__ = (UniqueConstraint("name", name="uq_users_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)  # reviewer | officer | author | admin
    password_hash: str = Field(sa_type=Text)
    active: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    failed_logins: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    locked_until: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_login_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class AuditEvent(SQLModel, table=True):
    """Who did what: logged in, evaluated which file, issued which letter, added which user."""

    __tablename__ = "audit_events"
    __table__: ClassVar[Table]
    __table_args__ = (Index("ix_audit_events_user", "user_name"), Index("ix_audit_events_run", "run_id"))

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    user_name: str | None = Field(default=None, max_length=100)
    action: str = Field(max_length=40)
    target: str = Field(default="", sa_type=Text)
    detail: str | None = Field(default=None, sa_type=Text)
    run_id: int | None = None


class WebJob(SQLModel, table=True):
    """An evaluation started from the web: its progress, read by the page's progress bar."""

    __tablename__ = "web_jobs"
    __table__: ClassVar[Table]

    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    user_name: str = Field(max_length=100)
    filename: str = Field(sa_type=Text)
    paths: str = Field(sa_type=Text)  # JSON list of the saved upload(s)
    options: str = Field(default="{}", sa_type=Text)  # JSON: rules_dirs, kind, as_of
    status: str = Field(max_length=20)  # queued | running | done | failed
    total_rows: int | None = None
    n_read: int = 0
    n_valid: int = 0
    n_rejected: int = 0
    run_id: int | None = None
    error: str | None = Field(default=None, sa_type=Text)


TABLES += [User, AuditEvent, WebJob]
