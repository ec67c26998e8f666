"""The `compliance evaluate` command end to end: files in, findings out, exit status."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_samples_show_every_status_for_measures_2_and_9():
    code, out, _ = (
        run("evaluate", "--no-store", str(SAMPLES), "--format", "json")
        if _has_no_store()
        else run("evaluate", str(SAMPLES), "--format", "json")
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    for key in ("record_id", "kind", "measure", "check", "status", "value", "threshold", "unit", "message"):
        assert key in rows[0]
    statuses = {r["status"] for r in rows if r["measure"] in (2, 9)}
    assert {"compliant", "non_compliant", "not_applicable", "insufficient_data"} <= statuses


def _has_no_store() -> bool:
    from engine.cli.evaluate import evaluate

    return any(p.name == "no_store" for p in evaluate.params)


def _args(*args: str) -> list[str]:
    return (["evaluate", "--no-store"] if _has_no_store() else ["evaluate"]) + list(args)


BAD_CSV = """项目编号,项目名称,所在县区,项目类别,总投资(万元),用地面积(亩),年税收(万元),是否位于省级特色小镇,申报日期
OK-1,合格项目,曹县,服务业,20000,100,1000,是,2024-07-01
BAD-LAND,零面积项目,单县,服务业,20000,0,1000,是,2024-07-01
BAD-INV,负投资项目,单县,技改项目,-50,10,1,否,2024-07-01
BAD-TEXT,文字项目,成武县,技改项目,五百万,10,1,否,2024-07-01
OK-2,缺税收项目,巨野县,技改项目,600,10,,否,2024-07-02
"""


def test_bad_records_are_named_and_the_good_ones_still_evaluated(tmp_path):
    f = tmp_path / "mixed.csv"
    f.write_text(BAD_CSV, encoding="utf-8")
    result = CliRunner().invoke(main, _args(str(f), "--format", "json"))
    assert result.exit_code == 1
    err = result.stderr
    assert f"{f} row 3: record BAD-LAND: field 用地面积/land_area" in err
    assert f"{f} row 4: record BAD-INV: field 总投资/total_investment" in err
    assert f"{f} row 5: record BAD-TEXT: field 总投资/total_investment: not a number: '五百万'" in err
    judged = {json.loads(line)["record_id"] for line in result.stdout.splitlines()}
    # A bad cell costs its field, not the record: the other checks of those records are judged.
    assert judged == {"OK-1", "OK-2", "BAD-LAND", "BAD-INV", "BAD-TEXT"}
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    bad = [
        r
        for r in rows
        if r["record_id"] == "BAD-TEXT" and r["check"] == "heze-2024:m2.tech_upgrade_project_5m"
    ]
    assert bad[0]["status"] == "insufficient_data" and "字段无效" in bad[0]["missing_fields"]


def test_gbk_csv_is_read(tmp_path):
    f = tmp_path / "gbk.csv"
    f.write_bytes(
        BAD_CSV.splitlines()[0].encode("gbk") + b"\n" + BAD_CSV.splitlines()[1].encode("gbk") + b"\n"
    )
    result = CliRunner().invoke(main, _args(str(f), "--format", "csv"))
    assert result.exit_code == 0, result.stderr
    assert "OK-1" in result.stdout and "heze-2024:m9.char_town_invest_per_mu" in result.stdout


def test_unusable_file_alone_exits_2(tmp_path):
    f = tmp_path / "x.pdf"
    f.write_bytes(b"%PDF-1.4")
    result = CliRunner().invoke(main, _args(str(f)))
    assert result.exit_code == 2
    assert "unsupported file type .pdf" in result.stderr


def test_record_dated_before_the_plan_is_a_baseline_and_one_far_outside_gets_a_notice(tmp_path):
    f = tmp_path / "old.json"
    f.write_text(
        json.dumps(
            [
                {"id": "OLD", "kind": "project", "申报日期": "2023-03-01", "总投资": 100},
                {"id": "ANCIENT", "kind": "project", "申报日期": "1900-03-01", "总投资": 100},
            ]
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, _args(str(f), "--format", "json"))
    assert result.stdout.strip() == ""
    assert "OLD" in result.stderr and "基期数据,不单独评判" in result.stderr
    assert "ANCIENT" in result.stderr and "不在任何政策的有效期内" in result.stderr


def test_rules_date_overrides_the_record_date_for_choosing_rules(tmp_path):
    f = tmp_path / "old.json"
    f.write_text(
        json.dumps(
            [
                {
                    "id": "OLD",
                    "kind": "project",
                    "申报日期": "2023-03-01",
                    "总投资": 100,
                    "项目类别": "技改项目",
                }
            ]
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, _args(str(f), "--format", "json", "--rules-date", "2024-06-01"))
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    tech = [r for r in rows if r["check"] == "heze-2024:m2.tech_upgrade_project_5m"]
    # 100万元 is under the 500万元 inclusion rule: not counted, not a breach
    assert (
        tech[0]["status"] == "not_applicable"
        and "不计入" in tech[0]["message"]
        and tech[0]["as_of"] == "2024-06-01"
    )


def test_xlsx_with_land_in_square_metres_is_converted():
    result = CliRunner().invoke(main, _args(str(SAMPLES / "projects-2025.xlsx"), "--format", "json"))
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    per_mu = {r["record_id"]: r for r in rows if r["check"] == "heze-2024:m9.char_town_invest_per_mu"}
    # 1200万元 on 40000 m² = 60 亩 -> 20 万元/亩
    assert per_mu["HZ-2025-001"]["value"] == 20


def test_summary_format_prints_only_the_counts(tmp_path):
    f = tmp_path / "mixed.csv"
    f.write_text(BAD_CSV, encoding="utf-8")
    result = CliRunner().invoke(main, _args(str(f), "--format", "summary"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "记录 records: 有效 5 条,退回 0 条,字段错误 3 处" in result.stderr
    assert "读取 5 行 = 评价 5 + 拒收 0 + 空行 0" in result.stderr
