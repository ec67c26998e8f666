"""The same non-compliant letter as HTML, Markdown, DOCX and PDF; the PDF page as a picture; notices."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.render import pdf as pdf_mod
from engine.render.documents import render_letter, render_notice
from engine.render.notices import Subject, build_notice, percent_reached
from tests.test_letters_support import frozen_policy, letter_for

TECH_SOURCE = '滚动推进"千企技改、千企转型",每年实施投资500万元以上技改项目300个左右'
TECH_SOURCE_SHOWN = "滚动推进“千企技改、千企转型”，每年实施投资500万元以上技改项目300个左右"
MUST_CONTAIN = [
    "菏城审〔2026〕1号",
    "菏政发〔2024〕11号",
    "第2条",
    "加快重大产业项目建设",
    "500万元",
    "480万元",
    TECH_SOURCE_SHOWN,
]
needs_cjk = pytest.mark.skipif(not pdf_mod.cjk_fonts(), reason="no CJK font (CI installs fonts-noto-cjk)")
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils not installed (CI installs it)",
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def letter_pdf() -> bytes:
    if not pdf_mod.cjk_fonts():
        pytest.skip("no CJK font")
    return render_letter(letter_for("P-FAIL"), "pdf")


def test_html_and_markdown_contain_the_key_facts() -> None:
    m = letter_for("P-FAIL")
    for fmt in ("html", "md"):
        text = render_letter(m, fmt).decode().replace("&#34;", '"')
        for needle in MUST_CONTAIN:
            assert needle in text, (fmt, needle)


def test_docx_opens_with_python_docx_and_contains_the_key_facts() -> None:
    import docx

    d = docx.Document(io.BytesIO(render_letter(letter_for("P-FAIL"), "docx")))
    text = "\n".join(p.text for p in d.paragraphs)
    text += "\n".join(c.text for t in d.tables for r in t.rows for c in r.cells)
    for needle in MUST_CONTAIN:
        assert needle in text, needle
    assert "{{" not in text and "{%" not in text  # every tag was filled
    sec = d.sections[0]
    assert abs(sec.page_width.mm - 210) < 1 and abs(sec.page_height.mm - 297) < 1


@needs_cjk
@needs_poppler
def test_pdf_text_extracts_with_chinese_intact(letter_pdf: bytes, tmp_path: Path) -> None:
    (tmp_path / "l.pdf").write_bytes(letter_pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "l.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = _squash(text)
    assert "建设项目新型城镇化政策符合性审查意见书" in flat
    for needle in MUST_CONTAIN:
        assert _squash(needle) in flat, needle


@needs_cjk
@needs_poppler
def test_pdf_first_page_renders_as_a_non_blank_a4_picture(letter_pdf: bytes, tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "l.pdf").write_bytes(letter_pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(tmp_path / "l.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    png = tmp_path / "page.png"
    assert png.exists()
    img = Image.open(png).convert("L")
    w, h = img.size
    assert abs(h / w - 297 / 210) < 0.01  # A4 portrait
    dark = sum(img.histogram()[:200])  # pixels darker than light grey
    assert dark / (w * h) > 0.01  # text and tables, not a blank page


def test_pdf_without_a_chinese_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_mod, "cjk_fonts", lambda: [])
    with pytest.raises(pdf_mod.PdfUnavailable) as exc:
        render_letter(letter_for("P-FAIL"), "pdf")
    assert "fonts-noto-cjk" in str(exc.value) and "未安装中文字体" in str(exc.value)


# --- progress notices --------------------------------------------------------------------------


def _notice_inputs(tmp_path: Path):
    from engine.evaluation.evaluate import Evaluator
    from engine.records.intake import load_records

    # Baselines are the subjects' own 2023 reports (not judged themselves).
    (tmp_path / "towns.yaml").write_text(
        """records:
  - {id: T-FG-2023, kind: town, name: 单县浮岗镇, county: 单县, report_year: 2023, 镇区人口目标档次: 3万人,
     镇区常住人口(万人): 2.55}
  - {id: T-FG, kind: town, name: 单县浮岗镇, county: 单县, report_year: 2024, 镇区人口目标档次: 3万人,
     镇区常住人口(万人): 2.71}
  - {id: T-DJ, kind: town, name: 曹县大集镇, county: 曹县, report_year: 2025, 镇区人口目标档次: 6万人,
     镇区常住人口: 61200}
  - {id: C-HZ-2023, kind: city, name: 菏泽市, county: 全市, report_year: 2023, 新能源和可再生能源装机(万千瓦): 480}
  - {id: C-HZ, kind: city, name: 菏泽市, county: 全市, report_year: 2024, 投资500万元以上技改项目数: 286,
     新能源和可再生能源装机(万千瓦): 572}
