"""Verdicts a reviewer can sign (issue 12): raw facts, counts from lower records, inclusion rules, two
dates, baselines from the subject's own earlier reports, soft wording, kinds declared by packs, and a
bad cell that costs one field, not the record.

A small pack written here exercises each rule-format feature on its own, so these tests hold whatever
the Heze pack's wording; durable-rules and the plain-Python reference must agree on every case.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from engine.evaluation.context import AggregateTable, History
from engine.evaluation.evaluate import Evaluator
from engine.policy.numbers import judged
from engine.policy.policy import Policy, load_policy
from engine.records.model import Record, SourceRef

PACK = """\
id: verdicts
title: 测试方案
number: 测试〔2024〕1号
issuer: 测试
issued_on: 2024-05-06
period: {from: 2024-05-06, to: 2025-12-31}
baseline_period: {from: 2020-01-01, to: 2024-05-05}
provenance: {publication: 测试, note: 据新闻报道转引}
"""

FIELDS = """\
kinds:
  province:
    label: 省
    aliases: [省份]
    date_field: report_year
    fields:
      province_rate: {label: 测试全省城镇化率, type: number, unit: "%", min: 0, max: 100}
  city:
    fields:
      tourism_added: {label: 测试旅游增加值, type: number, unit: 亿元, min: 0}
      gdp_total: {label: 测试地区生产总值, type: number, unit: 亿元, min: 0}
      tourism_share_ready: {label: 测试旅游占比, type: number, unit: "%", min: 0, max: 100}
      rail_open_km: {label: 测试营运里程, type: number, unit: 公里, min: 0}
      rail_building_km: {label: 测试在建里程, type: number, unit: 公里, min: 0}
      urban_pop: {label: 测试城镇人口, type: number, unit: 万人, min: 0}
      resident_pop: {label: 测试常住人口, type: number, unit: 万人, min: 0}
      tech_projects_stated: {label: 测试技改项目数, type: integer, unit: 个, min: 0}
"""

MEASURE = """\
measure: 1
title: 测试
section: 一、测试
lead_departments: [市发展改革委]
source: 测试条款
aggregates:
  - id: m1.tech_counted
    title: 投资500万元以上技改项目数(按项目统计)
    over: project
    subject: city
    check: m1.tech_inclusion
checks:
  - id: m1.tech_inclusion
    title: 计入500万元以上技改项目
    subject: project
    nature: standard
    role: inclusion
    source: 每年实施投资500万元以上技改项目
    applies_when: category == "技改项目"
    quantity: total_investment
    unit: 万元
    threshold: {unit: 万元, values: [{from: 2024-05-06, value: 500}]}
  - id: m1.tech_count
    title: 每年实施500万元以上技改项目300个左右
    subject: city
    nature: annual
    soft: {word: 左右}
    source: 每年实施投资500万元以上技改项目300个左右
    quantity: tech_projects_stated
    counted: m1.tech_counted
    unit: 个
    threshold: {unit: 个, values: [{from: 2024-05-06, value: 300}]}
  - id: m1.tourism_share
    title: 全域旅游产业增加值占比达到4.5%
    subject: city
    nature: target
    due: 2025-12-31
    source: 全域旅游产业增加值占地区生产总值比重达到4.5%
    quantity: tourism_added / gdp_total * 100
    reported: tourism_share_ready
    unit: "%"
    baseline: {year: 2023}
    threshold: {unit: "%", values: [{from: 2024-05-06, value: 4.5}]}
  - id: m1.rail_total
    title: 轨道交通在建及营运里程达到590公里
    subject: city
    nature: target
    due: 2025-12-31
    source: 轨道交通在建及营运里程达到590公里
    quantity: rail_open_km + rail_building_km
    unit: 公里
    baseline: {year: 2023, reference: {value: 480, source: 测试公报}}
    threshold: {unit: 公里, values: [{from: 2024-05-06, value: 590}]}
  - id: m1.urbanization_soft
    title: 常住人口城镇化率达到57%左右
    subject: city
    nature: target
    due: 2025-12-31
    soft: {word: 左右}
    source: 到2025年常住人口城镇化率达到57%左右
    quantity: urban_pop / resident_pop * 100
    reported: resident_urbanization_rate
    unit: "%"
    threshold: {unit: "%", values: [{from: 2024-05-06, value: 57}]}
  - id: m1.province_rate
    title: 全省城镇化率达到67%以上
    subject: province
    nature: target
    due: 2025-12-31
    source: 全省常住人口城镇化率达到67%以上
    quantity: province_rate
    unit: "%"
    threshold: {unit: "%", values: [{from: 2024-05-06, value: 67}]}
