"""With --jobs N, the workers store the chunks they evaluate: the store ends up as with one process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from engine.cli import main
from engine.store import Store, run_findings
from engine.store.testing import BACKENDS, store_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gen import write_projects_csv  # noqa: E402

# Everything a stored finding says except the store's own numbering (ids differ with commit order).
COMPARED = (
    "kind",
    "record_id",
    "period",
    "record_name",
    "record_version",
    "file",
    "sheet",
    "row",
    "check_id",
    "check_version",
    "pack",
    "measure",
    "measure_title",
    "check_title",
    "nature",
    "status",
    "value",
    "threshold",
    "target",
    "unit",
    "op",
    "due",
    "as_of",
    "message",
    "missing_fields",
)


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    yield from store_url(request.param, tmp_path)


def _evaluate(db_url: str, csv_file: Path, jobs: str, fmt: str = "summary") -> str:
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(csv_file),
            "--kind",
            "project",
            "--db",
            db_url,
            "--quiet",
            "--format",
            fmt,
            "--jobs",
            jobs,
            "--chunk-size",
            "300",
        ],
    )
    assert result.exit_code == 0, result.output
    return result.stderr


def _stored(db_url: str, run_id: int) -> list[tuple]:
    with Store(db_url, create=False) as store:
        return sorted(tuple(getattr(r, k) for k in COMPARED) for r in run_findings(store, run_id))


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_jobs_2_stores_exactly_the_findings_of_jobs_1(db_url, tmp_path):
    csv_file = write_projects_csv(tmp_path / "p.csv", 2500, seed=5)
    one = _evaluate(db_url, csv_file, "1")
    two = _evaluate(db_url, csv_file, "2")
    # the counts printed from the workers' tallies equal those counted from the findings themselves
    assert one.splitlines()[-2:] == two.splitlines()[-2:] and "不适用" in one
    first, second = _stored(db_url, 1), _stored(db_url, 2)
    assert len(first) > 2500 * 8 and first == second
    # the second run reused the record versions and check versions of the first instead of adding copies
    assert _scalar(db_url, "SELECT count(*) FROM record_versions") == 2500
    assert _scalar(
        db_url, "SELECT count(DISTINCT version_ref) FROM finding_rows WHERE run_id = 1"
    ) == _scalar(db_url, "SELECT count(*) FROM check_versions")
    assert _scalar(db_url, "SELECT count(*) FROM run_chunks WHERE run_id = 2") == 9  # 2500 / 300, rounded up


def test_jobs_2_prints_the_stored_findings_when_asked_for_them(tmp_path):
    db_url = f"sqlite:///{tmp_path / 's.db'}"
    csv_file = write_projects_csv(tmp_path / "p.csv", 900, seed=3)
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(csv_file),
            "--kind",
            "project",
            "--db",
            db_url,
            "--quiet",
            "--format",
            "csv",
            "--jobs",
            "2",
            "--chunk-size",
            "200",
        ],
    )
    assert result.exit_code == 0, result.output
    printed = result.stdout.count("\n") - 1  # minus the header
    assert printed == _scalar(db_url, "SELECT count(*) FROM finding_rows") > 900


def test_a_store_failure_in_a_worker_stops_the_run_with_a_reason_and_resume_completes_it(tmp_path):
    db = tmp_path / "s.db"
    db_url = f"sqlite:///{db}"
    assert CliRunner().invoke(main, ["db", "upgrade", "--db", db_url]).exit_code == 0
    engine = create_engine(db_url)
    with engine.begin() as conn:  # the database refuses chunk 3's findings, as a full disk would
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON findings WHEN NEW.chunk = 3 "
                "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"
            )
        )
    csv_file = write_projects_csv(tmp_path / "p.csv", 1500, seed=4)
    failed = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(csv_file),
            "--kind",
            "project",
            "--db",
            db_url,
            "--quiet",
            "--format",
            "summary",
            "--jobs",
            "2",
            "--chunk-size",
            "200",
        ],
    )
    assert failed.exit_code == 2
    assert "simulated write failure" in failed.stderr and "--resume 1" in failed.stderr
    assert _scalar(db_url, "SELECT count(*) FROM finding_rows WHERE chunk = 3") == 0
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse"))
    engine.dispose()
    resumed = CliRunner().invoke(
        main, ["evaluate", "--resume", "1", "--db", db_url, "--quiet", "--format", "summary", "--jobs", "2"]
    )
    assert resumed.exit_code == 0, resumed.output
    assert _scalar(db_url, "SELECT count(*) FROM run_records") == 1500
    assert _scalar(db_url, "SELECT count(*) FROM run_chunks") == 8
    assert (
        _scalar(
            db_url,
            "SELECT count(*) FROM (SELECT record_version_id, check_ref FROM finding_rows "
            "GROUP BY record_version_id, check_ref HAVING count(*) > 1) AS dupes",
        )
        == 0
    )
