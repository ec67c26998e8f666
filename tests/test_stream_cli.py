"""`compliance evaluate` streaming options: --jobs, --chunk-size, --quiet; a cold start without the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.cli.evaluate import _DB_ENV, _DB_FILE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gen import write_projects_csv  # noqa: E402


def test_cli_jobs_2_prints_the_same_findings_as_jobs_1(tmp_path: Path) -> None:
    csv_file = write_projects_csv(tmp_path / "p.csv", 3000, seed=9)
    out = {}
    for jobs in ("1", "2"):
        result = CliRunner().invoke(
            main,
            [
                "evaluate",
                str(csv_file),
                "--kind",
                "project",
                "--no-store",
                "--quiet",
                "--format",
                "csv",
                "--jobs",
                jobs,
                "--chunk-size",
                "400",
            ],
        )
        assert result.exit_code == 0, result.output
        out[jobs] = result.stdout
    assert out["1"] == out["2"]
    assert out["1"].count("\n") > 3000


def test_quiet_prints_no_progress_bar(tmp_path: Path) -> None:
    csv_file = write_projects_csv(tmp_path / "p.csv", 50)
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(csv_file),
            "--kind",
            "project",
            "--no-store",
            "--format",
            "json",
            "--quiet",
            "--jobs",
            "1",
        ],
    )
    assert result.exit_code == 0
    assert "审查 evaluating" not in result.stderr


def test_progress_bar_reports_records_done(tmp_path: Path) -> None:
    csv_file = write_projects_csv(tmp_path / "p.csv", 50)
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(csv_file),
            "--kind",
            "project",
            "--no-store",
            "--format",
            "json",
            "--progress",
            "--jobs",
            "1",
        ],
    )
    assert result.exit_code == 0
    assert "审查 evaluating" in result.stderr and "50/50" in result.stderr


def test_evaluate_with_no_store_does_not_import_the_store() -> None:
    code = (
        "import sys; from engine.cli import main; import engine.cli.evaluate; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'sqlmodel', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_db_option_uses_the_store_names() -> None:
    from engine.store.database import DEFAULT_DB_FILE, ENV_VAR
    from engine.store.location import DEFAULT_DB_FILE as FILE
    from engine.store.location import ENV_VAR as ENV

    assert (_DB_ENV, _DB_FILE) == (ENV_VAR, DEFAULT_DB_FILE) == (ENV, FILE)


def test_the_default_store_location_is_named_without_importing_the_store() -> None:
    """engine/store/location.py is what evaluate's --db help can import and stay fast."""
    code = (
        "import sys; from engine.store.location import db_help, default_db_path; "
        "assert default_db_path().name == 'compliance.db' and str(default_db_path()) in db_help(); "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'sqlmodel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_evaluate_without_db_stores_where_runs_looks(tmp_path: Path, monkeypatch, user_data_dir) -> None:
    """evaluate's own --db (default None) and the store commands agree on the default location."""
    monkeypatch.chdir(tmp_path)
    csv_file = write_projects_csv(tmp_path / "p.csv", 5)
    result = CliRunner().invoke(main, ["evaluate", str(csv_file), "--kind", "project", "--format", "summary"])
    assert result.exit_code == 0, result.stderr
    assert (user_data_dir / "compliance.db").exists()
    runs = CliRunner().invoke(main, ["runs"])
    assert (
        runs.exit_code == 0
        and str(user_data_dir / "compliance.db") in runs.stdout
        and "已完成" in runs.stdout
    )
