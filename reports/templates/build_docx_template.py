"""Build letter.docx and notice.docx: Word templates with Jinja tags for docxtpl, laid out as GB/T 9704-2012.

Run `python reports/templates/build_docx_template.py` after editing this script. The office may
instead restyle the .docx files in Word or WPS directly: keep each {{ ... }} / {%p ... %} / {%tr ... %}
tag inside one run (type it in one go, do not format part of it) and docxtpl will fill it.

What the templates carry (checked by tests/test_letters_docx_layout.py):

* A4, type area 156 mm x 225 mm (top 37 mm, inner 28 mm); page numbers "— 1 —" in 4号 宋体, on the
  right of odd pages and the left of even pages;
* explicit East Asian fonts (仿宋 body, 黑体 level-1 headings, 楷体 level-2, 方正小标宋简体 masthead and
  title) with language zh-CN; no theme fonts (theme attributes would override the names), theme and
  settings without ja-JP;
* the masthead in red and a red rule under the number (a paragraph border);
* tables with fixed column widths, shaded label cells, merged cells, rows that do not split across
  pages and header rows repeated on every page;
* the conclusion, signature and date chained with keep-with-next, so the date never stands alone.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
BODY, HEI, KAI, SONG, XBS = "仿宋", "黑体", "楷体", "宋体", "方正小标宋简体"
RED = RGBColor(0xFF, 0, 0)
TEXT_W = 156  # mm


# --- fonts and language ------------------------------------------------------------------------

def _rfonts(rpr, name: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme") or attr.endswith("theme"):
            del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _lang(rpr) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")


def _style_font(style, name: str, size: float, *, bold: bool = False, colour: RGBColor | None = None) -> None:
    rpr = style.element.get_or_add_rPr()
    _rfonts(rpr, name)
    _lang(rpr)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.color.rgb = colour or RGBColor(0, 0, 0)


def _strip_theme_fonts(doc) -> None:
    """No rFonts in styles or defaults may point at theme fonts: they would override 仿宋/黑体."""
    styles = doc.styles.element
    for fonts in styles.iter(qn("w:rFonts")):
        for attr in list(fonts.attrib):
            if attr.endswith("Theme") or attr.endswith("theme"):
                del fonts.attrib[attr]
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _rfonts(rpr, BODY)
    _lang(rpr)
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    for sp in ppr.findall(qn("w:spacing")):
        ppr.remove(sp)
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):  # no extra space between Chinese and digits (as in the PDF)
        el = OxmlElement(tag)
        el.set(qn("w:val"), "0")
        ppr.append(el)
    for lang in styles.iter(qn("w:lang")):
        if lang.get(qn("w:eastAsia")) not in (None, "zh-CN"):
            lang.set(qn("w:eastAsia"), "zh-CN")


def _paragraph_style(doc, name: str, font: str, size: float, *, bold: bool = False, colour: RGBColor | None = None,
                     align=None, indent: bool = False, line: float | None = 28, keep_next: bool = False,
                     base: str = "Normal"):
    try:
        st = doc.styles[name]
    except KeyError:
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    st.base_style = doc.styles[base] if name != base else None
    _style_font(st, font, size, bold=bold, colour=colour)
    pf = st.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if line:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(line)
    if align is not None:
        pf.alignment = align
    pf.first_line_indent = Pt(size * 2) if indent else Pt(0)
    pf.keep_with_next = keep_next
    pf.widow_control = True
    ppr = st.element.get_or_add_pPr()
    anchor = next((c for c in ppr if c.tag in {qn(t) for t in ("w:bidi", "w:adjustRightInd", "w:snapToGrid",
                                                               "w:spacing", "w:ind", "w:jc", "w:outlineLvl")}), None)
    # No punctuation hanging into the margin (w:overflowPunct) and no extra space between Chinese and digits
    # (w:autoSpaceDE/DN): the DOCX keeps to the type area like the PDF.
    for tag in ("w:overflowPunct", "w:autoSpaceDE", "w:autoSpaceDN"):
        if ppr.find(qn(tag)) is None:
            el = OxmlElement(tag)
            el.set(qn("w:val"), "0")
            if anchor is not None:
                anchor.addprevious(el)
            else:
                ppr.append(el)
    return st


def _styles(doc) -> None:
    _strip_theme_fonts(doc)
    _paragraph_style(doc, "Normal", BODY, 16, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _paragraph_style(doc, "Body", BODY, 16, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _paragraph_style(doc, "Masthead", XBS, 26, bold=True, colour=RED, align=WD_ALIGN_PARAGRAPH.CENTER, line=None,
                     keep_next=True)
    doc.styles["Masthead"].paragraph_format.space_after = Pt(26)
    _paragraph_style(doc, "DocNo", BODY, 16, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True)
    _paragraph_style(doc, "DocTitle", XBS, 22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, line=32, keep_next=True)
    _paragraph_style(doc, "Heading 1", HEI, 16, indent=True, keep_next=True)
    _paragraph_style(doc, "Heading 2", KAI, 16, indent=True, keep_next=True)
    _paragraph_style(doc, "Quote", KAI, 16, indent=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    doc.styles["Quote"].font.italic = False
    _paragraph_style(doc, "TableText", BODY, 12, line=18)
    _paragraph_style(doc, "TableSmall", BODY, 9.5, line=12.5)
    _paragraph_style(doc, "TableHead", HEI, 12, line=18, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(doc, "Signature", BODY, 16, align=WD_ALIGN_PARAGRAPH.RIGHT, keep_next=True)
    _paragraph_style(doc, "Small", BODY, 10.5, line=15)
    _paragraph_style(doc, "PageNumber", SONG, 14, line=None)
    for st in ("Heading 1", "Heading 2"):
        doc.styles[st].font.italic = False
        doc.styles[st].font.color.rgb = RGBColor(0, 0, 0)


def _theme_and_settings(data: bytes) -> bytes:
    """Theme East Asian fonts 仿宋/黑体 instead of Japanese ones; settings' theme language zh-CN."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "word/theme/theme1.xml":
                text = body.decode("utf-8")
                text = re.sub(r'\s*<a:font script="Jpan" typeface="[^"]*"/>', "", text)
                major, minor = text.split("<a:minorFont>", 1)
                major = re.sub(r'<a:ea typeface="[^"]*"/>', f'<a:ea typeface="{HEI}"/>', major)
                major = re.sub(r'<a:font script="Hans" typeface="[^"]*"/>', f'<a:font script="Hans" typeface="{HEI}"/>',
                               major)
                minor = re.sub(r'<a:ea typeface="[^"]*"/>', f'<a:ea typeface="{BODY}"/>', minor)
                minor = re.sub(r'<a:font script="Hans" typeface="[^"]*"/>', f'<a:font script="Hans" typeface="{BODY}"/>',
                               minor)
                body = (major + "<a:minorFont>" + minor).encode("utf-8")
            elif item.filename == "word/settings.xml":
                body = body.replace(b'w:eastAsia="ja-JP"', b'w:eastAsia="zh-CN"')
            elif item.filename == "word/fontTable.xml":
                body = _font_table(body.decode("utf-8")).encode("utf-8")
            elif item.filename == "word/stylesWithEffects.xml":
                body = body.replace(b'w:eastAsia="ja-JP"', b'w:eastAsia="zh-CN"')
            dst.writestr(item, body)
    return out.getvalue()


