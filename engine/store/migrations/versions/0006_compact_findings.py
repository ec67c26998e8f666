"""findings refer to a shared sentence instead of repeating it

Revision ID: 0006_compact_findings
Revises: 0005_accounts
Create Date: 2026-12-01

Most finding rows are not applicable, and each repeated one sentence of its check version. A sentence
that does not vary with the record is now kept once in ``shared_messages`` and the finding refers to
it by ``message_ref`` with ``message`` NULL; a finding whose sentence carries its own values keeps it
in ``message`` as before. Existing findings keep their sentences where they are. Downgrading writes
every shared sentence back into the findings that refer to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_compact_findings"
down_revision = "0005_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint", name="uq_shared_messages_fingerprint"),
    )
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("message_ref", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_findings_message", "shared_messages", ["message_ref"], ["id"])
        batch.alter_column("message", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    op.execute(
        "UPDATE findings SET message = (SELECT s.text FROM shared_messages s WHERE s.id = findings.message_ref) "
        "WHERE message IS NULL AND message_ref IS NOT NULL"
    )
    with op.batch_alter_table("findings") as batch:
        batch.drop_constraint("fk_findings_message", type_="foreignkey")
        batch.drop_column("message_ref")
        batch.alter_column("message", existing_type=sa.Text(), nullable=False)
    op.drop_table("shared_messages")