"""

LATE = dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    root = tmp_path_factory.mktemp("verdicts")
    (root / "pack.yaml").write_text(PACK, encoding="utf-8")
    (root / "fields.yaml").write_text(FIELDS, encoding="utf-8")
    (root / "m01.yaml").write_text(MEASURE, encoding="utf-8")
    return load_policy([root], with_builtin=False)


def rec(
    kind: str, rid: str, name: str | None = None, invalid: dict[str, str] | None = None, **values
) -> Record:
    typed = {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in values.items()}
    return Record(
        kind=kind,
        id=rid,
        name=name,
        values=typed,
        source=SourceRef(file="t.yaml", row=1),
        invalid=invalid or {},
    )


def judge(policy: Policy, records: list[Record], check: str, review_date: dt.date = LATE, **kw):
    out = {}
    for engine in ("durable", "python"):
        result = Evaluator(policy, engine).evaluate(records, as_of=review_date, **kw)  # type: ignore[arg-type]
        out[engine] = [f for f in result.findings if f.check == f"verdicts:{check}"]
    assert [f.model_dump() for f in out["durable"]] == [f.model_dump() for f in out["python"]]
    return out["durable"]


def city(year: int = 2025, **values) -> Record:
    return rec("city", f"C{year}", "菏泽市", county="全市", report_year=year, **values)


def test_a_project_under_the_inclusion_threshold_is_not_counted_not_non_compliant(policy: Policy) -> None:
    p = rec(
        "project", "P1", category="技改项目", total_investment=Decimal(480), submitted_on=dt.date(2024, 7, 1)
    )
    [f] = judge(policy, [p], "m1.tech_inclusion")
    assert f.status == "not_applicable"
    assert "不计入" in f.message and "480" in f.message


def _projects(n: int, small: int) -> list[Record]:
    return [
        rec(
            "project",
            f"P{i}",
            category="技改项目",
            submitted_on=dt.date(2024, 6, 1),
            total_investment=Decimal(480 if i < small else 800),
        )
        for i in range(n)
    ]


def test_a_city_is_judged_on_the_projects_counted_not_those_under_the_threshold(policy: Policy) -> None:
    records = _projects(10_050, 2_550) + [city(2024)]
    [f] = judge(policy, records, "m1.tech_count")
    assert f.value == Decimal(7500) and f.counted == Decimal(7500)
    assert f.basis == "counted" and f.status == "compliant" and not f.review


def test_a_stated_count_is_judged_shown_beside_the_counted_one_and_flagged_when_they_differ(
    policy: Policy,
) -> None:
    records = _projects(320, 40) + [city(2024, tech_projects_stated=320)]
    [f] = judge(policy, records, "m1.tech_count")
    assert f.value == Decimal(320) and f.counted == Decimal(280) and f.basis == "stated"
    assert f.review and any("按下级记录统计的280个" in r for r in f.review_reasons)


def test_counts_carry_across_chunks_and_a_group_without_records_has_no_figure(policy: Policy) -> None:
    table = AggregateTable()
    ev = Evaluator(policy)
    ev.evaluate(_projects(10, 4), as_of=LATE, aggregates=table)
    [f] = [
        f
        for f in ev.evaluate([city(2024)], as_of=LATE, aggregates=table).findings
        if f.check == "verdicts:m1.tech_count"
    ]
    assert f.value == Decimal(6)
    [g] = [
        f
        for f in ev.evaluate([city(2025)], as_of=LATE, aggregates=table).findings
        if f.check == "verdicts:m1.tech_count"
    ]
    assert g.status == "insufficient_data"  # no 2025 project at all: missing, not zero


def test_a_share_is_computed_from_its_parts_and_a_ready_one_that_disagrees_is_flagged(policy: Policy) -> None:
    [f] = judge(
        policy,
        [city(tourism_added=Decimal(216), gdp_total=Decimal(4800), tourism_share_ready=Decimal("4.8"))],
        "m1.tourism_share",
    )
    assert f.value == Decimal("4.5") and f.basis == "computed" and f.reported == Decimal("4.8")
    assert f.status == "compliant" and f.review
    assert any("填报的现成数值4.8%与按分项计算的4.5%不一致" in r for r in f.review_reasons)


def test_a_ready_share_within_its_rounding_is_not_flagged(policy: Policy) -> None:
    [f] = judge(
        policy,
        [city(tourism_added=Decimal("217.9"), gdp_total=Decimal(4800), tourism_share_ready=Decimal("4.5"))],
        "m1.tourism_share",
    )
    assert judged(f.value) == Decimal("4.539583") and not f.review  # 4.54 is written as 4.5


def test_a_ready_share_alone_is_judged_as_reported(policy: Policy) -> None:
    [f] = judge(policy, [city(tourism_share_ready=Decimal("4.2"))], "m1.tourism_share")
    assert f.status == "non_compliant" and f.basis == "reported" and f.value == Decimal("4.2")
    assert "按填报的现成数值判定,未按分项复核" in f.message


def test_a_total_with_a_part_missing_is_insufficient_not_behind_schedule(policy: Policy) -> None:
    [f] = judge(policy, [city(2024, rail_open_km=Decimal(448))], "m1.rail_total")
    assert f.status == "insufficient_data" and any("测试在建里程" in m for m in f.missing_fields)


def test_a_2025_report_reviewed_after_the_year_is_final_and_before_it_on_pace(policy: Policy) -> None:
    report = city(2025, rail_open_km=Decimal(450), rail_building_km=Decimal(100))
    [final] = judge(policy, [report], "m1.rail_total", review_date=dt.date(2026, 3, 31))
    assert final.status == "non_compliant" and final.value == Decimal(550)
    [early] = judge(policy, [report], "m1.rail_total", review_date=dt.date(2025, 6, 30))
    assert early.status == "behind_schedule"  # the year is still open: judged on pace, not finally


def test_a_baseline_comes_from_the_subjects_own_earlier_report_and_is_shown(policy: Policy) -> None:
    base = city(2023, rail_open_km=Decimal(400), rail_building_km=Decimal(100))
    report = city(2024, rail_open_km=Decimal(420), rail_building_km=Decimal(130))
    [f] = judge(policy, [base, report], "m1.rail_total")
    assert f.status == "on_track" and f.threshold == Decimal(545)  # 500 -> 590 over 2023-2025
    assert (
        f.baseline == Decimal(500) and f.baseline_year == 2023 and "2023年度报告" in (f.baseline_source or "")
    )


def test_a_reference_figure_stands_in_where_no_earlier_report_is_at_hand(policy: Policy) -> None:
    [f] = judge(
        policy, [city(2024, rail_open_km=Decimal(440), rail_building_km=Decimal(90))], "m1.rail_total"
    )
    assert (
        f.baseline == Decimal(480) and f.baseline_source == "参考值:测试公报" and f.threshold == Decimal(535)
    )


def test_a_report_cannot_set_its_own_baseline(policy: Policy) -> None:
    # The same subject's 2024 report as its own "baseline" is not read: baselines are 2023 reports.
    history = History()
    report = city(2024, rail_open_km=Decimal(300), rail_building_km=Decimal(0))
    history.add(report)
    [f] = [
        f
        for f in Evaluator(policy).evaluate([report], as_of=LATE, history=history).findings
        if f.check == "verdicts:m1.rail_total"
    ]
    assert f.baseline == Decimal(480)


def test_a_report_on_a_year_before_the_plan_is_a_baseline_not_judged(policy: Policy) -> None:
    result = Evaluator(policy).evaluate([city(2022, rail_open_km=Decimal(400))], as_of=LATE)
    assert result.findings == []
    [n] = result.notices
    assert n.category == "baseline" and n.message.startswith("基期数据,不单独评判")


def test_soft_wording_within_its_band_is_flagged_and_a_hard_line_is_not(policy: Policy) -> None:
    [soft] = judge(
        policy, [city(urban_pop=Decimal("56.9"), resident_pop=Decimal(100))], "m1.urbanization_soft"
    )
    assert soft.status == "non_compliant" and soft.review
    assert any("原文为“左右”" in r for r in soft.review_reasons)
    [ready] = judge(policy, [city(resident_urbanization_rate=Decimal("56.9"))], "m1.urbanization_soft")
    assert ready.review and ready.basis == "reported"
    [far] = judge(policy, [city(urban_pop=Decimal(50), resident_pop=Decimal(100))], "m1.urbanization_soft")
    assert far.status == "non_compliant" and not far.review  # 50% is not "57%左右"
    [hard] = judge(
        policy,
        [rec("province", "SD", "山东省", report_year=2025, province_rate=Decimal("66.98"))],
        "m1.province_rate",
    )
    assert hard.status == "non_compliant" and not hard.review  # 以上 is a hard line


def test_a_province_rule_gives_no_verdict_on_a_city_record(policy: Policy) -> None:
    result = Evaluator(policy).evaluate(
        [city(2025, urban_pop=Decimal(57), resident_pop=Decimal(100))], as_of=LATE
    )
    assert result.findings and all(f.kind == "city" for f in result.findings)
    assert not [f for f in result.findings if f.check == "verdicts:m1.province_rate"]


def test_a_bad_cell_costs_its_field_and_the_other_checks_are_judged(policy: Policy) -> None:
    report = city(
        2025,
        rail_open_km=Decimal(500),
        rail_building_km=Decimal(100),
        tourism_share_ready=Decimal("4.6"),
        invalid={"gdp_total": "字段无效:数值溢出"},
    )
    findings = {f.check: f for f in Evaluator(policy).evaluate([report], as_of=LATE).findings}
    assert findings["verdicts:m1.rail_total"].status == "compliant"
    # the share falls back to the ready figure, as reported; the urbanization check lacks its parts
    assert findings["verdicts:m1.tourism_share"].basis == "reported"
    urban = findings["verdicts:m1.urbanization_soft"]
    assert urban.status == "insufficient_data"


def test_the_invalid_field_is_named_with_its_reason_when_a_check_needs_it(policy: Policy) -> None:
    report = city(2025, tourism_added=Decimal(216), invalid={"gdp_total": "字段无效:数值溢出"})
    [f] = judge(policy, [report], "m1.tourism_share")
    assert f.status == "insufficient_data"
    assert any("测试地区生产总值" in m and "字段无效:数值溢出" in m for m in f.missing_fields)


def test_pack_provenance_and_baseline_period_are_loaded(policy: Policy) -> None:
    meta = policy.packs[0].pack.meta
    assert meta.provenance is not None and meta.provenance.note == "据新闻报道转引"
    assert meta.baseline_period is not None and meta.baseline_period.start == dt.date(2020, 1, 1)


def test_a_record_of_a_kind_no_pack_declares_is_refused(policy: Policy, tmp_path: Path) -> None:
    from engine.records.intake import load_records

    f = tmp_path / "r.yaml"
    f.write_text(
        textwrap.dedent("""\
        records:
          - {id: X1, kind: 开发区, report_year: 2025}
        """),
        encoding="utf-8",
    )
    got = load_records([f], policy.catalog)
    assert not got.records and got.errors and "开发区" in got.errors[0].message


def _cli(*args: str, cwd: Path) -> list[dict]:
    import json
    import subprocess
    import sys

    exe = str(Path(sys.executable).parent / "compliance")
    res = subprocess.run([exe, *args], capture_output=True, text=True, check=False, cwd=cwd)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def test_a_later_run_counts_stored_projects_and_reads_stored_earlier_reports(
    tmp_path: Path, policy: Policy
) -> None:
    pack = Path(policy.packs[0].pack.root)
    db = tmp_path / "store.db"
    projects = tmp_path / "projects.csv"
    projects.write_text(
        "项目编号,类型,项目类别,总投资(万元),申报日期\n"
        + "".join(f"P{i},项目,技改项目,{480 if i < 3 else 900},2024-06-0{1 + i % 9}\n" for i in range(12)),
        encoding="utf-8",
    )
    base = tmp_path / "city-2023.yaml"
    base.write_text(
        "records:\n  - {id: C2023, kind: 市, name: 菏泽市, 所在县区: 全市, 报告年度: 2023, "
        "测试营运里程: 400, 测试在建里程: 100}\n",
        encoding="utf-8",
    )
    _cli(
        "evaluate",
        "--rules",
        str(pack),
        "--db",
        str(db),
        "--format",
        "json",
        str(projects),
        str(base),
        cwd=tmp_path,
    )
    report = tmp_path / "city-2024.yaml"
    report.write_text(
        "records:\n  - {id: C2024, kind: 市, name: 菏泽市, 所在县区: 全市, 报告年度: 2024, "
        "测试营运里程: 420, 测试在建里程: 130}\n",
        encoding="utf-8",
    )
    rows = {
        r["check"]: r
        for r in _cli(
            "evaluate",
            "--rules",
            str(pack),
            "--db",
            str(db),
            "--as-of",
            "2026-03-31",
            "--format",
            "json",
            str(report),
            cwd=tmp_path,
        )
    }
    count = rows["verdicts:m1.tech_count"]
    assert count["basis"] == "counted" and count["value"] == 9  # 12 stored projects, 3 under 500万元
    rail = rows["verdicts:m1.rail_total"]
    assert rail["baseline"] == 500 and rail["baseline_year"] == 2023 and "已存储" in rail["baseline_source"]


def test_two_reports_of_one_year_are_read_together_and_their_conflicts_listed(policy: Policy) -> None:
    history = History()
    history.add(city(2023, rail_open_km=Decimal(400)))
    history.add(
        rec(
            "city",
            "C2023-b",
            "菏泽市",
            county="全市",
            report_year=2023,
            rail_building_km=Decimal(100),
            rail_open_km=Decimal(410),
        )
    )
    report = city(2024, rail_open_km=Decimal(420), rail_building_km=Decimal(130))
    history.add(report)
    [f] = [
        f
        for f in Evaluator(policy).evaluate([report], as_of=LATE, history=history).findings
        if f.check == "verdicts:m1.rail_total"
    ]
    assert f.baseline == Decimal(500)  # 400 from the first report, 100 from the second
    assert history.conflicts == [(("city", "菏泽市"), 2023, "rail_open_km", Decimal(400), Decimal(410))]


def test_a_column_name_that_would_name_two_fields_is_refused(tmp_path: Path) -> None:
    from engine.policy.loader import PolicyError

    (tmp_path / "pack.yaml").write_text(PACK.replace("id: verdicts", "id: clash"), encoding="utf-8")
    (tmp_path / "fields.yaml").write_text(
        "kinds:\n  city:\n    fields:\n      population_again:\n        label: 年末人口\n        type: number\n"
        "        unit: 万人\n        aliases: [常住人口]\n",
        encoding="utf-8",
    )
    (tmp_path / "m01.yaml").write_text(
        MEASURE.split("aggregates:")[0]
        + "checks:\n"
        + MEASURE.split("checks:\n")[1].split("  - id: m1.tech_count")[0],
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match="names two fields"):
        load_policy([tmp_path])
