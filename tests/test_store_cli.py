"""The store through the commands a reviewer uses: evaluate (stored), runs, history, diff, export."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.cli import main
from engine.store import Store
from engine.store.models import RecordVersion, Run, RunRecord
from engine.store.testing import BACKENDS, store_url

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(request, tmp_path_factory):
    yield from store_url(request.param, tmp_path_factory.mktemp("store"))


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def evaluate_json(db_url: str, folder: Path) -> dict[tuple, dict]:
    code, out, err = cli(
        "evaluate", str(folder), "--db", db_url, "--format", "json", "--reviewer", "审查员甲"
    )
    assert code in (0, 1), err
    assert "已保存 stored" in err
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    # The judged facts per (kind, record, file row, check), as printed: the diff must agree with them.
    return {(r["kind"], r["record_id"], r["row"], r["check"]): r for r in rows}


def change_first_project(folder: Path) -> str:
    """Double the total investment of the first project of projects-2024.csv; return its id."""
    path = folder / "projects-2024.csv"
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    header = rows[0]
    col = next(i for i, h in enumerate(header) if h.startswith("总投资"))
    rows[1][col] = str(int(rows[1][col].replace(",", "")) * 2)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return rows[1][0]


@pytest.fixture(scope="module")
def three_runs(db_url, tmp_path_factory):
    """samples/ evaluated twice, then once more with one project changed (read-only for the tests)."""
    folder = tmp_path_factory.mktemp("data") / "samples"
    shutil.copytree(SAMPLES, folder)
    first = evaluate_json(db_url, folder)
    second = evaluate_json(db_url, folder)
    changed = change_first_project(folder)
    third = evaluate_json(db_url, folder)
    return db_url, changed, (first, second, third)


def test_three_evaluations_make_three_runs_and_only_the_changed_record_gets_a_new_version(three_runs):
    db_url, changed, (first, _, _) = three_runs
    with Store(db_url, create=False) as store, store.session() as s:
        assert s.execute(select(func.count()).select_from(Run)).scalar_one() == 3
        versions = s.execute(select(RecordVersion)).scalars().all()
        submitted = [
            s.execute(select(func.count()).select_from(RunRecord).where(RunRecord.run_id == i)).scalar_one()
            for i in (1, 2, 3)
        ]
    # Every valid record is kept, judged or not (records outside every pack's period get a notice).
    assert submitted[0] == submitted[1] == submitted[2] >= len({(k, rid, row) for k, rid, row, _ in first})
    assert len(versions) == submitted[0] + 1  # unchanged records are not stored again
    newer = [v for v in versions if v.version > 1]
    assert [v.record_id for v in newer] == [changed]
    older = next(v for v in versions if v.record_id == changed and v.version == 1)
    assert newer[0].previous_id == older.id and newer[0].content_hash != older.content_hash


def test_diff_of_the_last_two_runs_lists_exactly_the_findings_that_changed(three_runs):
    db_url, changed, (_, second, third) = three_runs
    compared = ("status", "value", "threshold", "check_version")
    expected = {
        (k, rid, check)
        for (k, rid, row, check), f in third.items()
        if any(f[c] != second[(k, rid, row, check)][c] for c in compared)
    }
    assert expected and {rid for _, rid, _ in expected} == {changed}
    code, out, _ = cli("diff", "2", "3", "--db", db_url)
    assert code == 0
    listed = [line for line in out.splitlines() if "│ 变化" in line]
    assert len(listed) == len(expected)
    assert all(changed in line for line in listed)
    titles = {f["check_title"] for (k, rid, row, check), f in third.items() if (k, rid, check) in expected}
    assert all(any(t in line for line in listed) for t in titles)
    assert "新增" not in out.split("共")[-1].replace("新增 0 项", "")

    code, out, _ = cli("diff", "1", "2", "--db", db_url)
    assert code == 0 and "无变化" in out


def test_history_of_the_changed_record_shows_every_run_and_what_changed(three_runs):
    db_url, changed, (_, second, third) = three_runs
    code, out, _ = cli("history", changed, "--db", db_url)
    assert code == 0
    assert out.count("评价批次") == 3
    assert "共 2 个版本,3 次评价" in out
    assert "与上次评价相比:无变化" in out  # run 2 saw the same data as run 1
    assert "总投资(total_investment)" in out
    changed_titles = {
        f["check_title"]
        for key, f in third.items()
        if key[1] == changed and f["status"] != second[key]["status"]
    }
    for title in changed_titles:
        assert f"变化 {title}:结论" in out


def test_runs_lists_and_shows_each_run_with_its_reviewer_rules_and_counts(three_runs):
    db_url, _, (_, _, third) = three_runs
    code, out, _ = cli("runs", "--db", db_url)
    assert code == 0 and out.count("已完成") == 3 and "审查员甲" in out
    code, out, _ = cli("runs", "show", "3", "--db", db_url)
    assert code == 0
    assert "评价批次 3:已完成" in out and "heze-2024" in out and "菏政发〔2024〕11号" in out
    assert f"结论:共 {len(third)} 项" in out
    assert "projects-2024.csv" in out


def test_export_writes_the_findings_with_chinese_headers_as_csv_and_xlsx(three_runs, tmp_path):
    db_url, changed, (_, _, third) = three_runs
    out_csv, out_xlsx = tmp_path / "r3.csv", tmp_path / "r3.xlsx"
    assert cli("export", "3", "--format", "csv", "-o", str(out_csv), "--db", db_url)[0] == 0
    assert cli("export", "3", "--format", "xlsx", "-o", str(out_xlsx), "--db", db_url)[0] == 0
    text = out_csv.read_bytes()
    assert text.startswith("\ufeff".encode())  # Excel opens UTF-8 CSV correctly only with a BOM
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert len(rows) == len(third)
    assert {"记录编号", "检查项", "结论", "实际值", "标准", "单位", "说明"} <= set(rows[0])
    mine = [r for r in rows if r["记录编号"] == changed and r["检查项编号"].endswith("invest_per_mu")]
    assert mine and all(r["记录版本"] == "2" for r in mine)
    ws = openpyxl.load_workbook(out_xlsx, read_only=True).worksheets[0]
    sheet = list(ws.iter_rows(values_only=True))
    assert sheet[0][:3] == ("评价批次", "记录编号", "类型") and len(sheet) == len(third) + 1


def test_no_store_leaves_no_database_behind(tmp_path, monkeypatch, user_data_dir):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("evaluate", "--no-store", str(SAMPLES / "projects-2024.csv"), "--format", "json")
    assert code == 0 and "已保存" not in err
    assert not (tmp_path / "compliance.db").exists() and not user_data_dir.exists()


def test_by_default_the_store_is_in_the_user_data_folder_whatever_the_working_directory(
    tmp_path, monkeypatch, user_data_dir
):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    code, _, err = cli("evaluate", str(SAMPLES / "projects-2024.csv"), "--format", "json")
    assert code == 0 and str(user_data_dir / "compliance.db") in err
    assert not (tmp_path / "a" / "compliance.db").exists()
    monkeypatch.chdir(tmp_path / "b")
    code, out, _ = cli("runs")
    assert code == 0 and "已完成" in out and str(user_data_dir / "compliance.db") in out


def test_runs_without_a_store_says_where_it_would_be(tmp_path, monkeypatch, user_data_dir):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("runs")
    assert code == 0, err
    assert "还没有存储" in out and str(user_data_dir / "compliance.db") in out
    assert not user_data_dir.exists()  # a read creates nothing
    code, out, _ = cli("runs", "--db", str(tmp_path / "elsewhere.db"))
    assert code == 0 and str(tmp_path / "elsewhere.db") in out


def test_the_db_option_overrides_the_environment_which_overrides_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPLIANCE_DB", str(tmp_path / "env.db"))
    assert cli("evaluate", str(SAMPLES / "projects-2024.csv"), "--format", "json")[0] == 0
    assert (tmp_path / "env.db").exists()
    assert (
        cli(
            "evaluate",
            str(SAMPLES / "projects-2024.csv"),
            "--format",
            "json",
            "--db",
            str(tmp_path / "opt.db"),
        )[0]
        == 0
    )
    assert (tmp_path / "opt.db").exists()
    code, out, _ = cli("runs")
    assert code == 0 and str(tmp_path / "env.db") in out


def test_resume_refuses_a_finished_run_and_a_run_whose_input_changed(tmp_path):
    db = str(tmp_path / "s.db")
    data = tmp_path / "p.csv"
    shutil.copy(SAMPLES / "projects-2024.csv", data)
    assert cli("evaluate", str(data), "--db", db, "--format", "json")[0] == 0
    code, _, err = cli("evaluate", "--resume", "1", "--db", db)
    assert code == 2 and "already complete" in err
    with Store(db) as store, store.write() as conn:
        conn.execute(Run.__table__.update().values(finished_at=None))
    data.write_text(data.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    code, _, err = cli("evaluate", "--resume", "1", "--db", db)
    assert code == 2 and "input changed" in err and "p.csv" in err
