"""Build letter.docx and notice.docx: Word templates with Jinja tags for docxtpl.

Run `python reports/templates/build_docx_template.py` after editing this script. The office may
instead restyle the .docx files in Word or WPS directly: keep each {{ ... }} / {%p ... %} / {%tr ... %}
tag inside one run (type it in one go, do not format part of it) and docxtpl will fill it.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
BODY_FONT, HEAD_FONT = "仿宋", "黑体"


def _font(style_or_run, name: str, size: float | None = None, bold: bool | None = None) -> None:
    f = style_or_run.font
    f.name = name
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), name)
    if size:
        f.size = Pt(size)
    if bold is not None:
        f.bold = bold


def _document(landscape: bool = False) -> Document:
    doc = Document()
    sec = doc.sections[0]
    if landscape:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
        sec.left_margin = sec.right_margin = Mm(16)
        sec.top_margin = sec.bottom_margin = Mm(18)
    else:
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.left_margin, sec.right_margin = Mm(25), Mm(22)
        sec.top_margin, sec.bottom_margin = Mm(25), Mm(22)
    _font(doc.styles["Normal"], BODY_FONT, 12)
    doc.styles["Normal"].paragraph_format.space_after = Pt(3)
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        st = doc.styles[name]
        _font(st, HEAD_FONT, {"Heading 1": 20, "Heading 2": 14, "Heading 3": 12.5}[name], bold=False)
        st.font.color.rgb = RGBColor(0xB0, 0, 0) if name == "Heading 1" else RGBColor(0, 0, 0)
    return doc


def _p(doc, text: str, *, align=None, indent: bool = False, bold: bool = False, style: str | None = None,
       size: float | None = None):
    para = doc.add_paragraph(style=style)
    run = para.add_run(text)  # one run per tag: docxtpl needs the whole tag in one run
    run.bold = bold or None
    if size:
        run.font.size = Pt(size)
    if align is not None:
        para.alignment = align
    if indent:
        para.paragraph_format.first_line_indent = Pt(24)
    return para


def _table(doc, header: list[str], widths_mm: list[float]):
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text, w in zip(t.rows[0].cells, header, widths_mm, strict=True):
        cell.text = text
        cell.width = Mm(w)
        for r in cell.paragraphs[0].runs:
            _font(r, HEAD_FONT, 10.5)
    return t


def _row(t, texts: list[str], size: float = 10.5) -> None:
    cells = t.add_row().cells
    for cell, text in zip(cells, texts, strict=True):
        cell.text = text
        for r in cell.paragraphs[0].runs:
            r.font.size = Pt(size)


def build_letter(path: Path) -> None:
    doc = _document()
    _p(doc, "{{ m.title }}", style="Heading 1", align=WD_ALIGN_PARAGRAPH.CENTER)
    _p(doc, "{{ m.number }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    _p(doc, "{{ m.addressee }}:")
    _p(doc, "你单位申报的“{{ m.project.name }}”(项目编号 {{ m.project.id }})已收悉。根据"
            "{% if m.plan_title %}{{ m.plan_title }}({{ m.document }}){% else %}{{ m.document }}{% endif %},"
            "我们对该项目进行了新型城镇化政策符合性审查。审查意见如下。", indent=True)
    _p(doc, "一、项目概况", style="Heading 2")
    t = doc.add_table(rows=0, cols=4)
    t.style = "Table Grid"
    for row in (("项目名称", "{{ m.project.name }}", "项目编号", "{{ m.project.id }}"),
                ("申报单位", "{{ m.project.applicant }}", "所在县区", "{{ m.project.county }}"),
                ("所在镇街", "{{ m.project.town }}", "项目类别", "{{ m.project.category }}"),
                ("总投资", "{{ m.project.investment }}", "用地面积", "{{ m.project.land }}"),
                ("申报日期", "{{ m.project.submitted_on }}", "审查口径日期", "{{ m.as_of }}")):
        _row(t, list(row))
    _p(doc, "二、审查依据", style="Heading 2")
    _p(doc, "{{ m.document }}{% if m.plan_title %} {{ m.plan_title }}{% endif %},适用条款:", indent=True)
    _p(doc, "{%p for b in m.basis %}")
    _p(doc, "{{ b.cite }}({{ b.section }})", style="List Bullet")
    _p(doc, "{%p endfor %}")
    _p(doc, "三、逐项审查情况", style="Heading 2")
    t = _table(doc, ["条款", "审查项及标准", "实际值", "结论"], [28, 60, 30, 45])
    _row(t, ["{%tr for r in m.rows %}", "", "", ""])
    _row(t, ["{{ r.clause }} {{ r.measure_title }}", "{{ r.check_title }};标准:{{ r.standard }}", "{{ r.value }}",
             "{{ r.verdict }}{% if r.interpretation %}(说明:{{ r.interpretation }}){% endif %}"])
    _row(t, ["{%tr endfor %}", "", "", ""])
    _p(doc, "{%p if not m.rows %}")
    _p(doc, "该项目不在本方案量化审查标准的适用范围内。", indent=True)
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if m.not_applicable %}")
    _p(doc, "经审查不适用的条款:{{ m.not_applicable | join(';') }}。", size=10)
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if m.issues %}")
    _p(doc, "四、需整改或补充的事项", style="Heading 2")
    _p(doc, "{%p for i in m.issues %}")
    _p(doc, "({{ loop.index }}){{ i.clause }} {{ i.check_title }} — {{ i.status_zh }}", bold=True)
    _p(doc, "原文:{{ i.source_text }}", indent=True)
    _p(doc, "整改要求:{{ i.requirement }}", indent=True)
    _p(doc, "{%p if i.interpretation %}")
    _p(doc, "适用说明:{{ i.interpretation }}", indent=True, size=10)
    _p(doc, "{%p endif %}")
    _p(doc, "牵头部门:{{ i.lead_departments }}", indent=True)
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endif %}")
    _p(doc, "{{ '五' if m.issues else '四' }}、审查结论", style="Heading 2")
    _p(doc, "{{ m.conclusion_text }}", indent=True, bold=True)
    _p(doc, "")
    _p(doc, "{{ m.reviewer }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _p(doc, "{{ m.date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _p(doc, "{% if m.fingerprint %}规则包版本:{{ m.fingerprint[:12] }}。{% endif %}"
            "本意见书由规则程序依据{{ m.document }}自动生成,经审查单位核对后生效。", size=9)
    doc.save(path)


def build_notice(path: Path) -> None:
    doc = _document(landscape=True)
    _p(doc, "{{ m.title }}", style="Heading 1", align=WD_ALIGN_PARAGRAPH.CENTER)
    _p(doc, "({{ m.scope_zh }}·统计口径截至{{ m.as_of }})", align=WD_ALIGN_PARAGRAPH.CENTER)
    _p(doc, "根据{% if m.plan_title %}{{ m.plan_title }}({{ m.document }}){% else %}{{ m.document }}{% endif %},"
            "现将{{ m.name }}有关目标任务的达标情况通报如下。{{ m.summary }}", indent=True)
    _p(doc, "一、目标完成进度", style="Heading 2")
    _p(doc, "{{ chart }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    _p(doc, "二、分项达标情况", style="Heading 2")
    _p(doc, "{%p for s in m.sections %}")
    _p(doc, "{{ s.title }}", style="Heading 3")
    header = ["序号", "对象", "条款", "目标任务", "实际值", "目标值", "差距", "完成时限", "完成度", "状态", "牵头部门"]
    t = _table(doc, header, [10, 24, 24, 60, 20, 20, 18, 18, 16, 16, 30])
    _row(t, ["{%tr for i in s.items %}"] + [""] * 10, size=9)
    _row(t, ["{{ i.index }}", "{{ i.subject }} {{ i.year }}年", "{{ i.clause }} {{ i.measure_title }}",
             "{{ i.check_title }}(标准:{{ i.standard }})", "{{ i.value }}", "{{ i.target }}", "{{ i.gap }}",
             "{{ i.due }}", "{{ i.percent_text }}", "{{ i.status_zh }}", "{{ i.lead_departments }}"], size=9)
    _row(t, ["{%tr endfor %}"] + [""] * 10, size=9)
    _p(doc, "{%p endfor %}")
    _p(doc, "")
    _p(doc, "{{ m.reviewer }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _p(doc, "{{ m.date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _p(doc, "完成度=实际值÷目标值×100%(“不高于”类目标为目标值÷实际值),按期限目标的最终目标计算。", size=9)
    doc.save(path)


if __name__ == "__main__":
    build_letter(HERE / "letter.docx")
    build_notice(HERE / "notice.docx")
    print(f"wrote {HERE / 'letter.docx'} and {HERE / 'notice.docx'}")
