"""Project compliance letters: content, conclusion rule, escaping, determinism, golden Markdown."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.render import numbers_zh as zh
from engine.render.documents import render_letter
from engine.render.files import output_path, safe_stem
from engine.render.letters import conclusion_of
from engine.render.templates import md_escape
from tests.test_letters_support import GOLDEN, evaluated, letter_for

TECH_SOURCE = '滚动推进"千企技改、千企转型",每年实施投资500万元以上技改项目300个左右'
TECH_SOURCE_SHOWN = "滚动推进“千企技改、千企转型”，每年实施投资500万元以上技改项目300个左右"


def test_sample_projects_have_the_statuses_the_letters_rely_on() -> None:
    _, findings = evaluated()
    adverse = [f for f in findings["P-FAIL"] if f.status == "non_compliant"]
    assert [f.check for f in adverse] == ["heze-2024:m2.tech_upgrade_project_5m"]
    assert {f.status for f in findings["P-OK"]} == {"compliant", "not_applicable"}
    assert "insufficient_data" in {f.status for f in findings["P-MISSING"]}


@pytest.mark.parametrize(
    ("record_id", "conclusion"), [("P-FAIL", "不符合"), ("P-OK", "符合"), ("P-MISSING", "基本符合")]
)
def test_overall_conclusion_follows_the_documented_rule(record_id: str, conclusion: str) -> None:
    m = letter_for(record_id)
    assert m.conclusion == conclusion
    assert f"审查结论为:{conclusion}" in m.conclusion_text


def test_conclusion_rule_any_adverse_wins_over_missing_data() -> None:
    _, findings = evaluated()
    mixed = findings["P-FAIL"] + findings["P-MISSING"]
    assert conclusion_of(mixed) == "不符合"
    assert conclusion_of([f for f in findings["P-MISSING"] if f.status != "not_applicable"]) == "基本符合"
    assert conclusion_of([]) == "符合"


def test_non_compliant_letter_lists_clause_standard_value_source_and_department() -> None:
    m = letter_for("P-FAIL")
    md = render_letter(m, "md").decode()
    for text in (
        "菏城审〔2026〕1号",
        "菏政发〔2024〕11号",
        "第2条“加快重大产业项目建设”",
        "不低于500万元",
        "480万元",
        "相差20万元",
        "市发展改革委、市工业和信息化局",
        "巨野县华新材料股份有限公司：",
        "35亩",
        "技改项目",
        "麒麟镇",
    ):
        assert text in md, text
    assert TECH_SOURCE_SHOWN in md  # shown with full-width punctuation ...
    assert len(m.issues) == 1 and m.issues[0].source_text == TECH_SOURCE  # ... the stored text unchanged
    # checks that do not apply are left out of the letter
    assert all("制造业领域重点项目" not in r.check_title for r in m.rows)
    assert any("制造业领域重点项目" in t for t in m.not_applicable)
    assert "制造业领域重点项目" not in md and "不适用" not in md


def test_missing_data_letter_asks_for_the_missing_field_by_its_chinese_label() -> None:
    m = letter_for("P-MISSING")
    reqs = " ".join(i.requirement for i in m.issues)
    assert "请补充用地面积" in reqs and "land_area" not in reqs
    assert all(i.status == "insufficient_data" for i in m.issues)


def test_html_is_autoescaped_and_template_syntax_in_data_is_printed_not_run() -> None:
    m = letter_for("../../x")
    html = render_letter(m, "html").decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in html
    assert "A &amp; B | *公司*" in html
    md = render_letter(m, "md").decode()
    assert "\\<script\\>alert(1)\\</script\\>\\{\\{ 7\\*7 \\}\\}" in md
    assert "<script>" not in md and "{{ 7" not in md.replace("\\{\\{ 7", "")


def test_docx_keeps_hostile_text_as_plain_text() -> None:
    import io

    import docx

    data = render_letter(letter_for("../../x"), "docx")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    assert "“<script>alert(1)</script>{{ 7*7 }}”" in text
    assert "49" not in text


def test_same_evaluation_renders_byte_identical_html_and_markdown() -> None:
    for fmt in ("html", "md"):
        assert render_letter(letter_for("P-FAIL"), fmt) == render_letter(letter_for("P-FAIL"), fmt)


@pytest.mark.parametrize(
    ("record_id", "golden"), [("P-OK", "letter-compliant.md"), ("P-FAIL", "letter-non-compliant.md")]
)
def test_markdown_letter_matches_golden_file(record_id: str, golden: str) -> None:
    got = render_letter(letter_for(record_id), "md").decode()
    path = GOLDEN / golden
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "record_id", ["../../x", "项目/一期", "..", "/etc/passwd", "a\\..\\..\\b", "", "．．／x"]
)
def test_file_names_never_leave_the_output_folder(tmp_path: Path, record_id: str) -> None:
    p = output_path(tmp_path, safe_stem("菏城审〔2026〕1号", record_id), "html")
    assert p.parent == tmp_path.resolve()
    assert p.name.startswith("菏城审〔2026〕1号")
    assert "/" not in p.name and ".." not in p.name


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_number_and_id_make_a_file_inside_the_folder(number: str, record_id: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = output_path(d, safe_stem(number, record_id), "md")
        assert p.parent == Path(d).resolve()
        assert not p.name.startswith(".")


def test_project_names_with_slashes_keep_their_id_readable() -> None:
    assert safe_stem("菏城审〔2026〕2号", "项目/一期") == "菏城审〔2026〕2号_项目_一期"
    assert safe_stem("菏城审〔2026〕3号", "../../x") == "菏城审〔2026〕3号_x"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (Decimal("30000"), "万元", "3亿元"),
        (Decimal("26000"), "万元", "2.6亿元"),
        (Decimal("19999"), "万元", "19999万元"),
        (Decimal("480"), "万元", "480万元"),
        (Decimal("150"), "亩", "150亩"),
        (Decimal("27100"), "人", "2.71万人"),
        (Decimal("13.714286"), "万元/亩", "13.71万元/亩"),
        (None, "亩", "—"),
    ],
)
def test_quantities_follow_chinese_conventions(value: Decimal | None, unit: str, text: str) -> None:
    assert zh.quantity(value, unit) == text


def test_percent_gaps_are_percentage_points_and_rounding_never_hides_a_failure() -> None:
    assert zh.gap(Decimal("-1.5"), "%") == "1.5个百分点"
    assert zh.quantity(Decimal("199.996"), "万元/亩", exact_against=Decimal(200)) == "199.996万元/亩"
    assert zh.quantity(Decimal("199.996"), "万元/亩") == "200万元/亩"


def test_markdown_escape_neutralises_markup_and_table_pipes() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("[x](javascript:1)") == "\\[x\\](javascript:1)"
    assert md_escape("- item") == "\\- item"
    assert md_escape("95.3%") == "95.3%"
    assert re.fullmatch(r"[^\n]*", md_escape("line\nbreak"))