# The fonts the document names, with the free font a machine without them should use (w:altName):
# the same choices as the HTML/PDF font stacks (.ci/run installs them).
FONT_TABLE = [(BODY, "AR PL UKai CN", "roman", "02010609060101010101"),
              (KAI, "AR PL UKai CN", "script", "02010609060101010101"),
              (HEI, "Noto Sans CJK SC", "modern", "02010609060101010101"),
              (SONG, "Noto Serif CJK SC", "roman", "02010600030101010101"),
              (XBS, "Noto Serif CJK SC", "roman", "02000000000000000000")]


def _font_table(xml: str) -> str:
    """Drop the Japanese entries of python-docx's font table; name the Chinese fonts with their fallbacks."""
    xml = re.sub(r"\s*<w:font w:name=\"[^\"]*(明朝|ゴシック|MS Mincho|MS Gothic)[^\"]*\">.*?</w:font>", "", xml,
                 flags=re.S)
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:panose1 w:val="{panose}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{family}"/><w:pitch w:val="fixed"/></w:font>'
        for name, alt, family, panose in FONT_TABLE)
    return xml.replace("</w:fonts>", entries + "</w:fonts>")


# --- page -----------------------------------------------------------------------------------------

def _field(paragraph, instr: str) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), ("instr", instr), ("separate", None), ("text", "1"), ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
            run._r.append(el)
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
            run._r.append(el)
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)