""",
        encoding="utf-8",
    )
    pol = frozen_policy()
    intake = load_records([tmp_path / "towns.yaml"], pol.catalog)
    assert not intake.errors, intake.errors
    findings = Evaluator(pol).evaluate(intake.records).findings
    subjects = [
        Subject(id=r.id, kind=r.kind, name=r.name, county=str(r.values.get("county"))) for r in intake.records
    ]
    return findings, subjects


def test_town_notice_shows_target_gap_deadline_and_percent(tmp_path: Path) -> None:
    findings, subjects = _notice_inputs(tmp_path)
    m = build_notice(
        findings, subjects, scope="town", name="单县浮岗镇", date=dt.date(2026, 3, 5), reviewer="菏泽市"
    )
    items = [i for s in m.sections for i in s.items]
    item = next(i for i in items if "3万人" in i.check_title)
    assert (item.status, item.value, item.target, item.gap, item.due) == (
        "behind_schedule",
        "2.71万人",
        "3万人",
        "2900人",
        "2025年底",
    )
    assert item.check_title.startswith("力争")
    assert item.percent_text == "90.3%"
    assert m.sections[0].title == "三、实施城镇能级提升行动"
    assert all(i.subject == "单县浮岗镇" for i in items)


def test_county_notice_gathers_its_towns_and_city_notice_its_own_targets(tmp_path: Path) -> None:
    findings, subjects = _notice_inputs(tmp_path)
    county = build_notice(
        findings, subjects, scope="county", name="曹县", date=dt.date(2026, 3, 5), reviewer="x"
    )
    assert {i.subject for s in county.sections for i in s.items} == {"曹县大集镇"}
    city = build_notice(
        findings, subjects, scope="city", name="菏泽市", date=dt.date(2026, 3, 5), reviewer="x"
    )
    statuses = {i.status for s in city.sections for i in s.items}
    assert statuses == {"on_track", "non_compliant"}
    with pytest.raises(LookupError):
        build_notice(
            findings, subjects, scope="town", name="不存在镇", date=dt.date(2026, 3, 5), reviewer="x"
        )


def test_percent_reached_for_at_most_targets_inverts_the_ratio() -> None:
    from decimal import Decimal

    from engine.evaluation.findings import Finding

    f = Finding(
        record_id="x",
        kind="city",
        pack="p",
        document="d",
        measure=1,
        measure_title="t",
        section="s",
        check="p:c",
        check_title="c",
        check_version="v",
        nature="target",
        status="non_compliant",
        value=Decimal(50),
        threshold=Decimal(40),
        op="<=",
        message="",
        source_text="",
        as_of=dt.date(2025, 1, 1),
    )
    assert percent_reached(f) == Decimal("80.0")


def test_notice_chart_reads_in_html_and_docx_and_labels_are_escaped(tmp_path: Path) -> None:
    import docx

    findings, subjects = _notice_inputs(tmp_path)
    subjects = [s.model_copy(update={"name": "<b>菏泽市</b>"}) if s.kind == "city" else s for s in subjects]
    findings = [
        f.model_copy(update={"record_name": "<b>菏泽市</b>"}) if f.kind == "city" else f for f in findings
    ]
    m = build_notice(
        findings, subjects, scope="city", name="<b>菏泽市</b>", date=dt.date(2026, 3, 5), reviewer="x"
    )
    html = render_notice(m, "html").decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "#2e7d32" in svg and "#c62828" in svg  # green on track, red non-compliant
    assert "88.0%" in svg and "95.3%" in svg
    assert "<b>" not in html and "&lt;b&gt;菏泽市&lt;/b&gt;" in html
    d = docx.Document(io.BytesIO(render_notice(m, "docx")))
    assert len(d.inline_shapes) == 1  # the PNG chart (its percentages are drawn, 95.3% among them)
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    assert "286个" in cells and any("不符合" in c for c in cells)  # the action row: value and status
    assert render_notice(m, "md") == render_notice(m, "md")


@needs_cjk
@needs_poppler
def test_notice_pdf_has_the_title_and_the_chart(tmp_path: Path) -> None:
    findings, subjects = _notice_inputs(tmp_path)
    m = build_notice(
        findings, subjects, scope="town", name="单县浮岗镇", date=dt.date(2026, 3, 5), reviewer="x"
    )
    (tmp_path / "n.pdf").write_bytes(render_notice(m, "pdf"))
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "n.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = _squash(text)
    assert "单县浮岗镇新型城镇化建设目标达标情况通报" in flat and "90.3%" in flat and "目标完成进度" in flat
