"""The general requirement and measures 1–9: examples, samples, raw facts, inclusion rules, aggregates,
soft wording and baselines from the subject's own 2023 report.

The checks are loaded from the real rule files, copied beside the real pack.yaml into a scratch pack,
so these tests judge exactly what ships without depending on other measures' files.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluation.evaluate import Evaluator
from engine.evaluation.examples import run_examples
from engine.policy.policy import Policy
from engine.records.intake import load_records
from tests.conftest import make_record, policy_of_measures, project

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "m00-08-reports.yaml"
MEASURES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
REVIEW_DAY = dt.date(2026, 3, 31)  # after the plan: every report year has ended


@pytest.fixture(scope="module")
def m09_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_of_measures(tmp_path_factory.mktemp("heze-m00-m09"), MEASURES)


def _findings(policy: Policy, records, check_id: str, as_of: dt.date = REVIEW_DAY):
    return [
        f
        for f in Evaluator(policy).evaluate(records, as_of=as_of).findings
        if f.check.endswith(":" + check_id)
    ]


def _one(policy: Policy, records, check_id: str, record_id: str | None = None, as_of: dt.date = REVIEW_DAY):
    found = [
        f
        for f in _findings(policy, records, check_id, as_of)
        if record_id is None or f.record_id == record_id
    ]
    assert len(found) == 1, [(f.record_id, f.status) for f in found]
    return found[0]


# --- the files ---------------------------------------------------------------------------------


def test_every_measure_0_to_9_has_a_file_with_checks(m09_policy):
    measures = sorted(ms.measure.measure for cp in m09_policy.packs for ms in cp.pack.measures)
    assert measures == MEASURES
    general = next(
        ms.measure for cp in m09_policy.packs for ms in cp.pack.measures if ms.measure.measure == 0
    )
    assert general.section == "一、总体要求"


def test_examples_pass_and_reach_every_status_the_check_can_reach(m09_policy):
    report = run_examples(m09_policy)
    assert report.failures == [], [
        (r.check.full_id, r.name, r.expected, r.actual, r.message) for r in report.failures
    ]
    cov = report.coverage()
    for cc in m09_policy.checks():
        got = cov[cc.full_id]
        if cc.check.role == "inclusion":
            # an inclusion rule counts (compliant) or leaves out (not_applicable: 不计入), never non_compliant
            assert {"compliant", "not_applicable", "insufficient_data"} <= got, cc.full_id
            assert "non_compliant" not in got, cc.full_id
        else:
            assert {"compliant", "non_compliant"} <= got, cc.full_id
        if cc.check.baseline is not None:
            assert {"on_track", "behind_schedule", "insufficient_data"} <= got, cc.full_id
        if cc.check.applies_when:
            assert "not_applicable" in got, cc.full_id


def test_soft_checks_have_examples_inside_and_outside_the_band(m09_policy):
    for cc in m09_policy.checks():
        if cc.check.soft_on is None:  # no soft wording, or weighed and set aside with a note
            continue
        flags = {ex.review for ex in cc.check.examples if ex.review is not None}
        if cc.check.nature == "duty":
            assert True in flags, cc.full_id
        else:
            assert flags == {True, False}, cc.full_id


def test_checks_computed_from_parts_have_parts_reported_and_disagreeing_examples(m09_policy):
    with_reported = [cc for cc in m09_policy.checks() if cc.check.reported]
    assert {cc.check.id for cc in with_reported} == {
        "m0.city_urbanization_rate_57",
        "m3.tourism_value_added_share_4_5",
        "m6.rail_transit_mileage_590",
        "m6.expressway_mileage_900",
        "m6.inland_waterway_mileage_50",
        "m7.urbanization_growth_above_province",
    }
    for cc in with_reported:
        rep = cc.check.reported
        records = [ex.record for ex in cc.check.examples]
        assert any(rep not in r and len(r) > 2 for r in records), cc.full_id  # from the parts
        assert any(
            set(r) - {rep, "report_year", "province_resident_urbanization_rate"} == set() and rep in r
            for r in records
        ), cc.full_id  # the ready figure alone
        assert any(
            rep in r and len(set(r) - {rep, "report_year"}) >= 2 and ex.review
            for ex, r in zip(cc.check.examples, records, strict=True)
        ), cc.full_id  # both, disagreeing


def test_baselines_are_the_2023_report_and_no_baseline_fields_remain(m09_policy):
    for cc in m09_policy.checks():
        if cc.check.baseline is not None:
            assert cc.check.baseline.year == 2023, cc.full_id
    names = set(m09_policy.catalog.kind("city").fields) | set(m09_policy.catalog.kind("county").fields)
    ours = {
        "resident_urbanization_rate",
        "ten_strong_industry_clusters",
        "rail_transit_mileage",
        "tourism_value_added_gdp_share",
        "construction_groups_10bn",
        "expressways_open",
    }
    assert not {f"{n}_baseline" for n in ours} & names


# --- the samples -------------------------------------------------------------------------------


def test_samples_judge_every_check_and_show_every_status(m09_policy):
    intake = load_records([SAMPLE], m09_policy.catalog)
    assert intake.errors == [] and intake.file_problems == []
    assert all(r.id.startswith("M00-08-") for r in intake.records)
    result = Evaluator(m09_policy).evaluate(intake.records, as_of=REVIEW_DAY)
    judged = {f.check for f in result.findings if f.status != "not_applicable"}
    assert judged == {cc.full_id for cc in m09_policy.checks()}
    statuses = {f.status for f in result.findings}
    assert {
        "compliant",
        "non_compliant",
        "not_applicable",
        "insufficient_data",
        "on_track",
        "behind_schedule",
    } <= statuses
    # the 2023 reports are baselines, not judged
    assert {n.record_id for n in result.notices if n.category == "baseline"} == {
        "M00-08-CITY-2023",
        "M00-08-TOWN-ZZ-2023",
        "M00-08-TOWN-HG-2023",
    }
    by = {(f.record_id, f.check.split(":")[1]): f for f in result.findings}
    # baselines come from the subject's own 2023 report in the batch
    m0 = by[("M00-08-CITY-2024", "m0.city_urbanization_rate_57")]
    assert m0.status == "on_track" and m0.basis == "computed"
    assert m0.baseline == Decimal("55.6") and m0.baseline_year == 2023
    assert m0.baseline_source and m0.baseline_source.startswith("2023年度报告")
    # counts from lower records: the city states no 技改 count in 2024, states 312 in 2025
    t24 = by[("M00-08-CITY-2024", "m2.city_tech_upgrade_projects_yearly")]
    assert (t24.basis, t24.value, t24.counted) == ("counted", Decimal(1), Decimal(1))
    t25 = by[("M00-08-CITY-2025", "m2.city_tech_upgrade_projects_yearly")]
    assert (t25.basis, t25.value, t25.counted, t25.review) == ("stated", Decimal(312), Decimal(2), True)
    # the 2024 city states 8 groups of 10亿; its enterprise records count one (O-2)
    g24 = by[("M00-08-CITY-2024", "m4.city_construction_groups_10bn_10")]
    assert g24.counted == Decimal(1) and g24.review
    assert by[("M00-08-ENT-JZ-02", "m4.construction_group_output_10bn")].status == "not_applicable"
    assert by[("M00-08-ENT-JZ-05", "m4.construction_group_output_10bn")].status == "not_applicable"  # 10亿整
    # 县县双高速 is judged for the city, not for a county with one road; 功能区 are not counted
    assert by[("M00-08-CITY-2024", "m6.city_counties_two_expressways")].counted == Decimal(4)
    assert by[("M00-08-CTY-JC-2024", "m6.county_two_expressways")].status == "not_applicable"
    assert by[("M00-08-CTY-GX-2024", "m6.county_two_expressways")].status == "not_applicable"
    assert by[("M00-08-CTY-GX-2024", "m8.low_urbanization_county_plan")].status == "not_applicable"


def test_durable_and_plain_python_agree_on_the_samples(m09_policy):
    records = load_records([SAMPLE], m09_policy.catalog).records
    durable = Evaluator(m09_policy).evaluate(records, as_of=REVIEW_DAY).findings
    python = Evaluator(m09_policy, engine="python").evaluate(records, as_of=REVIEW_DAY).findings
    assert [(f.record_id, f.check, f.status, f.review) for f in durable] == [
        (f.record_id, f.check, f.status, f.review) for f in python
    ]


# --- 总体要求: raw facts and 左右 -------------------------------------------------------------------


def test_56_9_percent_against_57_about_carries_review_from_parts_and_from_a_ready_rate(m09_policy):
    parts = make_record(
        m09_policy,
        "city",
        "C1",
        name="甲市",
        report_year=2025,
        urban_resident_population="495.03",
        resident_population="870",
    )
    ready = make_record(
        m09_policy, "city", "C2", name="乙市", report_year=2025, resident_urbanization_rate="56.9"
    )
    f1 = _one(m09_policy, [parts], "m0.city_urbanization_rate_57")
    f2 = _one(m09_policy, [ready], "m0.city_urbanization_rate_57")
    for f in (f1, f2):
        assert f.status == "non_compliant" and f.review is True
        assert f.value == Decimal("56.9")
        assert any("左右" in r for r in f.review_reasons)
    assert f1.basis == "computed"
    assert f2.basis == "reported" and "按填报的现成数值判定" in f2.message


def test_the_computed_rate_decides_where_the_ready_rate_rounds_onto_the_line(m09_policy):
    # 495.552 / 870 = 56.96%, written 57.0 by hand: judged on the computed figure, not the rounded one
    rec = make_record(
        m09_policy,
        "city",
        "C",
        report_year=2025,
        urban_resident_population="495.552",
        resident_population="870",
        resident_urbanization_rate="57.0",
    )
    f = _one(m09_policy, [rec], "m0.city_urbanization_rate_57")
    assert f.status == "non_compliant" and f.basis == "computed" and f.reported == Decimal("57.0")


def test_ready_rate_that_disagrees_with_its_parts_is_flagged(m09_policy):
    rec = make_record(
        m09_policy,
        "city",
        "C",
        report_year=2025,
        urban_resident_population="522",
        resident_population="870",
        resident_urbanization_rate="57.0",
    )
    f = _one(m09_policy, [rec], "m0.city_urbanization_rate_57")
    assert f.status == "compliant" and f.value == Decimal(60) and f.review
    assert any("不一致" in r for r in f.review_reasons)


def test_far_from_57_is_not_flagged(m09_policy):
    rec = make_record(
        m09_policy,
        "city",
        "C",
        report_year=2025,
        urban_resident_population="469.8",
        resident_population="870",
    )
    f = _one(m09_policy, [rec], "m0.city_urbanization_rate_57")
    assert f.status == "non_compliant" and f.review is False


def test_a_report_never_sets_its_own_baseline(m09_policy):
    # a 2024 report with no 2023 report of the same city cannot be judged on pace, whatever it says
    rec = make_record(
        m09_policy,
        "city",
        "C",
        name="菏泽市",
        report_year=2024,
        baseline_year=2024,
        urban_resident_population="490.7",
        resident_population="870",
    )
    assert _one(m09_policy, [rec], "m0.city_urbanization_rate_57").status == "insufficient_data"
    base = make_record(
        m09_policy,
        "city",
        "C0",
        name="菏泽市",
        report_year=2023,
        urban_resident_population="483.72",
        resident_population="870",
    )
    f = _one(m09_policy, [base, rec], "m0.city_urbanization_rate_57", "C")
    assert f.status == "on_track" and f.baseline == Decimal("55.6") and f.baseline_year == 2023
    other = make_record(
        m09_policy,
        "city",
        "X0",
        name="别的市",
        report_year=2023,
        urban_resident_population="483.72",
        resident_population="870",
    )
    assert _one(m09_policy, [other, rec], "m0.city_urbanization_rate_57", "C").status == "insufficient_data"


def test_published_2023_figure_is_the_baseline_when_no_2023_report_is_at_hand(m09_policy):
    rec = make_record(m09_policy, "city", "C", report_year=2024, ten_strong_industry_clusters=13)
    f = _one(m09_policy, [rec], "m1.ten_strong_clusters_15")
    assert f.status == "on_track" and f.baseline == Decimal(11)
    assert f.baseline_source.startswith("参考值") and "2024-01-11" in f.baseline_source


# --- 第2条: inclusion rules and the counted yearly figure ---------------------------------------


def test_a_480_wan_tech_upgrade_project_is_not_applicable_not_non_compliant(m09_policy):
    p = project(m09_policy, "P1", category="技改项目", total_investment="480")
    f = _one(m09_policy, [p], "m2.tech_upgrade_project_5m")
    assert f.status == "not_applicable"
    assert "不计入" in f.message
    f = _one(
        m09_policy,
        [project(m09_policy, "P2", category="制造业重点项目", total_investment="9999")],
        "m2.manufacturing_key_project_100m",
    )
    assert f.status == "not_applicable" and "不计入" in f.message


def _listed_projects(policy: Policy) -> list:
    # 10,050 listed 技改 projects of 2024: 7,500 of 500万元 or more, 2,550 under it
    out = []
    for i in range(10_050):
        amount = "480" if i % 201 < 51 else str(500 + i % 7 * 100)
        out.append(
            project(
                policy,
                f"P{i:05d}",
                submitted_on=dt.date(2024, 6, 1) + dt.timedelta(days=i % 200),
                category="技改项目",
                total_investment=amount,
            )
        )
    assert sum(1 for p in out if p.values["total_investment"] < 500) == 2_550
    return out


def test_a_city_whose_10050_listed_projects_include_2550_under_500_wan_is_judged_on_7500(m09_policy):
    projects = _listed_projects(m09_policy)
    city = make_record(m09_policy, "city", "CITY-2024", name="菏泽市", report_year=2024)
    findings = Evaluator(m09_policy).evaluate(projects + [city], as_of=dt.date(2026, 3, 31)).findings
    f = next(
        f
        for f in findings
        if f.record_id == "CITY-2024" and f.check.endswith("m2.city_tech_upgrade_projects_yearly")
    )
    assert f.value == Decimal(7500) and f.basis == "counted" and f.counted == Decimal(7500)
    assert f.status == "compliant" and f.review is False
    excluded = [
        f for f in findings if f.check.endswith("m2.tech_upgrade_project_5m") and f.status == "not_applicable"
    ]
    assert len(excluded) == 2_550 and all("不计入" in f.message for f in excluded)
    # a stated figure that differs from the count is judged as stated and flagged, the count beside it
    stated = make_record(
        m09_policy, "city", "CITY-2024", name="菏泽市", report_year=2024, tech_upgrade_projects_500w=10_050
    )
    f = _one(
        m09_policy,
        projects + [stated],
        "m2.city_tech_upgrade_projects_yearly",
        "CITY-2024",
        as_of=dt.date(2026, 3, 31),
    )
    assert f.review is True and f.counted == Decimal(7500) and f.value == Decimal(10_050)
    assert f.basis == "stated"


def test_city_with_no_count_and_no_project_records_is_insufficient_not_zero(m09_policy):
    city = make_record(m09_policy, "city", "C", report_year=2024)
    assert _one(m09_policy, [city], "m2.city_tech_upgrade_projects_yearly").status == "insufficient_data"


# --- 第3条: the tourism share from its parts ----------------------------------------------------


def test_tourism_share_missed_by_a_tenth_reports_about_the_gap_and_review(m09_policy):
    rec = make_record(
        m09_policy, "city", "C", report_year=2025, tourism_value_added="220", regional_gdp="5000"
    )
    f = _one(m09_policy, [rec], "m3.tourism_value_added_share_4_5")
    assert f.status == "non_compliant" and f.approx and f.basis == "computed" and f.review
    assert "4.5%左右" in f.message and "相差0.1" in f.message


def test_tourism_share_with_a_part_missing_is_not_judged_on_the_other(m09_policy):
    rec = make_record(m09_policy, "city", "C", report_year=2025, tourism_value_added="230")
    assert _one(m09_policy, [rec], "m3.tourism_value_added_share_4_5").status == "insufficient_data"


# --- 第4条: 超10亿 is exclusive; the city's count comes from enterprise records -------------------


def test_construction_output_of_exactly_10_yi_is_not_counted_and_input_in_yi_is_converted(m09_policy):
    rec = make_record(
        m09_policy,
        "enterprise",
        "E",
        report_year=2024,
        counted_as_10bn_construction_group=True,
        **{"建筑业总产值(亿元)": "10"},
    )
    assert rec.values["construction_output_value"] == Decimal("100000")
    f = _one(m09_policy, [rec], "m4.construction_group_output_10bn")
    assert f.status == "not_applicable" and "不计入" in f.message
    above = make_record(m09_policy, "enterprise", "E2", report_year=2024, **{"建筑业总产值(亿元)": "10.01"})
    assert _one(m09_policy, [above], "m4.construction_group_output_10bn").status == "compliant"


def test_city_count_of_10_yi_groups_comes_from_enterprise_records(m09_policy):
    ents = [
        make_record(
            m09_policy, "enterprise", f"E{i}", name=f"企业{i}", report_year=2025, construction_output_value=v
        )
        for i, v in enumerate(["126000", "100000", "97000", "100001"])
    ]
    city = make_record(m09_policy, "city", "C", report_year=2025)
    f = _one(m09_policy, ents + [city], "m4.city_construction_groups_10bn_10", "C")
    assert (f.status, f.basis, f.value) == ("non_compliant", "counted", Decimal(2))


# --- 第5条: 3.7万 青年人才 over the plan period, not every year ------------------------------------


def test_young_talents_are_summed_over_2024_and_2025_not_required_each_year(m09_policy):
    y24 = make_record(
        m09_policy, "city", "C24", name="菏泽市", report_year=2024, young_talents_gathered="3.0"
    )
    assert _one(m09_policy, [y24], "m5.young_talents_37k").status == "on_track"
    y25 = make_record(
        m09_policy, "city", "C25", name="菏泽市", report_year=2025, young_talents_gathered="1.0"
    )
    f = _one(m09_policy, [y24, y25], "m5.young_talents_37k", "C25")
    assert f.status == "compliant" and f.value == Decimal("4.0")


# --- 第6条: totals from two parts; 县县双高速 for the city --------------------------------------


def test_mileage_total_is_the_sum_of_its_two_parts_and_one_part_alone_is_not_judged(m09_policy):
    both = make_record(
        m09_policy, "city", "C", report_year=2025, rail_operating_km="448", rail_under_construction_km="150"
    )
    f = _one(m09_policy, [both], "m6.rail_transit_mileage_590")
    assert (f.status, f.value, f.basis) == ("compliant", Decimal(598), "computed")
    one = make_record(m09_policy, "city", "C", report_year=2025, rail_operating_km="600")
    assert _one(m09_policy, [one], "m6.rail_transit_mileage_590").status == "insufficient_data"
    ready = make_record(m09_policy, "city", "C", report_year=2025, expressway_mileage="880")
    f = _one(m09_policy, [ready], "m6.expressway_mileage_900")
    assert (f.status, f.basis) == ("non_compliant", "reported")


def test_county_with_one_expressway_is_not_in_breach_the_city_is_judged(m09_policy):
    counties = [
        make_record(m09_policy, "county", f"K{i}", name=n, county=n, report_year=2025, expressways_open=k)
        for i, (n, k) in enumerate(
            [
                ("曹县", 2),
                ("单县", 3),
                ("鄄城县", 1),
                ("菏泽高新区", 2),
                ("牡丹区", 2),
                ("定陶区", 2),
                ("成武县", 2),
                ("巨野县", 2),
                ("东明县", 2),
                ("郓城县", 2),
            ]
        )
    ]
    city = make_record(m09_policy, "city", "C", report_year=2025)
    result = Evaluator(m09_policy).evaluate(counties + [city], as_of=REVIEW_DAY).findings
    county_status = {f.record_id: f.status for f in result if f.check.endswith("m6.county_two_expressways")}
    assert county_status["K2"] == "not_applicable" and "non_compliant" not in county_status.values()
    f = next(f for f in result if f.record_id == "C" and f.check.endswith("m6.city_counties_two_expressways"))
    # eight of the nine 县区 (鄄城县 short; 高新区 not counted): 基本实现, flagged for review
    assert (f.status, f.basis, f.value, f.review) == ("non_compliant", "counted", Decimal(8), True)


# --- 第7条: the relative target from parts and the subject's own 2023 report --------------------


def _growth_records(policy: Policy, year: int, city: str, city_base: str, prov: str, prov_base: str):
    # 1000万人 residents, so 城镇常住人口 = rate × 10 keeps the rates exact
    base = make_record(
        policy,
        "city",
        "C2023",
        name="菏泽市",
        report_year=2023,
        urban_resident_population=str(Decimal(city_base) * 10),
        resident_population="1000",
        province_resident_urbanization_rate=prov_base,
    )
    rec = make_record(
        policy,
        "city",
        "C",
        name="菏泽市",
        report_year=year,
        urban_resident_population=str(Decimal(city) * 10),
        resident_population="1000",
        province_resident_urbanization_rate=prov,
    )
    return [base, rec]


def test_urbanization_growth_exactly_half_a_point_above_the_province_is_compliant(m09_policy):
    # (58.4 - 55.6) / 2 = 1.4 = (67.3 - 65.5) / 2 + 0.5, on the line in exact decimal
    on_line = _growth_records(m09_policy, 2025, "58.4", "55.6", "67.3", "65.5")
    assert _one(m09_policy, on_line, "m7.urbanization_growth_above_province", "C").status == "compliant"
    just_below = _growth_records(m09_policy, 2025, "58.38", "55.6", "67.3", "65.5")
    assert (
        _one(m09_policy, just_below, "m7.urbanization_growth_above_province", "C").status == "non_compliant"
    )


def test_urbanization_growth_with_only_ready_rates_falls_back_to_a_ready_average_gain(m09_policy):
    base = make_record(
        m09_policy,
        "city",
        "C2023",
        name="菏泽市",
        report_year=2023,
        province_resident_urbanization_rate="65.5",
        resident_urbanization_rate="55.6",
    )
    rates_only = make_record(
        m09_policy,
        "city",
        "C",
        name="菏泽市",
        report_year=2025,
        province_resident_urbanization_rate="67.3",
        resident_urbanization_rate="58.6",
    )
    assert (
        _one(m09_policy, [base, rates_only], "m7.urbanization_growth_above_province", "C").status
        == "insufficient_data"
    )
    gain = make_record(
        m09_policy,
        "city",
        "C",
        name="菏泽市",
        report_year=2025,
        province_resident_urbanization_rate="67.3",
        urbanization_rate_avg_annual_gain="1.5",
    )
    f = _one(m09_policy, [base, gain], "m7.urbanization_growth_above_province", "C")
    assert (f.status, f.basis) == ("compliant", "reported")


@settings(max_examples=40, deadline=None)
@given(
    year=st.sampled_from([2024, 2025]),
    city_gain=st.integers(min_value=0, max_value=300),
    prov_gain=st.integers(min_value=0, max_value=300),
)
def test_urbanization_growth_verdict_follows_the_formula(m09_policy, year, city_gain, prov_gain):
    city_base, prov_base = Decimal("55.62"), Decimal("65.53")
    city = city_base + Decimal(city_gain) / 100
    prov = prov_base + Decimal(prov_gain) / 100
    years = year - 2023
    meets = (city - city_base) / years >= (prov - prov_base) / years + Decimal("0.5")
    recs = _growth_records(m09_policy, year, str(city), str(city_base), str(prov), str(prov_base))
    expected = {
        (2025, True): "compliant",
        (2025, False): "non_compliant",
        (2024, True): "on_track",
        (2024, False): "behind_schedule",
    }[(year, meets)]
    assert _one(m09_policy, recs, "m7.urbanization_growth_above_province", "C").status == expected


# --- 第8条: which counties owe a plan, from the parts; only the nine 县区 ------------------------


def test_one_county_one_policy_binds_only_counties_below_the_city_rate(m09_policy):
    def county(rid, name, **v):
        return make_record(m09_policy, "county", rid, county=name, report_year=2024, **v)

    low = county(
        "K1",
        "鄄城县",
        urban_resident_population="36.9",
        resident_population="78.2",
        citywide_urban_resident_population="493.3",
        citywide_resident_population="870",
        one_county_one_policy_plan=False,
    )
    # both ready rates read 56.4, the parts say 56.36 < 56.44: the county owes a plan
    rounded_equal = county(
        "K2",
        "定陶区",
        urban_resident_population="36.634",
        resident_population="65",
        citywide_urban_resident_population="491.028",
        citywide_resident_population="870",
        resident_urbanization_rate="56.4",
        citywide_resident_urbanization_rate="56.4",
        one_county_one_policy_plan=False,
    )
    ready_equal = county(
        "K3",
        "定陶区",
        resident_urbanization_rate="56.4",
        citywide_resident_urbanization_rate="56.4",
        one_county_one_policy_plan=False,
    )
    zone = county(
        "K4",
        "菏泽高新区",
        resident_urbanization_rate="40.1",
        citywide_resident_urbanization_rate="56.4",
        one_county_one_policy_plan=False,
    )
    check = "m8.low_urbanization_county_plan"
    assert _one(m09_policy, [low], check).status == "non_compliant"
    assert _one(m09_policy, [rounded_equal], check).status == "non_compliant"
    assert _one(m09_policy, [ready_equal], check).status == "not_applicable"
    assert _one(m09_policy, [zone], check).status == "not_applicable"
    assert _one(m09_policy, [zone], "m8.low_urbanization_plan_support").status == "not_applicable"


# --- 第9条 -----------------------------------------------------------------------------------


def test_town_30k_target_is_soft_basic_achievement_not_about(m09_policy):
    cc = next(cc for cc in m09_policy.checks() if cc.check.id == "m9.town_population_30k")
    assert cc.check.soft.words == ["力争", "基本实现"]
    rec = make_record(
        m09_policy, "town", "T", report_year=2025, population_target_tier="3万人", resident_population=29000
    )
    f = _one(m09_policy, [rec], "m9.town_population_30k")
    assert f.status == "non_compliant" and f.review and not f.approx
