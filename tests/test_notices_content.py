"""Progress notices lead with what needs action; charts read in grey and split; punctuation is Chinese."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.render import charts
from engine.render.documents import render_notice
from engine.render.punctuation import fullwidth
from tests.test_letters_support import sample_notice


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ('滚动推进"千企技改、千企转型",每年实施', "滚动推进“千企技改、千企转型”，每年实施"),
        ("标准:不低于500万元;现为480万元", "标准：不低于500万元；现为480万元"),
        ("(按进度应达5.6万人)", "（按进度应达5.6万人）"),
        ("项目编号HZ-2024-004,已收悉!", "项目编号HZ-2024-004，已收悉！"),
        ("是否达标?", "是否达标？"),
        ("alert(1)", "alert(1)"),
        ("1,000万元", "1,000万元"),
        ("12:30开会", "12:30开会"),
        ("http://x.cn/a,b", "http://x.cn/a,b"),
        ("A & B | *公司*", "A & B | *公司*"),
    ],
)
def test_display_text_gets_full_width_punctuation_only_beside_chinese(raw: str, shown: str) -> None:
    assert fullwidth(raw) == shown


@pytest.fixture(scope="module")
def county():  # type: ignore[no-untyped-def]
    return sample_notice("county", "曹县")


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return sample_notice("city", "菏泽市")


def test_notice_actions_are_the_adverse_targets_with_gap_and_lead_department(city) -> None:  # type: ignore[no-untyped-def]
    # One line per check, the latest year's: on the samples the city's 2025 reports judge every
    # target finally, so its actions are what is not met (a 2024 "behind schedule" is superseded).
    assert city.actions and {i.status for i in city.actions} <= {"non_compliant", "behind_schedule"}
    assert all(i.year == "2025" for i in city.actions)
    assert all(i.lead_departments and i.gap not in ("", "已达到") for i in city.actions)
    assert [i.measure for i in city.actions] == sorted(i.measure for i in city.actions)  # plan order
    assert {i.status for i in city.met} <= {"compliant", "on_track"}
    n_items = sum(len(s.items) for s in city.sections)
    assert len(city.actions) + len(city.met) + len(city.missing_items) == n_items


def test_notice_appendix_asks_each_lead_department_for_the_missing_figures(county) -> None:  # type: ignore[no-untyped-def]
    assert county.requests
    asked = {f for r in county.requests for f in r.fields}
    missing = {m for i in county.missing_items for m in i.missing.split("、")}
    assert asked == missing  # every missing figure is asked for, by its Chinese label
    assert all(r.departments and r.clauses.startswith("第") for r in county.requests)
    md = render_notice(county, "md").decode()
    assert md.index("需要加快推进的目标") < md.index("已达标或进度正常的目标") < md.index("资料报送清单")


def test_chart_is_split_into_parts_that_fit_a_page_and_labels_wrap_without_cutting(city) -> None:  # type: ignore[no-untyped-def]
    parts = city.chart_pages
    assert len(parts) >= 2 and all(len(p) <= charts.ROWS_PER_PART for p in parts)
    assert len(parts[-1]) >= 6  # no lonely last bars
    assert sum(len(p) for p in parts) == sum(1 for i in city.actions + city.met if i.percent is not None)
    long = "菏泽市2025年 " + "全市累计建成开通5G基站1.3万个以上并实现重点场所全覆盖" * 2
    lines = charts.wrap(long)
    assert (
        len(lines) == 2 and lines[-1].endswith("…") and "".join(lines)[:-1] == long[: len("".join(lines)) - 1]
    )
    assert charts.wrap("曹县2025年 县区双高速") == ["曹县2025年 县区双高速"]


def test_chart_reads_in_grey_by_pattern_and_words_not_colour_alone() -> None:
    items = [
        charts.ChartItem(label="未达标的目标", percent=Decimal("88.0"), status="non_compliant"),
        charts.ChartItem(label="达标的目标", percent=Decimal("110.5"), status="compliant"),
    ]
    svg = charts.svg(items)
    assert 'fill="url(#hatch)"' in svg and "<pattern" in svg  # short bars hatched, met bars solid
    assert "未达标 88.0%" in svg and "达标 110.5%" in svg  # the status in words beside each bar
    png = charts.png(items)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_notice_markdown_is_deterministic_and_dated(county) -> None:  # type: ignore[no-untyped-def]
    assert render_notice(county, "md") == render_notice(county, "md")
    assert county.issued_on == dt.date(2026, 3, 5)
