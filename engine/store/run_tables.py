"""The store's run tables: runs, the packs and chunks they used, record versions and the records a run read.

See engine/store/models.py for the conventions every table follows.
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
    # The record's plain not-applicable findings, summarised instead of a row each (engine.store.
    # finding_view): JSON [[checks.id, check_versions.id, shared_messages.id, value, threshold], ...],
    # all of them as of ``quiet_as_of``. NULL when the record has none.
    quiet_as_of: dt.date | None = None
    quiet: str | None = Field(default=None, sa_type=Text)
