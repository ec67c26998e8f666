"""What `compliance letter` and `compliance notice` share: their options, judgements of files
evaluated now, the reviewing office, the PDF check and writing the files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from engine.cli.common import fail, retired_option, rules_option
from engine.policy.config import ConfigError
from engine.policy.policy import Policy
from engine.render.documents import FORMATS
from engine.render.files import OutputError, write_all
from engine.render.office import OfficeSettings, load_office
from engine.render.pdf import PdfUnavailable, ensure_pdf_possible
from engine.render.stored import Judgement

SUFFIX = {"html": "html", "md": "md", "docx": "docx", "pdf": "pdf"}


def document_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from engine.cli.store import db_option

    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--format",
            "-f",
            "fmt",
            multiple=True,
            type=click.Choice(FORMATS),
            default=("html",),
            show_default=True,
            help="Output format (repeatable: -f html -f pdf).",
        ),
        click.option(
            "-o",
            "--output",
            "output",
            type=click.Path(file_okay=False),
            default=".",
            show_default=True,
            help="Folder to write into (created if missing).",
        ),
        click.option(
            "--from",
            "inputs",
            multiple=True,
            type=click.Path(exists=True),
            help="Evaluate these record files (repeatable) instead of reading the store; "
            "nothing is numbered in or recorded to the store.",
        ),
        click.option(
            "--run",
            "run_id",
            type=int,
            default=None,
            help="Stored run to read (default: the latest run that judged the record).",
        ),
        click.option(
            "--office",
            "office_name",
            default=None,
            help="审查单位 reviewing office: masthead and signature (default: [office] name in "
            "compliance.toml, $COMPLIANCE_OFFICE_NAME, else 菏泽市推进新型城镇化工作领导小组办公室).",
        ),
        # --reviewer is the person in `evaluate` (审查人); here the office was meant: one meaning per name.
        retired_option("--reviewer", "--office", "审查单位用 --office;--reviewer 只用于 evaluate,表示审查人"),
        click.option(
            "--date",
            "date",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            default=None,
            help="Date printed on the document (default: the date of the evaluation).",
        ),
        click.option(
            "--templates",
            type=click.Path(file_okay=False, exists=True),
            default=None,
            help="Template folder (default reports/templates or $COMPLIANCE_TEMPLATES).",
        ),
        db_option,
        rules_option,
    ]
    for o in reversed(options):
        f = o(f)
    return f


def plan_titles(policy: Policy) -> dict[str, str]:
    return {p.pack.meta.number: p.pack.meta.title for p in policy.packs}


def judge_files(inputs: Sequence[str], policy: Policy) -> list[Judgement]:
    """Evaluate files now; one Judgement per valid record (input order). Rejections go to stderr."""
    from engine.pipeline.stream import evaluate_files

    today = dt.date.today()
    out: list[Judgement] = []
    from engine.records.readers import record_files

    for chunk in evaluate_files(record_files(inputs), policy):
        for e in chunk.errors:
            click.echo(f"记录错误 rejected: {e}", err=True)
        for p in chunk.file_problems:
            click.echo(f"文件错误 file error: {p}", err=True)
        by_record: dict[tuple[str, str], list] = {}
        for f in chunk.findings:
            by_record.setdefault((f.kind, f.record_id), []).append(f)
        for r in chunk.records:
            out.append(
                Judgement(
                    run_id=0,
                    run_date=today,
                    fingerprint=policy.fingerprint,
                    record_id=r.id,
                    kind=r.kind,
                    period=str(r.values.get("report_year") or ""),
                    name=r.name,
                    values=r.values,
                    findings=by_record.get((r.kind, r.id), []),
                )
            )
    return out


def check_pdf(formats: Sequence[str]) -> None:
    if "pdf" in formats:
        try:
            ensure_pdf_possible()
        except PdfUnavailable as exc:
            fail(str(exc))


def office_or_exit(office_name: str | None, prefix: str | None = None) -> OfficeSettings:
    try:
        return load_office().with_overrides(name=office_name, prefix=prefix)
    except (ConfigError, ValueError) as exc:
        fail(f"审查单位设置 office settings: {exc}")


def write_files(files: list[tuple[Path, bytes]]) -> None:
    try:
        write_all(files)
    except OutputError as exc:
        fail(str(exc.strerror))
