"""Units on every numeric field (issue 12 point 7): counts take units as amounts do, in the cell or in
the header; the result of a count is a whole number of the field's unit, converted exactly or refused
with the field named; 人 is never 人次; each conversion is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.policy.policy import load_policy
from engine.records.model import Normaliser, RawRecord, SourceRef

CATALOG = load_policy().catalog
HOUSEHOLDS = "old_community_renovation_started"  # 户
STATIONS = "base_stations_5g"  # 个
TRAINED = "migrant_worker_training"  # 人次


def city(**cells: object):  # type: ignore[no-untyped-def]
    raw = RawRecord(source=SourceRef(file="c.csv", row=2), data={"编号": "C1", **cells}, default_kind="city")
    fast = Normaliser(CATALOG).normalise(raw)
    general = Normaliser(CATALOG).normalise_general(raw)
    assert (fast[0] and fast[0].model_dump()) == (general[0] and general[0].model_dump())
    assert [e.model_dump() for e in fast[1]] == [e.model_dump() for e in general[1]]
    return fast


@pytest.mark.parametrize(
    ("header", "cell", "field", "want"),
    [
        ("开工改造老旧小区户数", "7,600户", HOUSEHOLDS, 7600),
        ("开工改造老旧小区户数", "2.0万户", HOUSEHOLDS, 20000),
        ("开工改造老旧小区户数(万户)", "2.0", HOUSEHOLDS, 20000),  # the header's scale is never dropped
        ("开工改造老旧小区户数（万户）", "２", HOUSEHOLDS, 20000),
        ("开工改造老旧小区户数(万户)", "3000户", HOUSEHOLDS, 3000),  # the cell's own unit wins
        ("5G基站数", "1.3万个", STATIONS, 13000),
        ("5G基站数(个)", "12", STATIONS, 12),
        ("农民工培训人次", "2.0万人次", TRAINED, 20000),
        ("农民工培训人次(万人次)", "0.25", TRAINED, 2500),
    ],
)
def test_counts_take_units_in_the_cell_or_the_header_and_stay_integers(
    header: str, cell: str, field: str, want: int
) -> None:
    rec, errors, _ = city(**{header: cell})
    assert not errors, errors
    assert rec.values[field] == want and type(rec.values[field]) is int
    if want != Decimal(cell.replace(",", "").rstrip("户个人次万").replace("２", "2")):
        conv = [c for c in rec.conversions if c.field == field]
        assert (
            len(conv) == 1
            and conv[0].value == want
            and conv[0].to_unit == CATALOG.kind("city").fields[field].unit
        )


@pytest.mark.parametrize(
    ("header", "cell", "field", "fragment"),
    [
        ("开工改造老旧小区户数", "1.23456万户", HOUSEHOLDS, "不是整数 not a whole number of 户"),
        ("开工改造老旧小区户数(万户)", "0.00001", HOUSEHOLDS, "not a whole number of 户"),
        ("开工改造老旧小区户数", "12.5", HOUSEHOLDS, "not a whole number"),
        ("农民工培训人次", "5000人", TRAINED, "cannot convert 人 to 人次"),
        ("农民工培训人次(人)", "5000", TRAINED, "cannot convert 人 to 人次"),
        ("农民工培训人次(万人)", "0.5", TRAINED, "cannot convert 万人 to 人次"),
        ("5G基站数", "3亩", STATIONS, "cannot convert 亩 to 个"),
        ("5G基站数", "3%", STATIONS, "percentage"),
    ],
)
def test_a_count_that_is_not_a_whole_number_of_its_unit_or_in_another_unit_is_refused(
    header: str, cell: str, field: str, fragment: str
) -> None:
    rec, errors, _ = city(**{header: cell})
    assert len(errors) == 1 and fragment in errors[0].message and errors[0].field.endswith(f"/{field}")
    assert rec is not None and field not in rec.values and fragment in rec.invalid[field]
    assert not [c for c in rec.conversions if c.field == field]  # nothing recorded for a refused value


@given(st.integers(0, 10**8))
def test_any_whole_count_written_in_wan_converts_exactly(n: int) -> None:
    wan = Decimal(n) / 10_000
    rec, errors, _ = city(**{"开工改造老旧小区户数": f"{wan}万户"})
    assert not errors and rec.values[HOUSEHOLDS] == n
    rec, errors, _ = city(**{"开工改造老旧小区户数(万户)": str(wan)})
    assert not errors and rec.values[HOUSEHOLDS] == n


@given(st.integers(0, 10**6), st.integers(1, 9))
def test_a_fraction_of_the_unit_is_never_rounded_away(n: int, tenth: int) -> None:
    rec, errors, _ = city(**{"开工改造老旧小区户数": f"{n}.{tenth}户"})
    assert errors and HOUSEHOLDS not in rec.values


def test_a_year_field_still_reads_2024_nian() -> None:
    rec, errors, _ = city(报告年度="2024年度")
    assert not errors and rec.values["report_year"] == 2024