def _page_number(footer, align) -> None:
    p = footer.paragraphs[0]
    p.style = "PageNumber"
    p.alignment = align
    p.paragraph_format.left_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.LEFT else Pt(0)
    p.paragraph_format.right_indent = Pt(14) if align == WD_ALIGN_PARAGRAPH.RIGHT else Pt(0)
    p.add_run("— ")
    _field(p, " PAGE ")
    p.add_run(" —")


def _document() -> Document:
    doc = Document()
    _styles(doc)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.footer_distance = Mm(22)
    sec.header_distance = Mm(15)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(sec.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    # mirrored margins: the inner margin (订口) is 28 mm on both sides of a sheet
    mirror = OxmlElement("w:mirrorMargins")
    doc.settings.element.append(mirror)
    return doc


# --- content helpers ---------------------------------------------------------------------------------

def _p(doc, text: str, style: str = "Body", *, bold: bool = False, keep_next: bool | None = None,
       page_break_before: bool = False, colour: RGBColor | None = None):
    para = doc.add_paragraph(style=style)
    run = para.add_run(text)  # one run per tag: docxtpl needs the whole tag in one run
    if bold:
        run.bold = True
    if colour is not None:
        run.font.color.rgb = colour
    if keep_next is not None:
        para.paragraph_format.keep_with_next = keep_next
    if page_break_before:
        para.paragraph_format.page_break_before = True
    return para


def _tag(doc, text: str):
    """A paragraph that only holds a {%p … %} tag (docxtpl removes it)."""
    return doc.add_paragraph(text, style="Normal")


def _red_rule(para) -> None:
    ppr = para._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "12"), ("w:space", "8"), ("w:color", "FF0000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.append(bdr)
    para.paragraph_format.space_after = Pt(28)


def _cell_width(cell, mm: float) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    w = tcpr.find(qn("w:tcW"))
    if w is None:
        w = OxmlElement("w:tcW")
        tcpr.insert(0, w)
    w.set(qn("w:w"), str(int(mm * 56.7)))
    w.set(qn("w:type"), "dxa")


def _shade(cell, fill: str = "D9D9D9") -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _row_props(row, *, header: bool = False) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))


def _table(doc, widths_mm: list[float]):
    t = doc.add_table(rows=0, cols=len(widths_mm))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tblpr = t._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    tblw = tblpr.find(qn("w:tblW"))
    if tblw is None:
        tblw = OxmlElement("w:tblW")
        tblpr.append(tblw)
    tblw.set(qn("w:w"), str(int(sum(widths_mm) * 56.7)))
    tblw.set(qn("w:type"), "dxa")
    for col, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(int(w * 56.7)))
    t._widths = widths_mm  # type: ignore[attr-defined]
    return t


# Table cells use the Normal style with direct formatting: LibreOffice paints no cell shading under
# paragraphs of a custom paragraph style (seen with 7.4), so the label cells would lose their grey.
CELL_FORMATS = {"TableText": (BODY, 12, 18), "TableSmall": (BODY, 9.5, 12.5), "TableHead": (HEI, 12, 18)}


def _fill(cell, text: str, style: str, *, shade: bool = False, align=None) -> None:
    font, size, line = CELL_FORMATS[style]
    p = cell.paragraphs[0]
    pf = p.paragraph_format
    pf.first_line_indent = Pt(0)
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(line)
    pf.alignment = WD_ALIGN_PARAGRAPH.CENTER if style == "TableHead" else (align or WD_ALIGN_PARAGRAPH.LEFT)
    run = p.add_run(text)
    run.font.size = Pt(size)
    rpr = run._r.get_or_add_rPr()
    _rfonts(rpr, font)
    if shade:
        _shade(cell)


