"""Migrations move data: a store written at an older schema reads back the same after `db upgrade`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from engine.store import Store, run_findings
from engine.store.codec import STATIC_COLUMNS
from engine.store.database import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade,
    write_connection,
)
from engine.store.finding_view import FINDING_VIEW
from engine.store.models import (
    CheckKey,
    CheckVersion,
    RecordVersion,
    Run,
    RunChunk,
    RunMessage,
    RunPack,
    RunRecord,
    SharedMessage,
)
from engine.store.testing import BACKENDS, store_url

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from engine.cli import main; main()"]
SAME_IN_0001 = (Run, RunPack, RunChunk, RecordVersion, RunRecord, RunMessage)  # unchanged by 0002


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    yield from store_url(request.param, tmp_path)


@pytest.fixture(scope="module")
def stored_samples(tmp_path_factory) -> str:
    """A store at head holding one run of every sample record."""
    url = f"sqlite:///{tmp_path_factory.mktemp('src') / 'src.db'}"
    done = subprocess.run(
        CLI + ["evaluate", "samples/", "--db", url, "--format", "summary", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1) and "已保存 stored" in done.stderr, (
        done.stderr
    )  # 1: samples hold bad rows
    return url


def _write_at_0001(src_url: str, url: str) -> None:
    """The source store's run, written into `url` at schema 0001 (findings with their check columns)."""
    src, dst = make_engine(src_url), make_engine(url)
    with write_connection(dst) as conn:
        command.upgrade(alembic_config(url, conn), "0001")
    f, ck, cv = FINDING_VIEW, CheckKey.__table__, CheckVersion.__table__
    old_findings = sa.table(
        "findings",
        *(
            sa.column(c)
            for c in (
                "run_id",
                "record_version_id",
                "chunk",
                "check_id",
                *STATIC_COLUMNS,
                "status",
                "value",
                "threshold",
                "target",
                "as_of",
                "message",
                "missing_fields",
            )
        ),
    )
    with src.connect() as s, write_connection(dst) as d:
        for model in SAME_IN_0001:
            # the columns a 0001 store has (run_records' summaries of quiet findings came with 0007)
            cols = [c for c in model.__table__.c if c.name not in ("quiet", "quiet_as_of")]
            rows = [dict(r) for r in s.execute(sa.select(*cols)).mappings()]
            if rows:
                d.execute(sa.insert(model.__table__), rows)
        sm = SharedMessage.__table__  # a 0001 finding holds its sentence itself, shared or not
        q = (
            sa.select(
                f.c.run_id,
                f.c.record_version_id,
                f.c.chunk,
                ck.c.check_id,
                *(cv.c[k] for k in STATIC_COLUMNS),
                f.c.status,
                f.c.value,
                f.c.threshold,
                f.c.target,
                f.c.as_of,
                sa.func.coalesce(f.c.message, sm.c.text).label("message"),
                f.c.missing_fields,
            )
            .join(ck, ck.c.id == f.c.check_ref)
            .join(cv, cv.c.id == f.c.version_ref)
            .outerjoin(sm, sm.c.id == f.c.message_ref)
        )
        d.execute(sa.insert(old_findings), [dict(r) for r in s.execute(q).mappings()])
        if d.dialect.name == "postgresql":  # rows were inserted with their ids: move the sequences past them
            for model in (Run, RecordVersion, RunMessage):
                t = model.__table__.name
                d.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
                )
    src.dispose()
    dst.dispose()


def test_upgrading_a_0001_store_keeps_every_finding_exactly(stored_samples, db_url):
    with Store(stored_samples, create=False) as store:
        before = list(run_findings(store, 1))
    assert len(before) > 50 and len({r.check_id for r in before}) > 20
    _write_at_0001(stored_samples, db_url)
    engine = make_engine(db_url)
    assert upgrade(engine, db_url) == ("0001", head_revision())
    with engine.connect() as conn:
        n_versions = conn.execute(sa.select(sa.func.count()).select_from(CheckVersion.__table__)).scalar_one()
    engine.dispose()
    with Store(db_url, create=False) as store:
        after = list(run_findings(store, 1))
    # A 0001 store had no review flags or details: those findings come back without them, all else exact.
    assert after == [
        r.model_copy(update={"review": False, "details": {"review_reasons": []}}) for r in before
    ]
    assert n_versions == len({(r.check_id, r.check_version, r.check_title, r.measure_title) for r in before})


def test_a_store_upgraded_from_0001_takes_new_runs_of_the_same_checks(stored_samples, db_url):
    _write_at_0001(stored_samples, db_url)
    engine = make_engine(db_url)
    upgrade(engine, db_url)
    engine.dispose()
    again = subprocess.run(
        CLI + ["evaluate", "samples/", "--db", db_url, "--format", "summary", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode in (0, 1) and "已保存 stored" in again.stderr, again.stderr
    engine = make_engine(db_url)
    with engine.connect() as conn:
        versions = conn.execute(sa.select(sa.func.count()).select_from(CheckVersion.__table__)).scalar_one()
        used = conn.execute(sa.select(sa.func.count(sa.distinct(FINDING_VIEW.c.version_ref)))).scalar_one()
    engine.dispose()
    assert versions == used  # the second run found the migrated check versions instead of adding copies


def test_downgrading_to_0001_puts_the_check_columns_back(stored_samples, db_url):
    with Store(stored_samples, create=False) as store:
        before = {
            (r.record_version_id, r.check_id, r.check_title, r.status, r.message)
            for r in run_findings(store, 1)
        }
    _write_at_0001(stored_samples, db_url)
    engine = make_engine(db_url)
    upgrade(engine, db_url)
    with write_connection(engine) as conn:
        command.downgrade(alembic_config(db_url, conn), "0001")
    with engine.connect() as conn:
        assert current_revision(conn) == "0001"
        rows = {
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT record_version_id, check_id, check_title, status, message FROM findings")
            )
        }
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert rows == before and "check_versions" not in tables


def test_a_sentence_shared_by_many_findings_is_stored_once_and_read_back_in_each(stored_samples):
    with Store(stored_samples, create=False) as store:
        rows = list(run_findings(store, 1))
    engine = make_engine(stored_samples)
    with engine.connect() as conn:
        shared = conn.execute(sa.text("SELECT count(*) FROM findings WHERE message IS NULL")).scalar_one()
        texts = conn.execute(sa.text("SELECT count(*) FROM shared_messages")).scalar_one()
        # A finding holds its sentence or refers to one, never both, never neither.
        odd = conn.execute(
            sa.text(
                "SELECT count(*) FROM findings "
                "WHERE (message IS NULL AND message_ref IS NULL) "
                "OR (message IS NOT NULL AND message_ref IS NOT NULL)"
            )
        ).scalar_one()
    engine.dispose()
    assert rows and all(r.message for r in rows)
    assert 0 < texts < shared and odd == 0
