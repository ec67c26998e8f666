"""The Jinja environment that lays models out: sandboxed, autoescaped for HTML, escaped for Markdown.

Templates are files under ``reports/templates/`` (package data, engine/resources.py) that a reviewer may edit; record data only ever
enters as variables, never as template source, so a project named ``{{ 7*7 }}`` is printed as written.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from pydantic import BaseModel

from engine import resources
from engine.render.punctuation import fullwidth

TEMPLATES_ENV = "COMPLIANCE_TEMPLATES"

# CommonMark escapes: any ASCII punctuation may be backslash-escaped; these are the ones that can
# start markup, links, HTML or break a table cell.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&!{}])")


def templates_dir(override: str | Path | None = None) -> Path:
    d = Path(override or os.environ.get(TEMPLATES_ENV) or resources.templates_dir())
    if not d.is_dir():
        raise FileNotFoundError(f"template folder not found: {d}")
    return d


def md_escape(value: Any) -> str:
    """Text safe inside Markdown (also inside a table cell): one line, markup characters escaped."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # a leading 1. / - / + would start a list
    return re.sub(r"^(\d+)\.(?=\s|$)", r"\1\\.", re.sub(r"^([-+])", r"\\\1", text))


def display(value: Any) -> Any:
    """Every printed value: Chinese text with full-width punctuation (markup built by us passes as is)."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return fullwidth(value)


@lru_cache(maxsize=8)
def environment(folder: str) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "svg"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=display,
    )
    env.filters["md"] = md_escape
    return env


def render(template: str, model: BaseModel, folder: str | Path | None = None, **extra: Any) -> str:
    env = environment(str(templates_dir(folder)))
    return env.get_template(template).render(m=model, **extra)
