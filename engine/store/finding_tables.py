"""The store's finding tables: checks and their versions, shared messages, findings and run messages."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.store.run_tables import BigId


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
    findings refer to it by ``message_ref`` instead (finding_reads.run_findings puts it back in every row).
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
        Index("ix_findings_run_review", "run_id", "review"),
        # Look-ups by run use the unique key's leading run_id; a (run, status) index would cost every
        # insert more than it saves the per-run counts. No index by check alone: no query filters on
        # it (joins go from a finding to its check), and it cost an eighth of every insert (0007).
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
