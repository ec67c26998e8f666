"""The history pass for cumulative targets reads what they sum and skips files that cannot hold it."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.evaluation.evaluate import Evaluator, History
from engine.pipeline.stream import collect_history, evaluate_files
from engine.policy.policy import Policy
from engine.records.intake import load_records

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gen import write_projects_csv  # noqa: E402


def _city_csv(path: Path) -> Path:
    rows = ["编号,类型,名称,报告年度,当年开工改造老旧小区户数"]
    for year, n in ((2021, 25000), (2022, 24000), (2023, 26000), (2024, 23000), (2025, 21000)):
        rows.append(f"HZ-CITY,city,菏泽市,{year},{n}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_streamed_cumulative_findings_equal_those_of_the_whole_input(policy: Policy, tmp_path: Path) -> None:
    paths = [str(write_projects_csv(tmp_path / "projects.csv", 300)), str(_city_csv(tmp_path / "city.csv"))]
    intake = load_records(paths, policy.catalog)
    history = History()
    history.add_all(intake.records)
    whole = Evaluator(policy).evaluate(intake.records, history=history).findings
    streamed = [f for c in evaluate_files(paths, policy, chunk_size=100) for f in c.findings]

    def key(f: object) -> tuple[str, str, str]:
        return (f.kind, f.record_id, f.check)  # type: ignore[attr-defined]

    assert sorted(streamed, key=key) == sorted(whole, key=key)  # chunks order findings differently
    cumulative = [
        f
        for f in streamed
        if f.kind == "city" and f.check.endswith("m18.old_community_renovation_cumulative")
    ]
    assert cumulative and all(f.status != "insufficient_data" for f in cumulative if f.as_of.year >= 2024)


def test_history_keeps_only_the_summed_fields_of_the_kinds_that_need_them(
    policy: Policy, tmp_path: Path
) -> None:
    paths = [str(write_projects_csv(tmp_path / "projects.csv", 50)), str(_city_csv(tmp_path / "city.csv"))]
    history = collect_history(paths, policy)
    # A yearly record's subject is its kind and name (ids often carry the year).
    assert set(history._years) == {("city", "菏泽市")}
    assert history._years[("city", "菏泽市")][2022].values == {
        "report_year": 2022,
        "old_community_renovation_started": 24000,
    }
