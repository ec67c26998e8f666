"""The store's letter tables and the web workbench's: letters, their numbers and judgements, accounts."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.run_tables import BigId


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
