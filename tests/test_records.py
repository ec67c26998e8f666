"""Records: units converted exactly and recorded, bad values rejected by name, missing stays missing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.records import units
from engine.records.intake import load_records
from engine.records.model import Normaliser, RawRecord, SourceRef


def normalise(policy, **data):
    raw = RawRecord(source=SourceRef(file="f.csv", row=7), data=data)
    return Normaliser(policy.catalog).normalise(raw)


@pytest.mark.parametrize(
    ("header", "cell", "expected"),
    [
        ("总投资(元)", "200000000", Decimal(20000)),
        ("总投资(亿元)", "1.2", Decimal(12000)),
        ("总投资", "1.2亿元", Decimal(12000)),
        ("总投资（万元）", "１２３４", Decimal(1234)),
        ("总投资", "1,234.5", Decimal("1234.5")),
    ],
)
def test_money_is_converted_to_wan_yuan(policy, header, cell, expected):
    rec, errors, _ = normalise(policy, 项目编号="P", 类型="项目", **{header: cell})
    assert not errors
    assert rec.values["total_investment"] == expected


@pytest.mark.parametrize(
    ("header", "cell", "expected"),
    [
        ("用地面积(公顷)", "2", Decimal(30)),
        ("用地面积(平方米)", "20000", Decimal(30)),
        ("用地面积(亩)", "30", Decimal(30)),
    ],
)
def test_land_is_converted_to_mu(policy, header, cell, expected):
    rec, errors, _ = normalise(policy, 项目编号="P", 类型="项目", **{header: cell})
    assert not errors
    assert rec.values["land_area"] == expected


@given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False))
def test_conversion_round_trips_within_a_family(x):
    for a, b in [("元", "万元"), ("亿元", "万元"), ("亩", "平方米"), ("公顷", "亩"), ("万千瓦", "千瓦")]:
        back = units.convert(units.convert(x, a, b), b, a)
        assert abs(back - x) <= Decimal("1e-20") * max(1, x)


def test_units_of_different_families_do_not_convert():
    with pytest.raises(units.UnitError):
        units.convert(Decimal(1), "亩", "万元")


@pytest.mark.parametrize(
    ("field", "cell", "fragment"),
    [
        ("用地面积", "0", "must be greater than 0"),
        ("用地面积", "-3", "must be greater than 0"),
        ("总投资", "-1", "must be at least 0"),
        ("总投资", "五百", "not a number"),
        ("总投资", "NaN", "not a finite number"),
        ("是否位于省级特色小镇", "也许", "expected 是/否"),
        ("项目类别", "火箭", "is not one of"),
        ("申报日期", "2024-13-40", "not a valid date"),
    ],
)
def test_an_invalid_value_loses_its_field_not_the_record(policy, field, cell, fragment):
    other, other_field = ("用地面积", "land_area") if field == "总投资" else ("总投资", "total_investment")
    rec, errors, _ = normalise(policy, 项目编号="P9", 类型="项目", **{other: "10", field: cell})
    text = str(errors[0])
    assert text.startswith("f.csv row 7: record P9: field ")
    assert field in text and fragment in text
    assert len(errors) == 1 and errors[0].row_rejected is False
    fname = policy.catalog.resolve_field("project", field)
    assert rec is not None and fname not in rec.values and fragment in rec.invalid[fname]
    assert rec.invalid[fname].startswith("字段无效:")
    assert rec.values[other_field] == Decimal(10)  # the other field of the row is kept


def test_unknown_kind_is_rejected(policy):
    rec, errors, _ = normalise(policy, 编号="X", 类型="火星基地")
    assert rec is None and "unknown subject kind" in errors[0].message


def test_missing_optional_values_stay_missing(policy):
    rec, errors, _ = normalise(policy, 项目编号="P", 类型="项目", 总投资="", 用地面积="-")
    assert not errors
    assert "total_investment" not in rec.values and "land_area" not in rec.values


def test_unit_conversions_are_recorded(policy):
    rec, _, _ = normalise(policy, 项目编号="P", 类型="项目", **{"总投资(元)": "5000000"})
    assert [(c.field, c.from_unit, c.to_unit, c.value) for c in rec.conversions] == [
        ("total_investment", "元", "万元", Decimal(500))
    ]


def test_duplicate_ids_across_files_are_rejected_after_the_first(policy, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("项目编号,总投资\nP1,10\n", encoding="utf-8")
    b.write_text("项目编号,总投资\nP1,20\nP2,30\n", encoding="utf-8")
    intake = load_records([a, b], policy.catalog, kind="project")
    assert [r.id for r in intake.records] == ["P1", "P2"]
    assert len(intake.errors) == 1 and "duplicate record id 'P1'" in intake.errors[0].message
    assert intake.errors[0].source.file == str(b)
