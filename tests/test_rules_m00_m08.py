"""The general requirement and measures 1, 3–8: examples, samples and the relative urbanization target.

The checks are loaded from the real rule files, copied beside the real pack.yaml into a scratch pack,
so these tests judge exactly what ships without depending on other measures' files.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluation.evaluate import Evaluator
from engine.policy.policy import Policy
from engine.records.intake import load_records
from tests.conftest import assert_examples_reach_their_statuses, make_record, policy_of_measures

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "m00-08-reports.yaml"


@pytest.fixture(scope="module")
def m08_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    return policy_of_measures(tmp_path_factory.mktemp("heze-m00-m08"), [0, 1, 3, 4, 5, 6, 7, 8])


def _checks(policy: Policy) -> dict[str, object]:
    return {c.check.id: c for c in policy.checks()}


def test_every_measure_0_to_8_except_2_has_a_file_with_checks(m08_policy):
    measures = sorted(ms.measure.measure for cp in m08_policy.packs for ms in cp.pack.measures)
    assert measures == [0, 1, 3, 4, 5, 6, 7, 8]
    general = next(ms.measure for cp in m08_policy.packs for ms in cp.pack.measures if ms.measure.measure == 0)
    assert general.section == "一、总体要求"


def test_examples_pass_and_reach_every_status_the_check_can_reach(m08_policy):
    assert_examples_reach_their_statuses(m08_policy, {"compliant", "non_compliant"})


def test_samples_judge_every_check_and_show_both_verdicts(m08_policy):
    intake = load_records([SAMPLE], m08_policy.catalog)
    assert intake.errors == [] and intake.file_problems == []
    assert all(r.id.startswith("M00-08-") for r in intake.records)
    findings = Evaluator(m08_policy).evaluate(intake.records).findings
    judged = {f.check for f in findings if f.status != "not_applicable"}
    assert judged == {cc.full_id for cc in m08_policy.checks()}
    statuses = {f.status for f in findings}
    assert {"compliant", "non_compliant", "on_track", "behind_schedule"} <= statuses


def test_durable_and_plain_python_agree_on_the_samples(m08_policy):
    records = load_records([SAMPLE], m08_policy.catalog).records
    durable = Evaluator(m08_policy).evaluate(records).findings
    python = Evaluator(m08_policy, engine="python").evaluate(records).findings
    assert [(f.record_id, f.check, f.status) for f in durable] == \
        [(f.record_id, f.check, f.status) for f in python]


def _growth_record(policy: Policy, year: int, city: str, city_base: str, prov: str, prov_base: str):
    return make_record(policy, "city", "C", report_year=year, baseline_year=2023,
                       resident_urbanization_rate=city, resident_urbanization_rate_baseline=city_base,
                       province_resident_urbanization_rate=prov, province_resident_urbanization_rate_baseline=prov_base)


def _status(policy: Policy, record, check_id: str) -> str:
    found = [f for f in Evaluator(policy).evaluate([record]).findings if f.check.endswith(":" + check_id)]
    assert len(found) == 1
    return found[0].status


def test_urbanization_growth_exactly_half_a_point_above_the_province_is_compliant(m08_policy):
    # (58.4 - 55.6) / 2 = 1.4 = (67.3 - 65.5) / 2 + 0.5, on the line in exact decimal
    on_line = _growth_record(m08_policy, 2025, "58.4", "55.6", "67.3", "65.5")
    assert _status(m08_policy, on_line, "m7.urbanization_growth_above_province") == "compliant"
    just_below = _growth_record(m08_policy, 2025, "58.38", "55.6", "67.3", "65.5")
    assert _status(m08_policy, just_below, "m7.urbanization_growth_above_province") == "non_compliant"


@settings(max_examples=40, deadline=None)
@given(year=st.sampled_from([2024, 2025]),
       city_gain=st.integers(min_value=0, max_value=300), prov_gain=st.integers(min_value=0, max_value=300))
def test_urbanization_growth_verdict_follows_the_formula(m08_policy, year, city_gain, prov_gain):
    city_base, prov_base = Decimal("55.62"), Decimal("65.53")
    city = city_base + Decimal(city_gain) / 100
    prov = prov_base + Decimal(prov_gain) / 100
    years = year - 2023
    meets = (city - city_base) / years >= (prov - prov_base) / years + Decimal("0.5")
    rec = _growth_record(m08_policy, year, str(city), str(city_base), str(prov), str(prov_base))
    expected = {(2025, True): "compliant", (2025, False): "non_compliant",
                (2024, True): "on_track", (2024, False): "behind_schedule"}[(year, meets)]
    assert _status(m08_policy, rec, "m7.urbanization_growth_above_province") == expected


def test_about_target_missed_reports_about_and_the_gap(m08_policy):
    rec = make_record(m08_policy, "city", "C", report_year=2025, tourism_value_added_gdp_share="4.4")
    f = next(f for f in Evaluator(m08_policy).evaluate([rec]).findings
             if f.check.endswith("m3.tourism_value_added_share_4_5"))
    assert f.status == "non_compliant" and f.approx
    assert "4.5%左右" in f.message and "相差0.1" in f.message


def test_construction_group_output_given_in_yi_yuan_is_converted_before_judging(m08_policy):
    rec = make_record(m08_policy, "enterprise", "E", report_year=2024, counted_as_10bn_construction_group=True,
                      **{"建筑业总产值(亿元)": "10"})
    assert rec.values["construction_output_value"] == Decimal("100000")
    assert _status(m08_policy, rec, "m4.construction_group_output_10bn") == "compliant"


def test_one_county_one_policy_binds_only_counties_below_the_city_rate(m08_policy):
    low = make_record(m08_policy, "county", "K1", county="鄄城县", report_year=2024, resident_urbanization_rate="47.1",
                      citywide_resident_urbanization_rate="56.71", one_county_one_policy_plan=False)
    equal = make_record(m08_policy, "county", "K2", county="定陶区", report_year=2024,
                        resident_urbanization_rate="56.71", citywide_resident_urbanization_rate="56.71",
                        one_county_one_policy_plan=False)
    assert _status(m08_policy, low, "m8.low_urbanization_county_plan") == "non_compliant"
    assert _status(m08_policy, equal, "m8.low_urbanization_county_plan") == "not_applicable"