def _row(t, texts: list[str], style: str = "TableText", *, header: bool = False, shade_cols: tuple[int, ...] = (),
         center_cols: tuple[int, ...] = ()):
    row = t.add_row()
    _row_props(row, header=header)
    for i, (cell, text, w) in enumerate(zip(row.cells, texts, t._widths, strict=True)):
        _cell_width(cell, w)
        _fill(cell, text, "TableHead" if header else style, shade=header or i in shade_cols,
              align=WD_ALIGN_PARAGRAPH.CENTER if i in center_cols else None)
    return row


def _loop_row(t, tag: str) -> None:
    row = t.add_row()
    for cell, w in zip(row.cells, t._widths, strict=True):
        _cell_width(cell, w)
    row.cells[0].paragraphs[0].add_run(tag)


def _closing(doc, lines_tag: str = "{{ line }}") -> None:
    """Signature lines and the date, chained to what comes before them with keep-with-next."""
    spacer = _p(doc, "", "Body", keep_next=True)
    spacer.paragraph_format.space_before = Pt(20)
    _tag(doc, "{%p for line in m.signature %}")
    sig = _p(doc, lines_tag, "Signature")
    sig.paragraph_format.right_indent = Pt(32)
    _tag(doc, "{%p endfor %}")
    date = _p(doc, "{{ m.date }}", "Signature", keep_next=False)
    date.paragraph_format.right_indent = Pt(32)


def _save(doc, path: Path) -> None:
    buf = io.BytesIO()
    doc.save(buf)
    path.write_bytes(_theme_and_settings(buf.getvalue()))


# --- the letter ---------------------------------------------------------------------------------

