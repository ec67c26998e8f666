"""Measures 10-18: examples, samples, the relative outpatient target and the 14th-FYP cumulative target.

The checks are loaded from the real rule files, copied beside the real pack.yaml into a scratch pack,
so these tests judge exactly what ships without depending on other measures' files.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluation.evaluate import Evaluator, History
from engine.policy.policy import Policy
from engine.records.intake import load_records
from tests.conftest import assert_examples_reach_their_statuses, make_record, policy_of_measures

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [ROOT / "samples" / "m10-18-reports.yaml", ROOT / "samples" / "m10-18-projects.yaml"]
INDEX = ROOT / "docs" / "index" / "m10-18.md"
CUM = "m18.old_community_renovation_cumulative"
OUTPATIENT = "m16.outpatient_reimbursement_increase"


@pytest.fixture(scope="module")
def m18_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_of_measures(tmp_path_factory.mktemp("heze-m10-m18"), list(range(10, 19)))


def _status(policy: Policy, records, check_id: str, history: History | None = None) -> list[str]:
    result = Evaluator(policy).evaluate(records, history=history)
    return [f.status for f in result.findings if f.check.endswith(":" + check_id)]


def test_every_measure_10_to_18_has_a_file_with_a_check(m18_policy):
    per_measure: dict[int, int] = {}
    for cp in m18_policy.packs:
        for ms in cp.pack.measures:
            per_measure[ms.measure.measure] = len(ms.measure.checks)
    assert sorted(per_measure) == list(range(10, 19))
    assert all(n >= 1 for n in per_measure.values())


def test_examples_pass_and_reach_every_status_the_check_can_reach(m18_policy):
    assert_examples_reach_their_statuses(m18_policy, {"compliant", "non_compliant", "insufficient_data"})


def test_samples_are_valid_and_touch_every_check_with_a_real_verdict(m18_policy):
    intake = load_records(SAMPLES, m18_policy.catalog)
    assert intake.errors == [] and intake.file_problems == []
    ids = [r.id for r in intake.records]
    assert all(i.startswith("M10-18-") for i in ids)
    result = Evaluator(m18_policy).evaluate(intake.records)
    touched = {f.check for f in result.findings if f.status != "not_applicable"}
    assert touched == {cc.full_id for cc in m18_policy.checks()}
    assert {f.status for f in result.findings} == {"compliant", "non_compliant", "not_applicable",
                                                    "insufficient_data", "on_track", "behind_schedule"}


def test_index_names_every_check_of_measures_10_to_18(m18_policy):
    listed = set(re.findall(r"`(m1[0-8]\.[a-z0-9_]+)`", INDEX.read_text(encoding="utf-8")))
    assert listed == {cc.check.id for cc in m18_policy.checks()}


def test_yearly_records_of_one_city_sum_over_the_14th_five_year_plan(m18_policy):
    intake = load_records([SAMPLES[0]], m18_policy.catalog)
    city = [r for r in intake.records if r.id == "M10-18-CITY-HZ"]
    assert sorted(r.values["report_year"] for r in city) == [2021, 2022, 2023, 2024, 2025]
    result = Evaluator(m18_policy).evaluate(intake.records)
    by_year = {f.value: f.status for f in result.findings if f.check.endswith(CUM)}
    # 2021-2024: 26350+23810+21460+19870 = 91490 >= 88000 on the straight line from 0 (2020) to 110000
    # 2021-2025: 91490+16200 = 107690 < 110000
    assert by_year == {Decimal(91490): "on_track", Decimal(107690): "non_compliant"}
    # Records before the pack's period are not judged themselves.
    judged = {f.record_id for f in result.findings}
    assert {n.record_id for n in result.notices} == {"M10-18-CITY-HZ"} and len(result.notices) == 3
    assert "M10-18-CITY-HZ" in judged


def test_a_missing_year_makes_the_cumulative_target_insufficient_and_names_it(m18_policy):
    intake = load_records([SAMPLES[0]], m18_policy.catalog)
    records = [r for r in intake.records if not (r.id == "M10-18-CITY-HZ" and r.values["report_year"] == 2022)]
    result = Evaluator(m18_policy).evaluate(records)
    cum = [f for f in result.findings if f.check.endswith(CUM)]
    assert {f.status for f in cum} == {"insufficient_data"}
    assert all(any("2022年" in m for m in f.missing_fields) for f in cum)


def test_the_same_subject_and_year_twice_is_rejected_but_other_years_are_not(m18_policy, tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text(
        "records:\n"
        "  - {id: C1, kind: city, report_year: 2024, 当年开工改造老旧小区户数: 100}\n"
        "  - {id: C1, kind: city, report_year: 2025, 当年开工改造老旧小区户数: 200}\n"
        "  - {id: C1, kind: city, report_year: 2025, 当年开工改造老旧小区户数: 300}\n"
        "  - {id: P1, kind: project, submitted_on: 2024-06-01}\n"
        "  - {id: P1, kind: project, submitted_on: 2024-07-01}\n", encoding="utf-8")
    intake = load_records([f], m18_policy.catalog)
    assert [(r.id, r.values.get("report_year")) for r in intake.records] == [("C1", 2024), ("C1", 2025), ("P1", None)]
    assert [(e.record_id, e.field) for e in intake.errors] == [("C1", "id"), ("P1", "id")]
    assert "year 2025" in intake.errors[0].message


@settings(max_examples=60, deadline=None)
@given(cap_2020=st.integers(min_value=50, max_value=2000), delta=st.integers(min_value=-30, max_value=30))
def test_outpatient_cap_is_judged_against_one_and_a_half_times_2020_exactly(m18_policy, cap_2020, delta):
    # 提高50%左右: met at 1.5 x the 2020 amount itself (inclusive), judged in exact decimal.
    target = Decimal(cap_2020) * Decimal("1.5")
    cap = target + Decimal(delta) / 10
    rec = make_record(m18_policy, "city", "C", report_year=2025, outpatient_reimbursement_cap=cap,
                      outpatient_reimbursement_cap_2020=cap_2020)
    assert _status(m18_policy, [rec], OUTPATIENT) == ["compliant" if cap >= target else "non_compliant"]


def test_outpatient_cap_before_2025_follows_the_line_from_2020(m18_policy):
    # 2020: 200, 2025 target 300 -> the 2024 point of the line is 280.
    on = make_record(m18_policy, "city", "A", report_year=2024, outpatient_reimbursement_cap=280,
                     outpatient_reimbursement_cap_2020=200)
    behind = make_record(m18_policy, "city", "B", report_year=2024, outpatient_reimbursement_cap="279.99",
                         outpatient_reimbursement_cap_2020=200)
    assert _status(m18_policy, [on, behind], OUTPATIENT) == ["on_track", "behind_schedule"]


def test_elimination_targets_pass_only_at_zero(m18_policy):
    recs = [make_record(m18_policy, "county", f"K{i}", report_year=2025, combined_sewer_remaining_km=v)
            for i, v in enumerate(["0", "0.01"])]
    assert _status(m18_policy, recs, "m12.county_combined_sewer_cleared") == ["compliant", "non_compliant"]
    city = [make_record(m18_policy, "city", f"C{i}", report_year=2025, black_odorous_water_bodies_remaining=v)
            for i, v in enumerate([0, 1])]
    assert _status(m18_policy, city, "m10.black_odorous_water_bodies_eliminated") == ["compliant", "non_compliant"]


def test_project_duties_bind_only_the_projects_they_name(m18_policy):
    road = make_record(m18_policy, "project", "R", submitted_on="2024-09-01", construction_works=True,
                       work_injury_insurance_by_project=False, urban_new_civil_building=False)
    software = make_record(m18_policy, "project", "S", submitted_on="2024-09-01", construction_works=False)
    unknown = make_record(m18_policy, "project", "U", submitted_on="2024-09-01", work_injury_insurance_by_project=True)
    assert _status(m18_policy, [road, software, unknown], "m17.project_work_injury_insurance") == [
        "non_compliant", "not_applicable", "insufficient_data"]
    assert _status(m18_policy, [road], "m10.project_new_civil_building_green") == ["not_applicable"]
