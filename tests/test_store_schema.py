"""The store's schema: created by the Alembic migrations, equal to the ORM, opened safely."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, text

from engine.cli import main
from engine.store import Store, StoreError, resolve_url
from engine.store.database import check_schema, current_revision, head_revision, make_engine
from engine.store.models import metadata
from engine.store.testing import BACKENDS, store_url


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    yield from store_url(request.param, tmp_path)


def test_upgrading_an_empty_database_reaches_head_and_matches_the_orm(db_url):
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "已升级" in result.output and head_revision() in result.output
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert set(metadata.tables) <= set(inspect(conn).get_table_names())
        # What autogenerate would write for a new migration: nothing, or the ORM drifted from the migrations.
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []
    again = CliRunner().invoke(main, ["db", "upgrade", "--db", db_url])
    assert again.exit_code == 0 and "已是最新结构" in again.output


def test_the_indexes_for_lookups_by_record_and_run_exist_and_none_by_check_alone(db_url):
    Store(db_url).close()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        insp = inspect(conn)
        indexed = {
            tuple(ix["column_names"])
            for t in ("findings", "record_versions", "run_records")
            for ix in insp.get_indexes(t)
        }
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("findings")}
        check_uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints("checks")}
    engine.dispose()
    assert ("record_id",) in indexed and ("record_version_id",) in indexed
    # no query filters findings by check alone (joins go from a finding to its check): no index for it
    assert ("check_ref",) not in indexed
    # one finding per run, record version and check (checks.check_id is unique, so check_ref is the check)
    assert ("run_id", "record_version_id", "check_ref") in uniques and ("check_id",) in check_uniques


def test_a_fresh_store_is_created_by_the_migrations_not_by_create_all(db_url):
    with Store(db_url) as store, store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()


def test_reading_commands_do_not_create_a_store(tmp_path):
    db = tmp_path / "missing.db"
    result = CliRunner().invoke(main, ["runs", "--db", str(db)])
    assert result.exit_code == 0  # says where the store would be
    assert "还没有存储" in result.output and str(db) in result.output
    result = CliRunner().invoke(main, ["history", "X", "--db", str(db)])
    assert result.exit_code == 2
    assert "no store" in result.output
    assert not db.exists()


def test_a_store_of_an_unknown_newer_schema_is_refused_with_a_reason(db_url):
    Store(db_url).close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    with pytest.raises(StoreError, match="unknown to this version"):
        check_schema(engine, db_url, create=True)
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    with Store(str(tmp_path / "s.db")) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000


def test_the_store_url_comes_from_the_option_then_the_environment_then_the_user_data_folder(
    tmp_path, monkeypatch, user_data_dir
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPLIANCE_DB", raising=False)
    assert resolve_url(None) == f"sqlite:///{user_data_dir / 'compliance.db'}"
    monkeypatch.setenv("COMPLIANCE_DB", "postgresql+psycopg://u@h/db")
    assert resolve_url(None) == "postgresql+psycopg://u@h/db"
    assert resolve_url("other.db") == f"sqlite:///{tmp_path / 'other.db'}"


def test_a_store_in_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(str(tmp_path / "no" / "such" / "s.db"))
