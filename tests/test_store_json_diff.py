"""`diff` compares the records both runs judged (a partial re-run is not a mass deletion), and the store
commands' `--format json` is one valid document with exact decimals and ISO dates."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.store import Store, run_findings

HEADER = ["项目编号", "项目名称", "所在县区", "项目类别", "总投资(万元)", "用地面积(亩)", "申报日期"]
N = 30


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _write(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, set[str]]:
    """Run 1 over N projects; run 2 over the first 10 only, 3 of them with another land area."""
    folder = tmp_path_factory.mktemp("partial")
    rows = [[f"P-{i:03d}", f"{i}号项目", "曹县", "技改项目", 1000, 7, "2024-08-15"] for i in range(1, N + 1)]
    subset = [r[:] for r in rows[:10]]
    for r in subset[:3]:
        r[5] = 400
    db = str(folder / "store.db")
    for name, data in (("a.csv", rows), ("b.csv", subset)):
        code, _, err = cli(
            "evaluate",
            str(_write(folder / name, data)),
            "--kind",
            "project",
            "--db",
            db,
            "--format",
            "summary",
            "--reviewer",
            "审查员甲",
        )
        assert code == 0, err
    return db, {"P-001", "P-002", "P-003"}


def test_diff_shows_only_the_changes_of_records_in_both_runs_and_counts_the_others(two_runs) -> None:
    db, changed = two_runs
    code, out, err = cli("diff", "1", "2", "--db", db)
    assert code == 0, err
    listed = [line for line in out.splitlines() if line.startswith("│")]
    assert len(listed) == 3 and all("│ 变化" in line for line in listed)
    assert {rid for rid in changed if any(rid in line for line in listed)} == changed
    assert "删除 0 项" in out and "变化 3 项" in out
    assert f"仅在批次1中的记录 {N - 10} 条 / 仅在批次2中的记录 0 条" in out
    assert "--all-records" in out


def test_diff_all_records_also_lists_the_findings_of_records_only_one_run_judged(two_runs) -> None:
    db, _ = two_runs
    code, out, _ = cli("diff", "1", "2", "--db", db, "--all-records", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    removed = {c["record_id"] for c in doc["changes"] if c["change"] == "removed"}
    assert removed == {f"P-{i:03d}" for i in range(11, N + 1)}
    assert sum(c["change"] == "changed" for c in doc["changes"]) == 3
    code, out, _ = cli("diff", "2", "1", "--db", db)  # the other way round: run 1 has more records
    assert f"仅在批次2中的记录 0 条 / 仅在批次1中的记录 {N - 10} 条" in out


def test_diff_json_counts_the_records_of_one_run_apart(two_runs) -> None:
    db, changed = two_runs
    code, out, _ = cli("diff", "1", "2", "--db", db, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["records_in_both"] == 10 and doc["all_records"] is False
    assert len(doc["only_in_a"]) == N - 10 and doc["only_in_b"] == []
    assert {c["record_id"] for c in doc["changes"]} == changed
    c = doc["changes"][0]
    assert c["fields"] == ["value"] and c["before"]["value"] != c["after"]["value"]


def _exact(store_db: str, run: int) -> dict[tuple[str, str], Decimal]:
    with Store(store_db, create=False) as store:
        return {
            (f.record_id, f.check_id): f.value
            for f in run_findings(store, run)
            if isinstance(f.value, Decimal)
        }


def test_json_of_runs_and_runs_show_is_one_document_with_iso_dates(two_runs) -> None:
    db, _ = two_runs
    code, out, _ = cli("runs", "--db", db, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["store"] == db and doc["exists"] is True
    assert [r["id"] for r in doc["runs"]] == [1, 2]
    assert doc["runs"][0]["reviewer"] == "审查员甲"
    assert dt.datetime.fromisoformat(doc["runs"][0]["started_at"]).tzinfo is not None
    assert doc["runs"][0]["n_records"] == N
    code, out, _ = cli("runs", "show", "2", "--db", db, "--format", "json")
    assert code == 0
    detail = json.loads(out)
    assert detail["summary"]["id"] == 2 and detail["inputs"][0]["path"].endswith("b.csv")
    assert detail["packs"][0]["pack_id"] and "审查员甲" in out  # ensure_ascii=False: Chinese as written


def test_json_decimals_are_the_stored_values_exactly(two_runs) -> None:
    db, _ = two_runs
    stored = _exact(db, 1)
    assert any(v != v.to_integral_value() for v in stored.values())  # 1000/7: many decimals
    code, out, _ = cli("history", "P-004", "--db", db, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    (h,) = doc["histories"]
    findings = h["runs"][0]["findings"]
    got = {
        (f["record_id"], f["check_id"]): f["value"] for f in findings if f["value"] not in (None, True, False)
    }
    assert got and all(isinstance(v, str) for v in got.values())  # never a float
    assert {k: Decimal(v) for k, v in got.items()} == {k: v for k, v in stored.items() if k[0] == "P-004"}
    assert all(dt.date.fromisoformat(f["as_of"]) for f in findings)


def test_runs_json_before_the_store_exists_says_where_it_would_be(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    code, out, _ = cli("runs", "--db", str(db), "--format", "json")
    assert code == 0
    assert json.loads(out) == {"store": str(db), "exists": False, "runs": []}
    assert not db.exists()
