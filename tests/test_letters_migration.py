"""Migration 0004_letter_judgements: a 0002 store gains the register of numbers by judgement and keeps
its letters; downgrading drops only that table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from engine.store.database import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
    write_connection,
)
from engine.store.testing import BACKENDS, store_url


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    yield from store_url(request.param, tmp_path)


def test_upgrade_from_0002_adds_letter_judgements_and_keeps_letters_and_downgrade_removes_it(db_url) -> None:
    engine = make_engine(db_url)
    with write_connection(engine) as conn:
        command.upgrade(alembic_config(db_url, conn), "0002")
        conn.execute(sa.text("INSERT INTO letter_sequences (prefix, year, last) VALUES ('菏城审', 2026, 7)"))
    assert upgrade(engine, db_url) == ("0002", head_revision()) and "0004_letter_judgements" in _revisions()
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        cols = {c["name"] for c in sa.inspect(conn).get_columns("letter_judgements")}
        last = conn.execute(sa.text("SELECT last FROM letter_sequences")).scalar_one()
    assert (
        "letter_judgements" in tables
        and {"number", "record_version_id", "judgement", "prefix", "year"} <= cols
    )
    assert last == 7  # the sequence goes on from where it was
    with write_connection(engine) as conn:
        command.downgrade(alembic_config(db_url, conn), "0002")
    with engine.connect() as conn:
        assert current_revision(conn) == "0002"
        tables = set(sa.inspect(conn).get_table_names())
        kept = conn.execute(sa.text("SELECT last FROM letter_sequences")).scalar_one()
    engine.dispose()
    assert "letter_judgements" not in tables and {"letters", "letter_sequences"} <= tables and kept == 7


def _revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}
