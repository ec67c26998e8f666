"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29

The first schema: runs with their rule packs and chunks, record versions, submissions, findings,
run messages, letters and letter number sequences.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_sequences",
        sa.Column("prefix", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False),
        sa.Column("engine_version", sa.String(length=40), nullable=False),
        sa.Column("policy_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rules_dirs", sa.Text(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_rejected", sa.Integer(), nullable=False),
        sa.Column("n_file_problems", sa.Integer(), nullable=False),
        sa.Column("n_findings", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("resumed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("values_json", sa.Text(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["first_run_id"], ["runs.id"], name="fk_record_versions_run"),
        sa.ForeignKeyConstraint(["previous_id"], ["record_versions.id"], name="fk_record_versions_previous"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "record_id", "period", "content_hash", name="uq_record_versions_content"),
        sa.UniqueConstraint("kind", "record_id", "period", "version", name="uq_record_versions_version"),
    )
    op.create_index("ix_record_versions_record_id", "record_versions", ["record_id"], unique=False)
    op.create_table(
        "run_chunks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_rejected", sa.Integer(), nullable=False),
        sa.Column("n_file_problems", sa.Integer(), nullable=False),
        sa.Column("n_findings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_chunks_run"),
        sa.PrimaryKeyConstraint("run_id", "chunk"),
    )
    op.create_table(
        "run_messages",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("field", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_messages_run"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_run_messages_run", "run_messages", ["run_id", "category"], unique=False)
    op.create_table(
        "run_packs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_packs_run"),
        sa.PrimaryKeyConstraint("run_id", "pack_id"),
    )
    op.create_table(
        "findings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_version_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("check_version", sa.Text(), nullable=False),
        sa.Column("pack", sa.String(length=100), nullable=False),
        sa.Column("measure", sa.Integer(), nullable=False),
        sa.Column("measure_title", sa.Text(), nullable=False),
        sa.Column("check_title", sa.Text(), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("threshold", sa.Text(), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("op", sa.String(length=4), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("missing_fields", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["record_version_id"], ["record_versions.id"], name="fk_findings_record"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_findings_run"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "record_version_id", "check_id", name="uq_findings_run_record_check"),
    )
    op.create_index("ix_findings_check", "findings", ["check_id"], unique=False)
    op.create_index("ix_findings_record_version", "findings", ["record_version_id"], unique=False)
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_version_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pack_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_version_id"], ["record_versions.id"], name="fk_letters_record"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_letters_run"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number", "format", name="uq_letters_number_format"),
    )
    op.create_index("ix_letters_record_version", "letters", ["record_version_id"], unique=False)
    op.create_index("ix_letters_run", "letters", ["run_id"], unique=False)
    op.create_table(
        "run_records",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_version_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("sheet", sa.String(length=200), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["record_version_id"], ["record_versions.id"], name="fk_run_records_record"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_records_run"),
        sa.PrimaryKeyConstraint("run_id", "record_version_id"),
    )
    op.create_index("ix_run_records_record_version", "run_records", ["record_version_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_records_record_version", table_name="run_records")
    op.drop_table("run_records")
    op.drop_index("ix_letters_run", table_name="letters")
    op.drop_index("ix_letters_record_version", table_name="letters")
    op.drop_table("letters")
    op.drop_index("ix_findings_record_version", table_name="findings")
    op.drop_index("ix_findings_check", table_name="findings")
    op.drop_table("findings")
    op.drop_table("run_packs")
    op.drop_index("ix_run_messages_run", table_name="run_messages")
    op.drop_table("run_messages")
    op.drop_table("run_chunks")
    op.drop_index("ix_record_versions_record_id", table_name="record_versions")
    op.drop_table("record_versions")
    op.drop_table("runs")
    op.drop_table("letter_sequences")