def build_letter(path: Path) -> None:
    doc = _document()
    _p(doc, "{{ m.reviewer }}", "Masthead")
    _red_rule(_p(doc, "{{ m.number }}", "DocNo"))
    _p(doc, "{{ m.title }}", "DocTitle").paragraph_format.space_after = Pt(22)
    _p(doc, "{{ m.addressee }}：", "Normal")
    _p(doc, "你单位申报的“{{ m.project.name }}”（项目编号{{ m.project.id }}）已收悉。根据"
            "{% if m.plan_title %}{{ m.plan_title }}（{{ m.document }}）{% else %}{{ m.document }}{% endif %}，"
            "我们对该项目进行了新型城镇化政策符合性审查。现将审查意见函告如下。")
    _p(doc, "{{ m.headings['summary'] }}", "Heading 1")
    t = _table(doc, [27, 51, 27, 51])
    for label, value in (("项目名称", "{{ m.project.name }}"), ("申报单位", "{{ m.project.applicant }}")):
        row = _row(t, [label, value, "", ""], shade_cols=(0,))
        merged = row.cells[1].merge(row.cells[3])
        for extra in merged.paragraphs[1:]:
            extra._p.getparent().remove(extra._p)
    for row in (("项目编号", "{{ m.project.id }}", "项目类别", "{{ m.project.category }}"),
                ("所在县区", "{{ m.project.county }}", "所在镇街", "{{ m.project.town }}"),
                ("总投资", "{{ m.project.investment }}", "用地面积", "{{ m.project.land }}"),
                ("申报日期", "{{ m.project.submitted_on }}", "审查口径", "{{ m.as_of }}")):
        _row(t, list(row), shade_cols=(0, 2))
    _p(doc, "{{ m.headings['basis'] }}", "Heading 1").paragraph_format.space_before = Pt(8)
    _p(doc, "依据{% if m.plan_title %}{{ m.plan_title }}（{{ m.document }}）{% else %}{{ m.document }}{% endif %}"
            "{% for b in m.basis %}{{ b.cite }}{{ '、' if not loop.last else '。' }}{% endfor %}")
    for part, word in (("failed", "整改要求"), ("review", None)):
        _tag(doc, f"{{%p if m.{part} %}}")
        _p(doc, f"{{{{ m.headings['{part}'] }}}}", "Heading 1")
        _tag(doc, f"{{%p for i in m.{part} %}}")
        _p(doc, "{{ i.ordinal }}{{ i.clause }}“{{ i.measure_title }}”：{{ i.check_title }}", "Heading 2")
        _p(doc, "审查标准：{{ i.standard }}；申报情况：{{ i.value }}；审查结论：{{ i.verdict }}。")
        _tag(doc, "{%p if i.review_reasons %}")
        _p(doc, "须人工复核：{{ i.review_reasons | join('；') }}。" if part == "failed"
           else "复核原因：{{ i.review_reasons | join('；') }}。")
        _tag(doc, "{%p endif %}")
        if part == "failed":
            _p(doc, "方案原文：“{{ i.source_text }}”", "Quote")
            _p(doc, f"{word}：{{{{ i.requirement }}}}")
            _tag(doc, "{%p if i.interpretation %}")
            _p(doc, "适用说明：{{ i.interpretation }}")
            _tag(doc, "{%p endif %}")
        else:
            _p(doc, "{{ '补充要求' if i.status == 'insufficient_data' else '复核要求' }}：{{ i.requirement }}")
        _p(doc, "牵头部门：{{ i.lead_departments }}。")
        _tag(doc, "{%p endfor %}")
        _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if m.met %}")
    _p(doc, "{{ m.headings['met'] }}", "Heading 1")
    t = _table(doc, [21, 55, 44, 36])
    _row(t, ["条款", "审查项", "审查标准", "申报情况"], header=True)
    _loop_row(t, "{%tr for r in m.met %}")
    _row(t, ["{{ r.clause }}", "{{ r.check_title }}", "{{ r.standard }}", "{{ r.value }}"], center_cols=(0,))
    _loop_row(t, "{%tr endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if not m.rows %}")
    _p(doc, "该项目不在本方案量化审查标准的适用范围内。")
    _tag(doc, "{%p endif %}")
    heading = _p(doc, "{{ m.headings['conclusion'] }}", "Heading 1")
    heading.paragraph_format.space_before = Pt(8)
    _p(doc, "{{ m.conclusion_text }}", keep_next=True)
    _closing(doc)
    _tag(doc, "{%p if m.contact %}")
    _p(doc, "（{{ m.contact }}）").paragraph_format.space_before = Pt(14)
    _tag(doc, "{%p endif %}")
    meta = _p(doc, "审查口径日期：{{ m.as_of }}{% if m.run_id %}；评价批次：{{ m.run_id }}{% endif %}"
                   "{% if m.fingerprint %}；规则包版本：{{ m.fingerprint[:12] }}{% endif %}。"
                   "本意见书由规则程序依据{{ m.document }}生成，经审查单位核对后生效。", "Small")
    meta.paragraph_format.space_before = Pt(18)
    _save(doc, path)


# --- the notice ---------------------------------------------------------------------------------

