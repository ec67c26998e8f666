"""letter numbers keyed by judgement

Revision ID: 0004_letter_judgements
Revises: 0003_finding_review
Create Date: 2026-12-01

A letter's number belongs to one judgement of one record version: ``letter_judgements`` holds the
number given to (record version, judgement fingerprint, prefix), so rendering the same letter again,
in any format, reuses its number instead of taking the next one. Existing letters keep their rows in
``letters``; nothing is moved.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_letter_judgements"
down_revision = "0003_finding_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_judgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("record_version_id", sa.Integer(), nullable=False),
        sa.Column("judgement", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_version_id"], ["record_versions.id"], name="fk_letter_judgements_record"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_letter_judgements_run"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_version_id", "judgement", "prefix", name="uq_letter_judgements_key"),
        sa.UniqueConstraint("number", name="uq_letter_judgements_number"),
    )


def downgrade() -> None:
    op.drop_table("letter_judgements")
