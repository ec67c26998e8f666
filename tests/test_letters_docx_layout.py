"""The Word files as an office opens them: DOCX properties and styles read with python-docx, and the
layout as LibreOffice lays it out (soffice --headless --convert-to pdf), checked like the PDFs.

Without soffice these layout tests skip, except in CI (CI=true), where .ci/run installs LibreOffice and
a missing soffice fails.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from engine.render.documents import render_letter, render_notice
from tests.test_letters_support import (
    MM,
    closing_problems,
    glyph_problems,
    layout_problems,
    letter_for,
    pdf_lines,
    sample_letter,
    sample_notice,
    soffice_pdf,
)

OFFICE = "菏泽市推进新型城镇化工作领导小组办公室"
DATE = "2026年3月5日"


@pytest.fixture(scope="module")
def letter_docx() -> bytes:
    return render_letter(sample_letter(), "docx")


@pytest.fixture(scope="module")
def letter_lo(letter_docx: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return soffice_pdf(letter_docx, tmp_path_factory.mktemp("lo-letter"), "letter")


def _xml(docx_bytes: bytes, part: str) -> str:
    return zipfile.ZipFile(io.BytesIO(docx_bytes)).read(part).decode("utf-8")


def test_docx_properties_name_the_office_and_the_real_date(letter_docx: bytes) -> None:
    import docx

    cp = docx.Document(io.BytesIO(letter_docx)).core_properties
    assert cp.author == OFFICE and cp.last_modified_by == OFFICE
    assert cp.created is not None and cp.created.date().isoformat() == "2026-03-05"
    assert "python-docx" not in (cp.comments or "") + (cp.author or "")
    assert cp.title.startswith("建设项目新型城镇化政策符合性审查意见书") and cp.language == "zh-CN"


def test_docx_names_chinese_fonts_explicitly_in_zh_cn_without_theme_fonts(letter_docx: bytes) -> None:
    styles = _xml(letter_docx, "word/styles.xml")
    assert not re.search(
        r'w:(ascii|eastAsia|hAnsi|cs)Theme="', styles
    )  # theme fonts would override 仿宋/黑体
    assert 'w:eastAsia="ja-JP"' not in styles and 'w:eastAsia="zh-CN"' in styles
    assert 'w:eastAsia="仿宋"' in styles and 'w:eastAsia="黑体"' in styles
    assert 'w:eastAsia="ja-JP"' not in _xml(letter_docx, "word/settings.xml")
    theme = _xml(letter_docx, "word/theme/theme1.xml")
    assert 'script="Jpan"' not in theme and '<a:ea typeface="仿宋"/>' in theme
    assert "明朝" not in _xml(letter_docx, "word/fontTable.xml")


def test_docx_tables_have_fixed_widths_shaded_labels_merged_applicant_and_unsplit_rows(
    letter_docx: bytes,
) -> None:
    import docx

    d = docx.Document(io.BytesIO(letter_docx))
    summary, met = d.tables[0], d.tables[1]
    grid = [
        int(c.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w")) / 56.7
        for c in summary._tbl.tblGrid
    ]
    assert [round(w) for w in grid] == [27, 51, 27, 51] and abs(sum(grid) - 156) < 1  # the type area
    applicant = summary.rows[1]
    assert (
        applicant.cells[0].text == "申报单位" and applicant.cells[1].text == applicant.cells[3].text
    )  # merged
    xml = summary._tbl.xml
    assert 'w:fill="D9D9D9"' in xml and "<w:cantSplit/>" in xml and 'w:type="fixed"' in xml
    header = met.rows[0]._tr.xml
    assert "<w:tblHeader/>" in header  # repeated on every page
    met_grid = [
        int(c.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w")) / 56.7
        for c in met._tbl.tblGrid
    ]
    assert min(met_grid) >= 20  # 条款 not a sliver; labels like 第10条 fit on one line


def test_docx_has_gb_page_numbers_red_rule_and_a_chained_closing(letter_docx: bytes) -> None:
    import docx

    d = docx.Document(io.BytesIO(letter_docx))
    sec = d.sections[0]
    assert (round(sec.top_margin.mm), round(sec.left_margin.mm), round(sec.right_margin.mm)) == (37, 28, 26)
    assert d.settings.odd_and_even_pages_header_footer
    odd = sec.footer._element.xml
    even = sec.even_page_footer._element.xml
    assert "PAGE" in odd and "PAGE" in even and "— " in sec.footer.paragraphs[0].text
    number = next(p for p in d.paragraphs if p.text == "菏城审〔2026〕2号")
    assert 'w:color="FF0000"' in number._p.xml and "<w:bottom" in number._p.xml  # red rule under the number
    masthead = d.paragraphs[0]
    assert masthead.text == OFFICE and masthead.style.font.color.rgb == docx.shared.RGBColor(0xFF, 0, 0)
    texts = [p.text for p in d.paragraphs]
    i_date = texts.index(DATE)
    chain = d.paragraphs[texts.index(next(t for t in texts if t.startswith("经审查"))) : i_date]
    assert all(p.paragraph_format.keep_with_next or p.style.paragraph_format.keep_with_next for p in chain)


def test_docx_letter_in_libreoffice_matches_the_pdf_layout(letter_lo: bytes) -> None:
    pages = pdf_lines(letter_lo)
    assert len(pages) <= 3
    assert layout_problems(pages) == []
    assert closing_problems(pages, [OFFICE], DATE, "审查结论为") == []
    assert glyph_problems(letter_lo) == []
    text = "".join(ln.text for lines in pages for ln in lines)
    assert "菏城审〔2026〕2号" in text and "三、不符合要求的事项" in text


def test_docx_letter_table_labels_are_not_wrapped_in_libreoffice(letter_lo: bytes) -> None:
    lines = [ln.text for page in pdf_lines(letter_lo) for ln in page]
    for label in ("项目名称", "申报单位", "项目编号", "所在县区", "申报日期"):
        assert any(t.startswith(label) for t in lines), label  # the label starts a line, whole
    assert not any(t in ("条", "论") for t in lines)  # no label broken onto a line of its own


@pytest.mark.parametrize("record_id", ["P-FAIL", "P-OK", "P-MISSING"])
def test_docx_letters_of_every_conclusion_keep_signature_and_date_together(
    record_id: str, tmp_path: Path
) -> None:
    pdf = soffice_pdf(render_letter(letter_for(record_id), "docx"), tmp_path, record_id)
    pages = pdf_lines(pdf)
    assert closing_problems(pages, [OFFICE], DATE, "审查结论为") == []
    assert layout_problems(pages) == []


def test_docx_county_notice_in_libreoffice_fits_six_pages_with_the_chart_inside_the_page(
    tmp_path: Path,
) -> None:
    import docx

    data = render_notice(sample_notice("county", "曹县"), "docx")
    d = docx.Document(io.BytesIO(data))
    assert d.inline_shapes and all(
        s.width.mm <= 156.5 for s in d.inline_shapes
    )  # chart parts fit the type area
    assert all(s.height.mm <= 225 for s in d.inline_shapes)
    pdf = soffice_pdf(data, tmp_path, "county")
    pages = pdf_lines(pdf)
    assert len(pages) <= 6
    lines = [ln.text for page in pages for ln in page]
    assert any(t.startswith("序号") for t in lines) and "序" not in lines  # header labels not wrapped
    assert layout_problems(pages) == []
    assert closing_problems(pages, [OFFICE], DATE, "特此通报") == []
    assert glyph_problems(pdf) == []


def test_docx_notice_merges_the_shared_lead_department_cells() -> None:
    import docx

    m = sample_notice("city", "菏泽市")
    shared = [i for i in m.actions if i.dept_rowspan == 0]
    assert shared  # several action items of one measure share a department cell
    d = docx.Document(io.BytesIO(render_notice(m, "docx")))
    actions = next(t for t in d.tables if t.rows[0].cells[-1].text == "牵头单位")
    vmerge = actions._tbl.xml.count("<w:vMerge")
    assert vmerge >= len(shared)
    assert MM > 0
