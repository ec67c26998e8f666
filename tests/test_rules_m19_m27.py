"""Measures 19–27 (城乡融合, 实施保障): examples, samples, and the thresholds a reviewer would probe.

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
from engine.policy.policy import Policy
from engine.records.intake import load_records
from tests.conftest import assert_examples_reach_their_statuses, make_record, policy_of_measures

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "samples" / "m19-27-reports.yaml", ROOT / "samples" / "m19-27-projects.yaml"]
MEASURES = list(range(19, 28))


@pytest.fixture(scope="module")
def m27_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_of_measures(tmp_path_factory.mktemp("heze-m19-m27"), MEASURES)


def _status(policy: Policy, check_id: str, kind: str, **values: object) -> str:
    rec = make_record(policy, kind, "T1", **values)
    found = [f for f in Evaluator(policy).evaluate([rec]).findings if f.check == f"heze-2024:{check_id}"]
    assert len(found) == 1, found
    return found[0].status


def test_measures_19_to_27_each_have_one_file_with_checks_and_their_section(m27_policy):
    measures = {ms.measure.measure: ms.measure for cp in m27_policy.packs for ms in cp.pack.measures}
    assert sorted(measures) == MEASURES
    assert {measures[n].section for n in range(19, 23)} == {"六、实施城乡融合行动"}
    assert {measures[n].section for n in range(23, 28)} == {"七、强化实施保障"}
    assert all(m.checks and m.lead_departments for m in measures.values())


def test_examples_pass_and_reach_every_status_the_check_can_reach(m27_policy):
    assert_examples_reach_their_statuses(m27_policy, {"compliant", "non_compliant"})


def test_samples_are_valid_and_judge_every_check_with_every_status(m27_policy):
    intake = load_records(SAMPLES, m27_policy.catalog)
    assert intake.errors == [] and intake.file_problems == []
    assert all(r.id.startswith("M19-27-") for r in intake.records)
    projects = [r for r in intake.records if r.kind == "project"]
    assert projects and all(dt.date(2024, 5, 6) <= r.values["submitted_on"] <= dt.date(2025, 12, 31)
                            for r in projects)
    assert {r.values["county"] for r in intake.records if r.kind == "county"} == {
        "牡丹区", "定陶区", "曹县", "单县", "成武县", "巨野县", "郓城县", "鄄城县", "东明县"}
    findings = Evaluator(m27_policy).evaluate(intake.records).findings
    judged = {f.check for f in findings if f.status != "not_applicable"}
    assert judged == {cc.full_id for cc in m27_policy.checks()}
    assert {f.status for f in findings} == {"compliant", "non_compliant", "not_applicable", "insufficient_data",
                                            "on_track", "behind_schedule"}


def test_durable_and_plain_python_agree_on_the_samples(m27_policy):
    records = load_records(SAMPLES, m27_policy.catalog).records
    durable = Evaluator(m27_policy).evaluate(records).findings
    python = Evaluator(m27_policy, engine="python").evaluate(records).findings
    assert [(f.record_id, f.check, f.status) for f in durable] == \
        [(f.record_id, f.check, f.status) for f in python]


@settings(max_examples=40, deadline=None)
# Bare numbers in (0, 1] are refused as ambiguous percentages (0.57 or 0.57%?), so shares start above 1.
@given(st.decimals(min_value=Decimal("1.01"), max_value=100, places=2))
@example(Decimal(60))
@example(Decimal("59.99"))
def test_township_elderly_coverage_60_percent_is_inclusive(m27_policy, rate):
    status = _status(m27_policy, "m22.city_township_elderly_center_coverage", "city",
                     report_year=2025, township_elderly_center_coverage=rate)
    assert status == ("compliant" if rate >= Decimal(60) else "non_compliant")


def test_talents_150_approx_is_met_at_150_and_missed_below_with_the_gap(m27_policy):
    assert _status(m27_policy, "m19.city_talents_to_grassroots_yearly", "city",
                   report_year=2024, urban_talents_sent_to_grassroots=150) == "compliant"
    rec = make_record(m27_policy, "city", "T1", report_year=2024, urban_talents_sent_to_grassroots=149)
    f = next(f for f in Evaluator(m27_policy).evaluate([rec]).findings
             if f.check == "heze-2024:m19.city_talents_to_grassroots_yearly")
    assert f.status == "non_compliant" and "相差1名" in f.message and "左右" in f.message


def test_medical_subcenters_message_is_worded_as_an_effort_target(m27_policy):
    rec = make_record(m27_policy, "city", "T1", report_year=2025, county_medical_subcenters=14)
    f = next(f for f in Evaluator(m27_policy).evaluate([rec]).findings
             if f.check == "heze-2024:m22.city_county_medical_subcenters")
    assert f.status == "non_compliant" and f.message.startswith("力争")


@pytest.mark.parametrize(("disposed", "expected"), [(721, "compliant"), (720, "non_compliant"),
                                                    (600, "non_compliant")])
def test_stepping_up_land_disposal_means_more_than_last_year(m27_policy, disposed, expected):
    assert _status(m27_policy, "m24.county_unsupplied_land_disposal_stepped_up", "county", report_year=2024,
                   unsupplied_land_stock=3000, unsupplied_land_disposed=disposed,
                   unsupplied_land_disposed_prev_year=720) == expected


@pytest.mark.parametrize("check", ["m26.key_project_approval_completed", "m26.key_project_eia_approved",
                                   "m26.key_project_construction_permit", "m24.key_project_conforms_to_plan",
                                   "m24.key_project_land_secured"])
def test_key_project_duties_bind_only_projects_in_the_library(m27_policy, check):
    fields = ["project_approval_completed", "eia_approved", "construction_permit_obtained",
              "conforms_to_spatial_plan", "land_use_secured"]
    done = {f: True for f in fields}
    undone = {f: False for f in fields}
    day = dt.date(2024, 10, 8)
    assert _status(m27_policy, check, "project", submitted_on=day, in_key_project_library=True, **done) \
        == "compliant"
    assert _status(m27_policy, check, "project", submitted_on=day, in_key_project_library=True, **undone) \
        == "non_compliant"
    assert _status(m27_policy, check, "project", submitted_on=day, in_key_project_library=False, **undone) \
        == "not_applicable"


def test_department_duties_bind_only_the_departments_they_name(m27_policy):
    stats = {"report_year": 2024, "urbanization_duty_department": True, "functional_category": "统计部门",
             "reward_funds_linked_to_resident_population": False, "population_flow_monitoring_in_place": False}
    assert _status(m27_policy, "m25.finance_reward_funds_linked_to_population", "department", **stats) \
        == "not_applicable"
    assert _status(m27_policy, "m27.population_flow_monitoring", "department", **stats) == "non_compliant"
    assert _status(m27_policy, "m23.dept_timetable", "department", **stats) == "insufficient_data"


def test_cold_chain_network_is_not_judged_as_failed_before_2025(m27_policy):
    assert _status(m27_policy, "m20.city_agri_cold_storage_network", "city", report_year=2024,
                   agri_cold_storage_network_formed=False) == "insufficient_data"
    assert _status(m27_policy, "m20.city_agri_cold_storage_network", "city", report_year=2025,
                   agri_cold_storage_network_formed=False) == "non_compliant"
