"""review flags and the figures beside the judged one, on findings

Revision ID: 0003_finding_review
Revises: 0002
Create Date: 2026-12-01

A finding can need a person's judgement (soft wording within its band, a ready-made figure that
disagrees with the one computed from its parts, a stated count that differs from the records): the
``review`` flag (0/1, so a reviewer's filter on it is one indexed comparison) and ``details``, a JSON
object with the reasons, the basis of the judged figure, the reported and counted figures and the
baseline used; NULL when there is nothing beyond the status (most findings). Existing findings get
review 0 and no details: they were judged before review flags existed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_finding_review"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("review", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("details", sa.Text(), nullable=True))
    op.create_index("ix_findings_run_review", "findings", ["run_id", "review"])


def downgrade() -> None:
    op.drop_index("ix_findings_run_review", table_name="findings")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("details")
        batch.drop_column("review")
