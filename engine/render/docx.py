"""DOCX through docxtpl: the Word templates in reports/templates/ filled in a sandboxed Jinja.

Autoescape is on, so '<', '&' in record data stay text in the document XML; the data itself is never
parsed as a template.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from engine.render import charts
from engine.render.templates import templates_dir


def render_docx(template: str, model: BaseModel, folder: str | Path | None = None,
                chart: list[charts.ChartItem] | None = None) -> bytes:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    tpl = DocxTemplate(str(templates_dir(folder) / template))
    context: dict[str, Any] = {"m": model}
    if chart is not None:
        context["chart"] = InlineImage(tpl, io.BytesIO(charts.png(chart)), width=Mm(230)) if chart else "(无可绘制的数值目标)"
    env = SandboxedEnvironment(autoescape=True)
    tpl.render(context, jinja_env=env, autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()
