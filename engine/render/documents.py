"""A letter or notice model -> the bytes of one file format."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from markupsafe import Markup

from engine.render import charts
from engine.render.docx import render_docx
from engine.render.letters import LetterModel
from engine.render.notices import NoticeModel
from engine.render.pdf import html_to_pdf
from engine.render.templates import render, templates_dir

Format = Literal["html", "md", "docx", "pdf"]
FORMATS: tuple[Format, ...] = ("html", "md", "docx", "pdf")


def render_letter(model: LetterModel, fmt: Format, templates: str | Path | None = None) -> bytes:
    if fmt == "md":
        return render("letter.md.j2", model, templates).encode()
    if fmt == "docx":
        return render_docx("letter.docx", model, templates)
    html = render("letter.html.j2", model, templates)
    return html.encode() if fmt == "html" else html_to_pdf(html, templates_dir(templates))


def render_notice(model: NoticeModel, fmt: Format, templates: str | Path | None = None) -> bytes:
    if fmt == "md":
        return render("notice.md.j2", model, templates).encode()
    if fmt == "docx":
        return render_docx("notice.docx", model, templates, chart_parts=model.chart_pages)
    # The SVG is built from escaped labels in charts.svg, so it may go into the page as markup.
    parts = [
        Markup(charts.svg(part, title=charts.TITLE + (f"(续{i})" if i else "")))
        for i, part in enumerate(model.chart_pages)
    ]
    html = render("notice.html.j2", model, templates, charts=parts)
    return html.encode() if fmt == "html" else html_to_pdf(html, templates_dir(templates))
