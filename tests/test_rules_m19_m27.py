"""Measures 19–27 (城乡融合, 实施保障): examples, samples, and the readings a reviewer would probe.

The rule files are copied beside the real pack.yaml into a scratch pack, so these tests judge exactly
what ships without depending on other measures' files.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.evaluation.evaluate import Evaluator
from engine.evaluation.findings import Finding
from engine.policy.policy import Policy
from engine.records.intake import load_records
from tests.conftest import assert_examples_reach_their_statuses, make_record, policy_of_measures

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "samples" / "m19-27-reports.yaml", ROOT / "samples" / "m19-27-projects.yaml"]
MEASURES = list(range(19, 28))
NINE = ["牡丹区", "定陶区", "曹县", "单县", "成武县", "巨野县", "郓城县", "鄄城县", "东明县"]
ZONES = ["菏泽高新区", "菏泽经济开发区", "菏泽鲁西新区"]


@pytest.fixture(scope="module")
def m27_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_of_measures(tmp_path_factory.mktemp("heze-m19-m27"), MEASURES)


def _finding(
    policy: Policy,
    check_id: str,
    kind: str,
    history: tuple[dict, ...] = (),
    as_of: dt.date | None = None,
    **values: object,
) -> Finding:
    """The one finding of `check_id` on record T1 (with earlier reports of the same subject beside it)."""
    recs = [make_record(policy, kind, f"H{i}", **h) for i, h in enumerate(history)]
    recs.append(make_record(policy, kind, "T1", **values))
    found = [
        f
        for f in Evaluator(policy).evaluate(recs, as_of=as_of).findings
        if f.check == f"heze-2024:{check_id}" and f.record_id == "T1"
    ]
    assert len(found) == 1, found
    return found[0]


def _status(policy: Policy, check_id: str, kind: str, **values: object) -> str:
    return _finding(policy, check_id, kind, **values).status


def _findings_of(findings: list[Finding], record_id: str, check: str) -> Finding:
    (f,) = [f for f in findings if f.record_id == record_id and f.check == f"heze-2024:{check}"]
    return f


def test_measures_19_to_27_each_have_one_file_with_checks_and_their_section(m27_policy):
    measures = {ms.measure.measure: ms.measure for cp in m27_policy.packs for ms in cp.pack.measures}
    assert sorted(measures) == MEASURES
    assert {measures[n].section for n in range(19, 23)} == {"六、实施城乡融合行动"}
    assert {measures[n].section for n in range(23, 28)} == {"七、强化实施保障"}
    assert all(m.checks and m.lead_departments for m in measures.values())


def test_examples_pass_and_reach_every_status_the_check_can_reach(m27_policy):
    assert_examples_reach_their_statuses(m27_policy, {"compliant", "non_compliant"})


def test_soft_words_of_the_sources_are_marked_soft_and_hard_words_are_not(m27_policy):
    soft = {cc.check.id: set(cc.check.soft.words) for cc in m27_policy.checks() if cc.check.soft}
    assert soft == {
        "m19.city_talents_to_grassroots_yearly": {"左右"},
        "m19.county_rural_entrepreneur_hukou_channel": {"基本打通"},
        "m22.city_county_medical_subcenters": {"力争", "左右"},
        "m23.city_leading_group_meeting": {"适时"},
        "m25.finance_social_capital_leverage": {"积极"},
    }


def test_shares_and_totals_are_computed_from_parts_with_the_ready_made_figure_as_reported(m27_policy):
    reported = {cc.check.id: cc.check.reported for cc in m27_policy.checks() if cc.check.reported}
    assert reported == {
        "m21.county_rural_logistics_coverage": "rural_logistics_coverage",
        "m22.county_rural_school_pairing": "rural_school_pairing_coverage",
        "m22.city_county_medical_subcenters": "county_medical_subcenters",
        "m22.city_subdistrict_elderly_center_coverage": "subdistrict_elderly_center_coverage",
        "m22.city_township_elderly_center_coverage": "township_elderly_center_coverage",
        "m22.county_community_day_care_coverage": "community_day_care_coverage",
    }
    # Every baseline is the subject's own 2023 report (no reporter-supplied baseline fields remain).
    assert {cc.check.baseline.year for cc in m27_policy.checks() if cc.check.baseline} == {2023}
    county_fields = m27_policy.catalog.kind("county").fields
    assert not [
        n
        for n in county_fields
        if n.startswith(("rural_logistics_coverage_", "community_day_care_coverage_"))
    ]


def test_samples_are_valid_and_judge_every_check_with_every_status(m27_policy):
    intake = load_records(SAMPLES, m27_policy.catalog)
    assert intake.errors == [] and intake.file_problems == []
    assert all(r.id.startswith("M19-27-") for r in intake.records)
    projects = [r for r in intake.records if r.kind == "project"]
    assert projects and all(
        dt.date(2024, 5, 6) <= r.values["submitted_on"] <= dt.date(2025, 12, 31) for r in projects
    )
    assert {r.values["county"] for r in intake.records if r.kind == "county"} == set(NINE)
    assert {r.values["report_year"] for r in intake.records if r.kind != "project"} == {2023, 2024, 2025}
    result = Evaluator(m27_policy).evaluate(intake.records)
    # The 2023 reports are baselines: not judged, each with a notice.
    baselines = {r.id for r in intake.records if r.values.get("report_year") == 2023}
    assert baselines and {n.record_id for n in result.notices if n.category == "baseline"} == baselines
    findings = result.findings
    assert not {f.record_id for f in findings} & baselines
    judged = {f.check for f in findings if f.status != "not_applicable"}
    assert judged == {cc.full_id for cc in m27_policy.checks()}
    assert {f.status for f in findings} == {
        "compliant",
        "non_compliant",
        "not_applicable",
        "insufficient_data",
        "on_track",
        "behind_schedule",
    }
    # No project is non_compliant for missing land, approvals, EIA or a construction permit: only the
    # spatial-plan check (项目跟着规划走) judges projects.
    assert {f.check for f in findings if f.kind == "project"} == {
        "heze-2024:m24.key_project_conforms_to_plan"
    }
    # Trajectories start from the same county's 2023 report.
    md = _findings_of(findings, "M19-27-CTY-MD-2024", "m21.county_rural_logistics_coverage")
    assert (md.status, md.basis, md.value, md.threshold, md.baseline, md.baseline_year) == (
        "on_track",
        "computed",
        Decimal(97),
        Decimal(95),
        Decimal(90),
        2023,
    )
    dt_ = _findings_of(findings, "M19-27-CTY-DT-2024", "m21.county_rural_logistics_coverage")
    assert (dt_.status, dt_.baseline, dt_.threshold) == ("behind_schedule", Decimal(89), Decimal("94.5"))
    cx = _findings_of(findings, "M19-27-CTY-CX-2024", "m22.county_community_day_care_coverage")
    assert cx.status == "insufficient_data"  # no 2023 day-care figures for 曹县
    yc = _findings_of(findings, "M19-27-CTY-YC-2025", "m21.county_rural_logistics_coverage")
    assert (yc.status, yc.basis, yc.review, yc.reported) == (
        "non_compliant",
        "computed",
        True,
        Decimal("99.2"),
    )
    town = _findings_of(findings, "M19-27-CITY-2025", "m22.city_township_elderly_center_coverage")
    assert (town.status, town.basis) == (
        "non_compliant",
        "reported",
    ) and "按填报的现成数值判定" in town.message
    # 人行 is judged on relending; the regulator is not, but is judged on services for new citizens.
    regulator = "M19-27-DEPT-JGFJ-2024"
    assert (
        _findings_of(findings, regulator, "m25.financial_regulator_relending_tools").status
        == "not_applicable"
    )
    assert (
        _findings_of(findings, regulator, "m25.financial_services_for_new_citizens").status == "non_compliant"
    )
    assert (
        _findings_of(findings, "M19-27-DEPT-RHFH-2024", "m25.financial_regulator_relending_tools").status
        == "compliant"
    )
    # A county department is not judged on the city's mechanisms.
    county_dept = [f for f in findings if f.record_id == "M19-27-DEPT-CXCZ-2024"]
    assert county_dept and {f.status for f in county_dept} == {"not_applicable"}


def test_durable_and_plain_python_agree_on_the_samples(m27_policy):
    records = load_records(SAMPLES, m27_policy.catalog).records
    durable = Evaluator(m27_policy).evaluate(records).findings
    python = Evaluator(m27_policy, engine="python").evaluate(records).findings
    assert [(f.record_id, f.check, f.status, f.review) for f in durable] == [
        (f.record_id, f.check, f.status, f.review) for f in python
    ]


@settings(max_examples=40, deadline=None)
# Bare numbers in (0, 1] are refused as ambiguous percentages (0.57 or 0.57%?), so shares start above 1.
@given(st.decimals(min_value=Decimal("1.01"), max_value=100, places=2))
@example(Decimal(60))
@example(Decimal("59.99"))
def test_township_elderly_coverage_60_percent_is_inclusive_for_a_reported_share(m27_policy, rate):
    f = _finding(
        m27_policy,
        "m22.city_township_elderly_center_coverage",
        "city",
        report_year=2025,
        township_elderly_center_coverage=rate,
    )
    assert f.status == ("compliant" if rate >= Decimal(60) else "non_compliant")
    assert f.basis == "reported"


@pytest.mark.parametrize(
    ("covered", "total", "expected"),
    [(78, 130, "compliant"), (47, 79, "non_compliant"), (48, 79, "compliant"), (3, 5, "compliant")],
)
def test_township_elderly_coverage_is_computed_exactly_from_the_counts(m27_policy, covered, total, expected):
    # 47 of 79 is 59.49%: typed as "59.5" or "60" it would be rounded; from the counts it is not.
    f = _finding(
        m27_policy,
        "m22.city_township_elderly_center_coverage",
        "city",
        report_year=2025,
        townships_total=total,
        townships_with_elderly_center=covered,
    )
    assert (f.status, f.basis) == (expected, "computed")


@pytest.mark.parametrize(
    "check,parts,share",
    [
        (
            "m21.county_rural_logistics_coverage",
            ("rural_logistics_eligible_villages", "rural_logistics_served_villages"),
            "rural_logistics_coverage",
        ),
        (
            "m22.county_rural_school_pairing",
            ("rural_schools", "paired_rural_schools"),
            "rural_school_pairing_coverage",
        ),
        (
            "m22.county_community_day_care_coverage",
            ("urban_rural_communities", "day_care_communities"),
            "community_day_care_coverage",
        ),
    ],
)
def test_full_coverage_means_none_left_uncovered_whatever_the_ready_made_share_says(
    m27_policy, check, parts, share
):
    total, covered = parts
    all_in = _finding(m27_policy, check, "county", report_year=2025, **{total: 3000, covered: 3000})
    assert (all_in.status, all_in.basis, all_in.review) == ("compliant", "computed", False)
    # One of 3000 left: 99.97%, which a clerk would round to 100 — judged from the counts, flagged.
    one_left = _finding(
        m27_policy, check, "county", report_year=2025, **{total: 3000, covered: 2999, share: 100}
    )
    assert (one_left.status, one_left.basis) == ("non_compliant", "computed")
    assert one_left.reported == Decimal(100)
    ready_made = _finding(m27_policy, check, "county", report_year=2025, **{share: 100})
    assert (ready_made.status, ready_made.basis) == ("compliant", "reported")
    assert "按填报的现成数值判定,未按分项复核" in ready_made.message
    disagree = _finding(
        m27_policy, check, "county", report_year=2025, **{total: 300, covered: 280, share: 100}
    )
    assert (disagree.status, disagree.review) == ("non_compliant", True)
    assert any("不一致" in r for r in disagree.review_reasons)
    part_only = _finding(m27_policy, check, "county", report_year=2025, **{total: 300})
    assert part_only.status == "insufficient_data"


def test_the_baseline_is_the_same_countys_own_2023_report(m27_policy):
    check = "m21.county_rural_logistics_coverage"
    now = {
        "name": "单县",
        "county": "单县",
        "report_year": 2024,
        "rural_logistics_eligible_villages": 280,
        "rural_logistics_served_villages": 266,
    }  # 95%
    own = {
        "name": "单县",
        "county": "单县",
        "report_year": 2023,
        "rural_logistics_eligible_villages": 280,
        "rural_logistics_served_villages": 252,
    }  # 90% -> 95% in 2024
    f = _finding(m27_policy, check, "county", history=(own,), **now)
    assert (f.status, f.baseline, f.baseline_year, f.threshold) == (
        "on_track",
        Decimal(90),
        2023,
        Decimal(95),
    )
    other = dict(own, name="曹县", county="曹县")
    assert _finding(m27_policy, check, "county", history=(other,), **now).status == "insufficient_data"
    # A ready-made 2023 share serves as the baseline when the 2023 counts are missing.
    ready = {"name": "单县", "county": "单县", "report_year": 2023, "rural_logistics_coverage": 92}
    assert (
        _finding(m27_policy, check, "county", history=(ready,), **now).status == "behind_schedule"
    )  # needs 96


def test_talents_150_approx_is_met_at_150_and_near_misses_are_flagged_for_review(m27_policy):
    check = "m19.city_talents_to_grassroots_yearly"
    at = _finding(m27_policy, check, "city", report_year=2024, urban_talents_sent_to_grassroots=150)
    assert (at.status, at.review) == ("compliant", True)
    near = _finding(m27_policy, check, "city", report_year=2024, urban_talents_sent_to_grassroots=149)
    assert (
        near.status == "non_compliant"
        and near.review
        and "相差1名" in near.message
        and "左右" in near.message
    )
    assert any("左右" in r for r in near.review_reasons)
    far = _finding(m27_policy, check, "city", report_year=2024, urban_talents_sent_to_grassroots=142)
    assert (far.status, far.review) == ("non_compliant", False)  # 8 below: outside 150 ± 7.5
    well = _finding(m27_policy, check, "city", report_year=2025, urban_talents_sent_to_grassroots=158)
    assert (well.status, well.review) == ("compliant", False)


@pytest.mark.parametrize(
    ("done", "wip", "expected", "review"),
    [
        (12, 3, "compliant", True),
        (11, 3, "non_compliant", True),
        (10, 3, "non_compliant", False),
        (15, 2, "compliant", False),
    ],
)
def test_medical_subcenters_count_built_and_under_construction_with_a_band_of_one(
    m27_policy, done, wip, expected, review
):
    f = _finding(
        m27_policy,
        "m22.city_county_medical_subcenters",
        "city",
        report_year=2025,
        medical_subcenters_completed=done,
        medical_subcenters_under_construction=wip,
    )
    assert (f.status, f.review, f.value) == (expected, review, Decimal(done + wip))
    assert f.message.startswith("力争")
    assert (
        _status(
            m27_policy,
            "m22.city_county_medical_subcenters",
            "city",
            report_year=2025,
            medical_subcenters_completed=15,
        )
        == "insufficient_data"
    )


@pytest.mark.parametrize(
    ("disposed", "expected"), [(721, "compliant"), (720, "non_compliant"), (600, "non_compliant")]
)
def test_stepping_up_land_disposal_means_more_than_last_year(m27_policy, disposed, expected):
    assert (
        _status(
            m27_policy,
            "m24.county_unsupplied_land_disposal_stepped_up",
            "county",
            report_year=2024,
            unsupplied_land_stock=3000,
            unsupplied_land_disposed=disposed,
            unsupplied_land_disposed_prev_year=720,
        )
        == expected
    )


def test_a_library_project_lacking_land_or_permits_is_not_non_compliant(m27_policy):
    rec = make_record(
        m27_policy,
        "project",
        "P1",
        submitted_on=dt.date(2024, 10, 8),
        in_key_project_library=True,
        conforms_to_spatial_plan=True,
        land_use_secured=False,
        project_approval_completed=False,
        eia_approved=False,
        construction_permit_obtained=False,
    )
    findings = Evaluator(m27_policy).evaluate([rec]).findings
    assert [(f.check, f.status) for f in findings] == [
        ("heze-2024:m24.key_project_conforms_to_plan", "compliant")
    ]
    assert (
        _status(
            m27_policy,
            "m24.key_project_conforms_to_plan",
            "project",
            submitted_on=dt.date(2024, 10, 8),
            in_key_project_library=True,
            conforms_to_spatial_plan=False,
        )
        == "non_compliant"
    )
    assert (
        _status(
            m27_policy,
            "m24.key_project_conforms_to_plan",
            "project",
            submitted_on=dt.date(2024, 10, 8),
            in_key_project_library=False,
            conforms_to_spatial_plan=False,
        )
        == "not_applicable"
    )


@pytest.mark.parametrize(
    "category", ["行政审批部门", "生态环境部门", "住房城乡建设部门", "自然资源部门", "发展改革部门"]
)
def test_speeding_up_approvals_binds_the_approving_city_departments(m27_policy, category):
    check = "m26.dept_approval_fast_track"
    assert (
        _status(
            m27_policy,
            check,
            "department",
            county="全市",
            report_year=2025,
            functional_category=category,
            key_project_fast_track_in_place=False,
        )
        == "non_compliant"
    )
    assert (
        _status(
            m27_policy,
            check,
            "department",
            county="全市",
            report_year=2025,
            functional_category=category,
            key_project_fast_track_in_place=True,
        )
        == "compliant"
    )
    assert (
        _status(
            m27_policy,
            check,
            "department",
            county="曹县",
            report_year=2025,
            functional_category=category,
            key_project_fast_track_in_place=False,
        )
        == "not_applicable"
    )
    assert (
        _status(
            m27_policy,
            check,
            "department",
            county="全市",
            report_year=2025,
            functional_category="统计部门",
            key_project_fast_track_in_place=False,
        )
        == "not_applicable"
    )


def test_graded_land_guarantee_binds_the_city_natural_resources_bureau_only(m27_policy):
    check = "m24.dept_graded_land_guarantee"
    city = {"county": "全市", "report_year": 2025, "functional_category": "自然资源部门"}
    assert (
        _status(m27_policy, check, "department", **city, graded_land_guarantee_in_place=False)
        == "non_compliant"
    )
    assert (
        _status(
            m27_policy, check, "department", **dict(city, county="单县"), graded_land_guarantee_in_place=False
        )
        == "not_applicable"
    )


def test_department_duties_bind_only_the_city_departments_they_name(m27_policy):
    stats = {
        "county": "全市",
        "report_year": 2024,
        "urbanization_duty_department": True,
        "functional_category": "统计部门",
        "reward_funds_linked_to_resident_population": False,
        "population_flow_monitoring_in_place": False,
    }
    assert (
        _status(m27_policy, "m25.finance_reward_funds_linked_to_population", "department", **stats)
        == "not_applicable"
    )
    assert _status(m27_policy, "m27.population_flow_monitoring", "department", **stats) == "non_compliant"
    assert _status(m27_policy, "m23.dept_timetable", "department", **stats) == "insufficient_data"
    county_stats = dict(stats, county="鄄城县")
    for check in ("m27.population_flow_monitoring", "m23.dept_timetable"):
        assert _status(m27_policy, check, "department", **county_stats) == "not_applicable"
    county_finance = {
        "county": "曹县",
        "report_year": 2024,
        "functional_category": "财政部门",
        "reward_funds_linked_to_resident_population": False,
    }
    assert (
        _status(m27_policy, "m25.finance_reward_funds_linked_to_population", "department", **county_finance)
        == "not_applicable"
    )
    assert (
        _status(
            m27_policy,
            "m25.finance_reward_funds_linked_to_population",
            "department",
            **dict(county_finance, county="全市"),
        )
        == "non_compliant"
    )


def test_relending_binds_the_peoples_bank_branch_only(m27_policy):
    check = "m25.financial_regulator_relending_tools"
    base = {"county": "全市", "report_year": 2024, "relending_tools_used": False}
    assert _status(m27_policy, check, "department", functional_category="人民银行", **base) == "non_compliant"
    assert (
        _status(m27_policy, check, "department", functional_category="金融管理部门", **base)
        == "not_applicable"
    )
    assert (
        _status(
            m27_policy,
            "m25.financial_services_for_new_citizens",
            "department",
            county="全市",
            report_year=2024,
            functional_category="金融管理部门",
            new_citizen_financial_services_guided=False,
        )
        == "non_compliant"
    )


@pytest.mark.parametrize(
    "check,field",
    [
        ("m19.county_urban_hukou_restrictions_lifted", "urban_hukou_restrictions_lifted"),
        ("m19.county_rural_entrepreneur_hukou_channel", "rural_entrepreneur_hukou_channel_open"),
        ("m23.county_organization_system", "urbanization_organization_system_in_place"),
    ],
)
def test_county_duties_judge_the_nine_counties_not_the_functional_zones(m27_policy, check, field):
    for county in NINE:
        assert (
            _status(m27_policy, check, "county", county=county, report_year=2024, **{field: True})
            == "compliant"
        )
    for zone in ZONES:
        assert (
            _status(m27_policy, check, "county", county=zone, report_year=2024, **{field: False})
            == "not_applicable"
        )


@pytest.mark.parametrize(
    "check,kind,values,word",
    [
        (
            "m19.county_rural_entrepreneur_hukou_channel",
            "county",
            {"county": "曹县", "rural_entrepreneur_hukou_channel_open": False},
            "基本打通",
        ),
        (
            "m23.city_leading_group_meeting",
            "city",
            {"urbanization_leading_group_meeting_held": False},
            "适时",
        ),
        (
            "m25.finance_social_capital_leverage",
            "department",
            {"county": "全市", "functional_category": "财政部门", "social_capital_leverage_used": False},
            "积极",
        ),
    ],
)
def test_a_soft_duty_not_met_is_flagged_for_review(m27_policy, check, kind, values, word):
    f = _finding(m27_policy, check, kind, report_year=2025, **values)
    assert (f.status, f.review) == ("non_compliant", True)
    assert any(word in r for r in f.review_reasons)


def test_cold_chain_network_is_not_judged_as_failed_before_2025(m27_policy):
    check = "m20.city_agri_cold_storage_network"
    assert (
        _status(m27_policy, check, "city", report_year=2024, agri_cold_storage_network_formed=False)
        == "not_applicable"
    )
    assert (
        _status(m27_policy, check, "city", report_year=2024, agri_cold_storage_network_formed=True)
        == "on_track"
    )
    assert (
        _status(m27_policy, check, "city", report_year=2025, agri_cold_storage_network_formed=False)
        == "non_compliant"
    )
    mid_year = _finding(
        m27_policy,
        check,
        "city",
        as_of=dt.date(2025, 7, 1),
        report_year=2025,
        agri_cold_storage_network_formed=False,
    )
    assert mid_year.status == "behind_schedule"
