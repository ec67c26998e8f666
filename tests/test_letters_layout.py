"""Letters and notices as printed: the PDF (WeasyPrint) read back with pdfplumber and pdfminer.

What GB/T 9704-2012 asks and a reviewer would check on paper: text inside the 156 x 225 mm type area, page
numbers "— n —" on the outer side below it, signature and date right-aligned on one page with body text,
every glyph from an embedded font (no boxes), and the page counts: a letter failing one standard in 3
pages, the county notice in 6, the city notice in 15.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from engine.evaluation.findings import Finding
from engine.render import pdf as pdf_mod
from engine.render.documents import render_letter, render_notice
from engine.render.letters import build_letter
from tests.test_letters_support import (
    LETTER_DATE,
    closing_problems,
    evaluated,
    find_line,
    glyph_problems,
    layout_problems,
    letter_for,
    pdf_lines,
    records_and_policy_titles,
    sample_letter,
    sample_notice,
)

pytestmark = pytest.mark.skipif(not pdf_mod.cjk_fonts(), reason="no CJK font (CI installs fonts-noto-cjk)")
OFFICE = "菏泽市推进新型城镇化工作领导小组办公室"
DATE = "2026年3月5日"


@pytest.fixture(scope="module")
def sample_letter_pdf() -> bytes:
    return render_letter(sample_letter(), "pdf")


def test_a_letter_failing_one_standard_fits_three_pages_inside_the_type_area(
    sample_letter_pdf: bytes,
) -> None:
    m = sample_letter()
    assert len(m.failed) == 1  # HZ-2024-004: 199.99万元/亩 against 不低于200万元/亩
    pages = pdf_lines(sample_letter_pdf)
    assert len(pages) <= 3
    assert layout_problems(pages) == []
    assert glyph_problems(sample_letter_pdf) == []


def test_letter_signature_and_date_are_right_aligned_on_the_page_of_the_conclusion(
    sample_letter_pdf: bytes,
) -> None:
    pages = pdf_lines(sample_letter_pdf)
    assert closing_problems(pages, [OFFICE], DATE, "审查结论为") == []


def test_letter_masthead_number_and_title_lead_the_first_page_in_gb_order(sample_letter_pdf: bytes) -> None:
    import io

    import pdfplumber

    first = [ln.text for ln in pdf_lines(sample_letter_pdf)[0]]
    assert first[:3] == [OFFICE, "菏城审〔2026〕2号", "建设项目新型城镇化政策符合性审查意见书"]
    with pdfplumber.open(io.BytesIO(sample_letter_pdf)) as pdf:
        page = pdf.pages[0]
        masthead = [c for c in page.chars if c["text"] == OFFICE[0]][0]
        red = tuple(round(x, 2) for x in masthead["non_stroking_color"])
        number_bottom = max(c["bottom"] for c in page.chars if c["text"] == "号" and c["top"] < 250)
        rules = [
            r
            for r in page.rects + page.lines
            if r["top"] > number_bottom and r["top"] - number_bottom < 30 and r["width"] > 400
        ]
        body = [c for c in page.chars if c["text"] == "单" and c["top"] > 300][0]
    assert red[0] > 0.8 and red[1] < 0.2 and red[2] < 0.2  # 发文机关标志 in red
    assert rules and all(
        tuple(round(x, 2) for x in r["stroking_color"] or r["non_stroking_color"])[0] > 0.8 for r in rules
    )  # the red separator under the number
    assert abs(body["size"] - 16) < 0.1  # body 3号 (16 pt)


def test_letter_pages_carry_gb_page_numbers_on_the_outer_side(sample_letter_pdf: bytes) -> None:
    pages = pdf_lines(sample_letter_pdf)
    numbers = [ln for lines in pages for ln in lines if re.fullmatch(r"—\d+—", ln.text)]
    assert [n.text for n in numbers] == [f"—{i}—" for i in range(1, len(pages) + 1)]
    assert numbers[0].x0 > 300 and (len(numbers) < 2 or numbers[1].x1 < 300)  # odd right, even left


def _failing(n: int) -> list[Finding]:
    """One failing standard repeated under n different checks: letters of any length."""
    _, findings = evaluated()
    bad = next(f for f in findings["P-FAIL"] if f.status == "non_compliant")
    return [
        bad.model_copy(update={"check": f"{bad.check}.{i}", "check_title": f"{bad.check_title}(第{i + 1}项)"})
        for i in range(n)
    ]


@pytest.mark.parametrize("n", range(1, 9))
def test_signature_and_date_never_stand_alone_on_the_last_page(n: int) -> None:
    records, _ = evaluated()
    rec = records["P-FAIL"]
    m = build_letter(
        _failing(n),
        record_id="P-FAIL",
        name=rec.name,
        values=rec.values,
        number="菏城审〔2026〕9号",
        date=LETTER_DATE,
        plan_titles=records_and_policy_titles(),
    )
    data = render_letter(m, "pdf")
    pages = pdf_lines(data)
    assert closing_problems(pages, [OFFICE], DATE, "审查结论为") == []
    assert layout_problems(pages) == []


def test_quoted_source_sentences_print_with_full_width_punctuation() -> None:
    text = "".join(ln.text for lines in pdf_lines(render_letter(letter_for("P-FAIL"), "pdf")) for ln in lines)
    assert "滚动推进“千企技改、千企转型”，每年实施投资500万元以上技改项目300个左右" in text
    assert "标准：" in text or "审查标准：" in text
    body = text.split("审查口径日期")[0]
    assert not re.search(r"[\u4e00-\u9fff][,;:()!?]|[,;:()!?][\u4e00-\u9fff]", body)  # no ASCII marks by CJK


@pytest.fixture(scope="module")
def county_pdf() -> bytes:
    return render_notice(sample_notice("county", "曹县"), "pdf")


@pytest.fixture(scope="module")
def city_pdf() -> bytes:
    return render_notice(sample_notice("city", "菏泽市"), "pdf")


def test_county_notice_fits_six_pages_inside_the_type_area(county_pdf: bytes) -> None:
    pages = pdf_lines(county_pdf)
    assert len(pages) <= 6
    assert layout_problems(pages) == []
    assert glyph_problems(county_pdf) == []
    assert closing_problems(pages, [OFFICE], DATE, "特此通报") == []


def test_city_notice_fits_fifteen_pages_inside_the_type_area(city_pdf: bytes) -> None:
    pages = pdf_lines(city_pdf)
    assert len(pages) <= 15
    assert layout_problems(pages) == []
    assert glyph_problems(city_pdf) == []
    assert closing_problems(pages, [OFFICE], DATE, "特此通报") == []


def test_notice_leads_with_targets_that_need_action_and_ends_with_the_data_request(county_pdf: bytes) -> None:
    # The county notice of the samples lacks some figures (the city's notice, whose every target some
    # 2025 report judged, has no data request to make).
    pages = pdf_lines(county_pdf)
    text = "".join(ln.text for lines in pages for ln in lines)
    order = [
        text.index(h)
        for h in (
            "一、需要加快推进的目标",
            "二、已达标或进度正常的目标",
            "三、目标完成进度",
            "特此通报",
            "资料报送清单",
        )
    ]
    assert order == sorted(order)
    appendix = find_line(pages, "附件", last=True)
    assert appendix.page > find_line(pages, DATE).page  # the appendix starts on its own page after the 落款


def test_chart_parts_never_split_across_pages(city_pdf: bytes) -> None:
    pages = pdf_lines(city_pdf)
    titles = [
        ln for lines in pages for ln in lines if ln.text.startswith("目标完成进度（实际值占目标值的百分比）")
    ]
    legends = [ln for lines in pages for ln in lines if "达标/进度正常" in ln.text]
    assert len(titles) >= 2 and [t.page for t in titles] == [g.page for g in legends]  # each part on one page


def test_pdf_of_a_letter_with_a_review_item_lists_failed_then_review_then_met() -> None:
    records, findings = evaluated()
    rec = records["P-OK"]
    fs = [
        f.model_copy(update={"review": True, "review_reasons": ["申报值“约26000万元”为约数"]})
        if f.status == "compliant" and i == 0
        else f
        for i, f in enumerate(findings["P-OK"])
    ]
    ok = next(f for f in findings["P-OK"] if f.status == "compliant")
    fs += [*_failing(1), ok.model_copy(update={"check": ok.check + ".b", "check_title": "另一审查项"})]
    fs = [f.model_copy(update={"record_id": "P-OK"}) for f in fs]
    m = build_letter(
        fs,
        record_id="P-OK",
        name=rec.name,
        values=rec.values,
        number="菏城审〔2026〕3号",
        date=dt.date(2026, 3, 5),
        plan_titles=records_and_policy_titles(),
    )
    text = "".join(ln.text for lines in pdf_lines(render_letter(m, "pdf")) for ln in lines)
    order = [
        text.index(h)
        for h in (
            "三、不符合要求的事项",
            "四、需补充材料或人工复核的事项",
            "五、符合要求的事项",
            "六、审查结论",
        )
    ]
    assert order == sorted(order)
    assert "复核原因：申报值“约26000万元”为约数" in text
