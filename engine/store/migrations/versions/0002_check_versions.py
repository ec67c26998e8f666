"""check versions out of the findings table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

A finding row carried its check's titles, version text, pack, unit, operator and due date: the same
text on every row of that check version, two thirds of the row. They move to ``check_versions`` (one
row per distinct content, identified by a fingerprint) and the check id to ``checks``; a finding
refers to both by number. The unique key stays one finding per run, record version and check.

Existing findings are moved, not dropped: every distinct check and check version is numbered, each
finding gets its two numbers, then the old columns go.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.codec import STATIC_COLUMNS, check_version_fingerprint

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Imported, not copied: new check versions must get the fingerprint these existing ones get.
STATIC = STATIC_COLUMNS


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_id", name="uq_checks_check_id"),
    )
    op.create_table(
        "check_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_ref", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("check_version", sa.Text(), nullable=False),
        sa.Column("pack", sa.String(length=100), nullable=False),
        sa.Column("measure", sa.Integer(), nullable=False),
        sa.Column("measure_title", sa.Text(), nullable=False),
        sa.Column("check_title", sa.Text(), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("op", sa.String(length=4), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["check_ref"], ["checks.id"], name="fk_check_versions_check"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint", name="uq_check_versions_fingerprint"),
    )
    op.create_index("ix_check_versions_check", "check_versions", ["check_ref"], unique=False)

    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("check_ref", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("version_ref", sa.Integer(), nullable=True))
    _move_existing_findings()
    with op.batch_alter_table("findings") as batch:
        batch.drop_constraint("uq_findings_run_record_check", type_="unique")
        batch.drop_index("ix_findings_check")
        for col in STATIC:
            batch.drop_column(col)
        batch.alter_column("check_ref", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("version_ref", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_findings_check", "checks", ["check_ref"], ["id"])
        batch.create_foreign_key("fk_findings_check_version", "check_versions", ["version_ref"], ["id"])
        batch.create_unique_constraint(
            "uq_findings_run_record_check", ["run_id", "record_version_id", "check_ref"]
        )
        batch.drop_column("check_id")
    op.create_index("ix_findings_check", "findings", ["check_ref"], unique=False)


def _move_existing_findings() -> None:
    conn = op.get_bind()
    findings = sa.table(
        "findings", *(sa.column(c) for c in ("check_id", "check_ref", "version_ref") + STATIC)
    )
    checks = sa.table("checks", sa.column("id"), sa.column("check_id"))
    versions = sa.table(
        "check_versions", *(sa.column(c) for c in ("id", "check_ref", "fingerprint") + STATIC)
    )
    distinct = conn.execute(sa.select(findings.c.check_id, *(findings.c[k] for k in STATIC)).distinct()).all()
    check_ids: dict[str, int] = {}
    for row in distinct:
        check_id, static = row[0], dict(zip(STATIC, row[1:], strict=True))
        if check_id not in check_ids:
            check_ids[check_id] = conn.execute(
                sa.insert(checks).values(check_id=check_id).returning(checks.c.id)
            ).scalar_one()
        vid = conn.execute(
            sa.insert(versions)
            .values(
                check_ref=check_ids[check_id],
                fingerprint=check_version_fingerprint(check_id, static),
                **static,
            )
            .returning(versions.c.id)
        ).scalar_one()
        # NULL-safe match on every column of the version (unit and due may be NULL)
        match = [findings.c.check_id == check_id] + [
            findings.c[k].is_(None) if v is None else findings.c[k] == v for k, v in static.items()
        ]
        conn.execute(sa.update(findings).where(*match).values(check_ref=check_ids[check_id], version_ref=vid))


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("check_id", sa.String(length=200), nullable=True))
        for col, type_ in (
            ("check_version", sa.Text()),
            ("pack", sa.String(length=100)),
            ("measure", sa.Integer()),
            ("measure_title", sa.Text()),
            ("check_title", sa.Text()),
            ("nature", sa.String(length=20)),
            ("unit", sa.String(length=40)),
            ("op", sa.String(length=4)),
            ("due", sa.Date()),
        ):
            batch.add_column(sa.Column(col, type_, nullable=True))
    conn = op.get_bind()
    findings = sa.table(
        "findings", *(sa.column(c) for c in ("check_id", "check_ref", "version_ref") + STATIC)
    )
    versions = sa.table("check_versions", *(sa.column(c) for c in ("id", "check_ref") + STATIC))
    checks = sa.table("checks", sa.column("id"), sa.column("check_id"))
    for v in conn.execute(
        sa.select(versions, checks.c.check_id).join(checks, checks.c.id == versions.c.check_ref)
    ).mappings():
        conn.execute(
            sa.update(findings)
            .where(findings.c.version_ref == v["id"])
            .values(check_id=v["check_id"], **{k: v[k] for k in STATIC})
        )
    op.drop_index("ix_findings_check", table_name="findings")
    with op.batch_alter_table("findings") as batch:
        batch.drop_constraint("uq_findings_run_record_check", type_="unique")
        batch.drop_constraint("fk_findings_check", type_="foreignkey")
        batch.drop_constraint("fk_findings_check_version", type_="foreignkey")
        batch.drop_column("check_ref")
        batch.drop_column("version_ref")
        for col in (
            "check_id",
            "check_version",
            "pack",
            "measure",
            "measure_title",
            "check_title",
            "nature",
            "op",
        ):
            batch.alter_column(col, nullable=False)
        batch.create_unique_constraint(
            "uq_findings_run_record_check", ["run_id", "record_version_id", "check_id"]
        )
    op.create_index("ix_findings_check", "findings", ["check_id"], unique=False)
    op.drop_index("ix_check_versions_check", table_name="check_versions")
    op.drop_table("check_versions")
    op.drop_table("checks")
