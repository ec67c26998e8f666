"""DOCX through docxtpl: the Word templates in reports/templates/ filled in a sandboxed Jinja.

Autoescape is on, so '<', '&' in record data stay text in the document XML; the data itself is never
parsed as a template. After filling, ``finish`` sets what Word shows under File > Properties (the
office as author, the date of the document, its title) instead of python-docx's placeholders, sizes the
masthead to the office's name, and merges the lead-department cells the notice's action table shares.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from engine.render import charts
from engine.render.templates import display, templates_dir

TEXT_WIDTH_MM = 156  # GB/T 9704 type area


def render_docx(
    template: str,
    model: BaseModel,
    folder: str | Path | None = None,
    chart_parts: list[list[charts.ChartItem]] | None = None,
) -> bytes:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    tpl = DocxTemplate(str(templates_dir(folder) / template))
    context: dict[str, Any] = {"m": model}
    if chart_parts is not None:
        context["chart_parts"] = [
            InlineImage(
                tpl,
                io.BytesIO(charts.png(part, title=charts.TITLE + (f"(续{i})" if i else ""))),
                width=Mm(TEXT_WIDTH_MM),
            )
            for i, part in enumerate(chart_parts)
        ]
    env = SandboxedEnvironment(autoescape=True, finalize=display)
    tpl.render(context, jinja_env=env, autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return finish(buf.getvalue(), model)


def _masthead_pt(name: str) -> float:
    """The office name on one line of the 156 mm type area, at most 36 pt (小标宋 masthead)."""
    return min(36.0, int(420 / max(len(name), 1) * 2) / 2)


def finish(data: bytes, model: BaseModel) -> bytes:
    import docx
    from docx.shared import Pt

    d = docx.Document(io.BytesIO(data))
    office = str(getattr(model, "reviewer", "") or "")
    day = getattr(model, "issued_on", None) or dt.date.today()
    when = dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC)
    cp = d.core_properties
    cp.author = office
    cp.last_modified_by = office
    cp.title = f"{getattr(model, 'title', '')} {getattr(model, 'number', '')}".strip()
    cp.subject = str(getattr(model, "document", "") or "")
    cp.comments = ""
    cp.keywords = ""
    cp.category = "审查意见书" if hasattr(model, "number") else "达标情况通报"
    cp.language = "zh-CN"
    cp.created = when
    cp.modified = when
    cp.last_printed = when
    cp.revision = 1
    for p in d.paragraphs:
        if p.style is not None and p.style.name == "Masthead":
            for r in p.runs:
                r.font.size = Pt(_masthead_pt(p.text))
            break
    _merge_departments(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _merge_departments(d: Any) -> None:
    """In the notice's action table, an empty 牵头单位 cell continues the one above: merge them."""
    for t in d.tables:
        header = [c.text for c in t.rows[0].cells] if t.rows else []
        if not header or header[-1] != "牵头单位":
            continue
        rows = list(t.rows)[1:]
        i = 0
        while i < len(rows):
            j = i + 1
            while j < len(rows) and rows[j].cells[-1].text == "":
                j += 1
            if j - 1 > i and rows[i].cells[-1].text:
                merged = rows[i].cells[-1].merge(rows[j - 1].cells[-1])
                for extra in merged.paragraphs[1:]:
                    if not extra.text:
                        extra._p.getparent().remove(extra._p)
            i = j