def build_notice(path: Path) -> None:
    doc = _document()
    _p(doc, "{{ m.reviewer }}", "Masthead")
    _red_rule(_p(doc, "{{ m.scope_zh }}目标达标情况·统计口径截至{{ m.as_of }}", "DocNo"))
    _p(doc, "{{ m.title }}", "DocTitle").paragraph_format.space_after = Pt(22)
    _p(doc, "根据{% if m.plan_title %}{{ m.plan_title }}（{{ m.document }}）{% else %}{{ m.document }}{% endif %}，"
            "现将{{ m.name }}有关目标任务的达标情况通报如下。{{ m.summary }}")
    _p(doc, "一、需要加快推进的目标", "Heading 1")
    _tag(doc, "{%p if m.actions %}")
    _p(doc, "以下{{ m.actions | length }}项目标未达标或进度滞后，请牵头单位对照差距制定措施、加快推进。")
    t = _table(doc, [13, 55, 16, 17, 17, 16, 22])
    _row(t, ["序号", "目标任务（条款）", "{{ '年度' if m.one_subject else '对象' }}", "实际值", "目标值", "差距",
             "牵头单位"], header=True)
    _loop_row(t, "{%tr for i in m.actions %}")
    _row(t, ["{{ loop.index }}", "{{ i.check_title }}（{{ i.clause }}）；{{ i.status_zh }}；标准：{{ i.standard }}",
             "{% if not m.one_subject %}{{ i.subject }}{% endif %}{{ i.year }}年", "{{ i.value }}", "{{ i.target }}",
             "{{ i.gap }}", "{{ i.lead_departments if i.dept_rowspan else '' }}"], "TableSmall", center_cols=(0,))
    _loop_row(t, "{%tr endfor %}")
    _tag(doc, "{%p else %}")
    _p(doc, "各项适用目标均已达标或进度正常，未发现未达标或进度滞后的目标。")
    _tag(doc, "{%p endif %}")
    _p(doc, "二、已达标或进度正常的目标", "Heading 1").paragraph_format.space_before = Pt(8)
    _tag(doc, "{%p if m.met %}")
    t = _table(doc, [13, 85, 16, 21, 21])
    _row(t, ["序号", "目标任务（条款）", "{{ '年度' if m.one_subject else '对象' }}", "实际值", "目标值"], header=True)
    _loop_row(t, "{%tr for i in m.met %}")
    _row(t, ["{{ loop.index }}", "{{ i.check_title }}（{{ i.clause }}）",
             "{% if not m.one_subject %}{{ i.subject }}{% endif %}{{ i.year }}年", "{{ i.value }}", "{{ i.target }}"],
         "TableSmall", center_cols=(0,))
    _loop_row(t, "{%tr endfor %}")
    _tag(doc, "{%p else %}")
    _p(doc, "暂无已达标的目标。")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if chart_parts %}")
    _p(doc, "三、目标完成进度", "Heading 1").paragraph_format.space_before = Pt(8)
    _tag(doc, "{%p for c in chart_parts %}")
    pic = _p(doc, "{{ c }}", "Normal")
    pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pic.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if m.requests %}")
    _p(doc, "{{ '四' if chart_parts else '三' }}、资料报送要求", "Heading 1").paragraph_format.space_before = Pt(8)
    _p(doc, "另有{{ m.missing_items | length }}项目标因资料不足无法判定，请附件所列牵头单位补报相关数据。", keep_next=True)
    _tag(doc, "{%p endif %}")
    _p(doc, "特此通报。", keep_next=True)
    _tag(doc, "{%p if m.requests %}")
    _p(doc, "附件：资料报送清单", keep_next=True).paragraph_format.space_before = Pt(14)
    _tag(doc, "{%p endif %}")
    _closing(doc)
    _tag(doc, "{%p if m.contact %}")
    _p(doc, "（{{ m.contact }}）").paragraph_format.space_before = Pt(14)
    _tag(doc, "{%p endif %}")
    _p(doc, "本通报由规则程序依据{{ m.document }}生成{% if m.fingerprint %}（规则包版本{{ m.fingerprint[:12] }}）"
            "{% endif %}。完成度＝实际值÷目标值×100%（“不高于”类目标为目标值÷实际值），按期限目标的最终目标计算。",
       "Small").paragraph_format.space_before = Pt(18)
    _tag(doc, "{%p if m.requests %}")
    _p(doc, "附件", "Heading 1", page_break_before=True).paragraph_format.first_line_indent = Pt(0)
    _p(doc, "资料报送清单", "DocTitle").paragraph_format.space_after = Pt(12)
    t = _table(doc, [13, 34, 80, 29])
    _row(t, ["序号", "牵头单位", "需补报的数据", "{{ '涉及目标及年度' if m.one_subject else '涉及目标及对象' }}"], header=True)
    _loop_row(t, "{%tr for r in m.requests %}")
    _row(t, ["{{ r.index }}", "{{ r.departments }}", "{{ r.fields | join('、') }}",
             "{{ r.clauses }}共{{ r.n_targets }}项目标；{{ r.subjects }}"], "TableSmall", center_cols=(0,))
    _loop_row(t, "{%tr endfor %}")
    _tag(doc, "{%p endif %}")
    _save(doc, path)


if __name__ == "__main__":
    build_letter(HERE / "letter.docx")
    build_notice(HERE / "notice.docx")
    print(f"wrote {HERE / 'letter.docx'} and {HERE / 'notice.docx'}")
