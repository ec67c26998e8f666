"""Values on, just below and just above thresholds are judged as written in decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.evaluation.evaluate import Evaluator
from engine.records.model import Normaliser, RawRecord, SourceRef
from tests.conftest import project

INVEST = "heze-2024:m9.char_town_invest_per_mu"
TAX = "heze-2024:m9.char_town_tax_per_mu"


def status_of(policy, record, check, engine="durable"):
    found = [f for f in Evaluator(policy, engine).evaluate([record]).findings if f.check == check]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("engine", ["durable", "python"])
@pytest.mark.parametrize(
    ("investment", "land", "expected"),
    [
        ("20000", "100", "compliant"),  # exactly 200万元/亩
        ("19999", "100", "non_compliant"),  # 199.99
        ("20000.0001", "100", "compliant"),
        ("19999.9999", "100", "non_compliant"),  # 199.999999: differs in the 6th decimal place
        ("60000", "300", "compliant"),
        ("20000", "100.0000001", "compliant"),  # 199.9999998 rounds to 200.000000 at judging precision
    ],
)
def test_investment_per_mu_is_judged_exactly_at_the_threshold(policy, engine, investment, land, expected):
    rec = project(policy, in_provincial_characteristic_town=True, total_investment=investment, land_area=land)
    assert status_of(policy, rec, INVEST, engine).status == expected


def test_exactly_200_per_mu_is_compliant_and_199_99_is_not(policy):
    ok = project(policy, "A", in_provincial_characteristic_town=True, total_investment=20000, land_area=100)
    bad = project(policy, "B", in_provincial_characteristic_town=True, total_investment=19999, land_area=100)
    findings = {(f.record_id, f.check): f for f in Evaluator(policy).evaluate([ok, bad]).findings}
    assert findings[("A", INVEST)].status == "compliant"
    assert findings[("A", INVEST)].value == Decimal(200)
    assert findings[("B", INVEST)].status == "non_compliant"
    assert findings[("B", INVEST)].value == Decimal("199.99")
    assert "199.99" in findings[("B", INVEST)].message and "200" in findings[("B", INVEST)].message


def test_output_on_80_percent_of_base_is_exactly_on_the_line(logic_policy):
    # 0.8 * 26438.95 is 21151.160000000003 in binary floats; in decimal it is 21151.16.
    on = project(logic_policy, "on", output_value="21151.16", base_output="26438.95")
    below = project(logic_policy, "below", output_value="21151.159999", base_output="26438.95")
    findings = {
        f.record_id: f
        for f in Evaluator(logic_policy).evaluate([on, below]).findings
        if f.check == "test-logic:t.relative_80pct"
    }
    assert findings["on"].status == "compliant"
    assert findings["on"].threshold == Decimal("21151.16")
    assert findings["below"].status == "non_compliant"


def test_land_in_square_metres_is_converted_to_mu(policy):
    raw = RawRecord(
        source=SourceRef(file="x.csv", row=2),
        data={
            "项目编号": "M2",
            "类型": "项目",
            "申报日期": "2024-09-01",
            "是否位于省级特色小镇": "是",
            "总投资(万元)": "6000",
            "用地面积(平方米)": "20000",
        },
    )
    rec, errors, _ = Normaliser(policy.catalog).normalise(raw)
    assert rec is not None, errors
    assert rec.values["land_area"] == Decimal(30)  # 20000 m² = 30 亩 (1 亩 = 10000/15 m²)
    assert rec.conversions[0].from_unit == "平方米" and rec.conversions[0].to_unit == "亩"
    assert status_of(policy, rec, INVEST).status == "compliant"  # 6000 / 30 = 200


def test_one_mu_is_ten_thousand_fifteenths_of_a_square_metre(policy):
    raw = RawRecord(
        source=SourceRef(file="x.csv", row=2), data={"id": "M3", "kind": "project", "用地面积(m²)": "666.67"}
    )
    rec, _, _ = Normaliser(policy.catalog).normalise(raw)
    assert rec is not None
    assert rec.values["land_area"] == Decimal("666.67") * 15 / 10000


def test_project_outside_a_characteristic_town_is_not_applicable_for_per_mu_checks(policy):
    rec = project(
        policy, in_provincial_characteristic_town=False, total_investment=1, land_area=100, annual_tax=0
    )
    assert status_of(policy, rec, INVEST).status == "not_applicable"
    assert status_of(policy, rec, TAX).status == "not_applicable"


def test_project_without_land_area_is_insufficient_data_never_a_pass(policy):
    rec = project(policy, in_provincial_characteristic_town=True, total_investment=50000, annual_tax=5000)
    f = status_of(policy, rec, INVEST)
    assert f.status == "insufficient_data"
    assert "用地面积" in f.message
    assert any("land_area" in m for m in f.missing_fields)


def test_unknown_town_membership_is_insufficient_data(policy):
    rec = project(policy, total_investment=20000, land_area=100)
    assert status_of(policy, rec, INVEST).status == "insufficient_data"
