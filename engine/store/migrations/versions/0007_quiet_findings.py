"""plain not-applicable findings summarised on their record, and the finding_rows view

Revision ID: 0007_quiet_findings
Revises: 0006_compact_findings
Create Date: 2026-12-01

Three findings in four are not applicable with nothing of their own but a value and a threshold; a
row each was most of the time to store a run. ``run_records`` gains ``quiet`` (JSON
``[[check_ref, version_ref, message_ref, value, threshold], ...]``) and ``quiet_as_of``, and the view
``finding_rows`` unions the findings table with these summaries expanded, with the findings table's
columns (engine/store/finding_view.py). Existing findings stay rows. The index of findings by check
alone goes (no query used it). Downgrading writes every summarised finding back as a row of
``findings`` and puts the index back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_quiet_findings"
down_revision = "0006_compact_findings"
branch_labels = None
depends_on = None

_COLUMNS = (
    "id, run_id, record_version_id, chunk, check_ref, version_ref, status, value, threshold, target, "
    "as_of, message, message_ref, missing_fields, review, details"
)

# The summarised finding's id: -(run << 42 | record version << 10 | place), place counted from 0.
_SQLITE = f"""
CREATE VIEW finding_rows AS
SELECT {_COLUMNS} FROM findings
UNION ALL
SELECT -((rr.run_id << 42) | (rr.record_version_id << 10) | CAST(j.key AS INTEGER)),
       rr.run_id, rr.record_version_id, rr.chunk,
       json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), 'not_applicable',
       json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), NULL, rr.quiet_as_of, NULL,
       json_extract(j.value, '$[2]'), NULL, 0, NULL
FROM run_records AS rr, json_each(rr.quiet) AS j
WHERE rr.quiet IS NOT NULL
"""

_POSTGRESQL = f"""
CREATE VIEW finding_rows AS
SELECT {_COLUMNS} FROM findings
UNION ALL
SELECT -((rr.run_id::bigint << 42) | (rr.record_version_id::bigint << 10) | (j.place - 1)),
       rr.run_id, rr.record_version_id, rr.chunk,
       (j.item ->> 0)::integer, (j.item ->> 1)::integer, 'not_applicable',
       j.item ->> 3, j.item ->> 4, NULL, rr.quiet_as_of, NULL,
       (j.item ->> 2)::integer, NULL, 0, NULL
FROM run_records AS rr
CROSS JOIN LATERAL jsonb_array_elements(rr.quiet::jsonb) WITH ORDINALITY AS j(item, place)
WHERE rr.quiet IS NOT NULL
"""


def upgrade() -> None:
    # No query filters findings by check alone; the index cost an eighth of every insert.
    op.drop_index("ix_findings_check", table_name="findings")
    with op.batch_alter_table("run_records") as batch:
        batch.add_column(sa.Column("quiet_as_of", sa.Date(), nullable=True))
        batch.add_column(sa.Column("quiet", sa.Text(), nullable=True))
    op.execute(_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE)


def downgrade() -> None:
    cols = _COLUMNS.removeprefix("id, ")
    op.execute(f"INSERT INTO findings ({cols}) SELECT {cols} FROM finding_rows WHERE id < 0")
    op.execute("DROP VIEW finding_rows")
    with op.batch_alter_table("run_records") as batch:
        batch.drop_column("quiet")
        batch.drop_column("quiet_as_of")
    op.create_index("ix_findings_check", "findings", ["check_ref"], unique=False)
