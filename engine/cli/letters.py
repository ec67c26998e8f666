"""`compliance letter` and `compliance notice`: render stored (or freshly evaluated) judgements to files.

Wiring only: models are built in engine.render, numbers and the register of letters live in the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, fail, policy_or_exit, retired_option, rules_option
from engine.policy.config import ConfigError
from engine.policy.policy import Policy
from engine.render.documents import FORMATS, Format, render_letter, render_notice
from engine.render.files import OutputError, output_path, safe_stem, write_all
from engine.render.letters import build_letter
from engine.render.notices import Scope, Subject, build_notice
from engine.render.numbering import LetterBook, LocalBook, StoreBook
from engine.render.office import OfficeSettings, load_office
from engine.render.pdf import PdfUnavailable, ensure_pdf_possible
from engine.render.stored import Judgement
from engine.store.database import StoreError
from engine.store.letters import judgement_fingerprint

SUFFIX = {"html": "html", "md": "md", "docx": "docx", "pdf": "pdf"}


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
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


def _titles(policy: Policy) -> dict[str, str]:
    return {p.pack.meta.number: p.pack.meta.title for p in policy.packs}


def _evaluate(inputs: Sequence[str], policy: Policy) -> list[Judgement]:
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


def _check_pdf(formats: Sequence[str]) -> None:
    if "pdf" in formats:
        try:
            ensure_pdf_possible()
        except PdfUnavailable as exc:
            fail(str(exc))


def _office(office_name: str | None, prefix: str | None = None) -> OfficeSettings:
    try:
        return load_office().with_overrides(name=office_name, prefix=prefix)
    except (ConfigError, ValueError) as exc:
        fail(f"审查单位设置 office settings: {exc}")


def _write_files(files: list[tuple[Path, bytes]]) -> None:
    try:
        write_all(files)
    except OutputError as exc:
        fail(str(exc.strerror))


@click.command("letter")
@click.argument("record_id", required=False)
@click.option(
    "--every-project",
    "all_records",
    is_flag=True,
    help="每个项目一份 A letter for every project of the run (or of --from files).",
)
@retired_option("--all", "--every-project", "为每个项目出具意见书")
@click.option("--kind", default="project", show_default=True, hidden=True)
@click.option(
    "--prefix",
    default=None,
    help="Letter number prefix (文号前缀; default: [office] prefix in compliance.toml, "
    "$COMPLIANCE_LETTER_PREFIX, else 菏城审).",
)
@click.option(
    "--number-start",
    type=int,
    default=1,
    show_default=True,
    help="With --from: first sequence number (numbers are otherwise taken from the store).",
)
@_common
def letter(
    record_id: str | None,
    all_records: bool,
    kind: str,
    prefix: str | None,
    number_start: int,
    fmt: tuple[Format, ...],
    output: str,
    inputs: tuple[str, ...],
    run_id: int | None,
    office_name: str | None,
    date: dt.datetime | None,
    templates: str | None,
    db: str | None,
    rules_dirs: tuple[str, ...],
) -> None:
    """审查意见书: write the compliance letter of RECORD_ID (or --every-project) as html, md, docx and/or pdf.

    Re-rendering the letter of the same judgement (any format) reuses its number; a number is only
    used up once every file of the letter is written.
    """
    if bool(record_id) == all_records:
        fail("请给出一个记录编号或 --every-project(二者不能同时给出) give a RECORD_ID or --every-project")
    office = _office(office_name, prefix)
    formats = fmt  # -f/--format, repeatable
    _check_pdf(formats)
    policy = policy_or_exit(rules_dirs)
    store = None
    if inputs:
        judgements = [j for j in _evaluate(inputs, policy) if j.kind == kind]
        if record_id:
            judgements = [j for j in judgements if j.record_id == record_id]
            if not judgements:
                fail(
                    f"记录 {record_id}({kind})不在 --from 文件的有效记录中 (not among the valid records of the --from files)"
                )
        book: LetterBook = LocalBook(number_start)
    else:
        from engine.cli.store import open_store
        from engine.render.stored import latest_judgement, latest_run_id, run_judgements

        store = open_store(db)
        try:
            if record_id:
                judgements = [latest_judgement(store, policy, record_id, run_id=run_id, kind=kind)]
            else:
                rid = run_id if run_id is not None else latest_run_id(store)
                judgements = list(run_judgements(store, policy, rid, kinds={kind}))
        except StoreError as exc:
            fail(f"存储 store: {exc}")
        if judgements and judgements[0].fingerprint != policy.fingerprint:
            click.echo(
                "提示 warning: the rule packs changed since that run; letters quote the rule text loaded now",
                err=True,
            )
        book = StoreBook(store)
    if not judgements:
        fail("没有可出具意见书的项目记录 no project records to write letters for")
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    problems = 0
    written: list[Path] = []

    def one(j: Judgement) -> None:
        nonlocal problems
        if not j.findings:
            click.echo(f"提示 skipped: record {j.record_id} has no findings (not judged)", err=True)
            problems += 1
            return
        day = date.date() if date else j.run_date
        formats_once = list(dict.fromkeys(formats))
        try:
            one_letter(j, day, formats_once)
        except StoreError as exc:
            fail(f"存储 store: {exc}")

    def one_letter(j: Judgement, day: dt.date, formats_once: list[Format]) -> None:
        with book.issue(office.prefix, day.year, j, judgement_fingerprint(j.findings)) as issue:
            model = build_letter(
                j.findings,
                record_id=j.record_id,
                name=j.name,
                values=j.values,
                number=issue.number,
                date=day,
                reviewer=office.name,
                signature=office.signature_lines,
                contact=office.contact,
                plan_titles=_titles(policy),
                run_id=str(j.run_id) if j.run_id else None,
                fingerprint=j.fingerprint,
            )
            files = [
                (
                    output_path(folder, safe_stem(issue.number, j.record_id), SUFFIX[fmt]),
                    render_letter(model, fmt, templates),
                )
                for fmt in formats_once
            ]
            _write_files(files)  # all or nothing; on failure the number is not used up
            for fmt, (path, data) in zip(formats_once, files, strict=True):
                issue.record(fmt, hashlib.sha256(data).hexdigest(), str(path))
                written.append(path)

    if all_records:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("审查意见书 letters"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        ) as progress:
            task = progress.add_task("letters", total=len(judgements))
            for j in judgements:
                one(j)
                progress.advance(task)
    else:
        one(judgements[0])
    for p in written:
        click.echo(str(p))
    where = "recorded in the store" if store is not None else "not recorded (--from)"
    click.echo(
        f"审查意见书 letters: {len(written)} file(s) for {len(judgements) - problems} record(s), {where}",
        err=True,
    )
    raise SystemExit(EXIT_PARTIAL if problems else EXIT_OK)


@click.command("notice")
@click.argument("scope", type=click.Choice(["town", "county", "city"]))
@click.argument("name")
@_common
def notice(
    scope: Scope,
    name: str,
    fmt: tuple[Format, ...],
    output: str,
    inputs: tuple[str, ...],
    run_id: int | None,
    office_name: str | None,
    date: dt.datetime | None,
    templates: str | None,
    db: str | None,
    rules_dirs: tuple[str, ...],
) -> None:
    """达标情况通报: progress toward every target of a town, county or the city (NAME as in the records)."""
    office = _office(office_name)
    formats = fmt  # -f/--format, repeatable
    _check_pdf(formats)
    policy = policy_or_exit(rules_dirs)
    kinds = {"town", "county", "city"}
    if inputs:
        judgements = [j for j in _evaluate(inputs, policy) if j.kind in kinds]
    else:
        from engine.cli.store import open_store
        from engine.render.stored import run_judgements
        from engine.store import list_runs

        store = open_store(db)
        try:
            runs = (
                [run_id]
                if run_id is not None
                else [r.id for r in reversed(list_runs(store)) if r.finished_at]
            )
            judgements = []
            fallback: list[Judgement] = []
            for rid in runs:  # the latest run that judged a record of this scope
                js = list(run_judgements(store, policy, rid, kinds=kinds))
                fallback = fallback or js  # to name the known subjects if NAME is in no run
                if any(_in_scope(j, scope, name) for j in js):
                    judgements = js
                    break
            judgements = judgements or fallback
        except StoreError as exc:
            fail(f"存储 store: {exc}")
    subjects = [
        Subject(id=j.record_id, kind=j.kind, name=j.name, county=_str(j.values.get("county")))
        for j in judgements
    ]
    findings = [f for j in judgements for f in j.findings]
    day = date.date() if date else (max(j.run_date for j in judgements) if judgements else dt.date.today())
    try:
        model = build_notice(
            findings,
            subjects,
            scope=scope,
            name=name,
            date=day,
            reviewer=office.name,
            signature=office.signature_lines,
            contact=office.contact,
            plan_titles=_titles(policy),
            fingerprint=judgements[0].fingerprint if judgements else None,
        )
    except LookupError as exc:
        known = sorted({s.name or s.id for s in subjects if s.kind == scope})
        fail(f"{exc}" + (f";可选:{'、'.join(known)}" if known else ""))
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    files = [
        (
            output_path(folder, safe_stem("达标情况通报", scope, name, day.isoformat()), SUFFIX[fmt]),
            render_notice(model, fmt, templates),
        )
        for fmt in dict.fromkeys(formats)
    ]
    _write_files(files)
    for path, _ in files:
        click.echo(str(path))
    raise SystemExit(EXIT_OK)


def _in_scope(j: Judgement, scope: str, name: str) -> bool:
    from engine.render.notices import select_subjects

    s = Subject(id=j.record_id, kind=j.kind, name=j.name, county=_str(j.values.get("county")))
    return bool(select_subjects([s], scope, name))  # type: ignore[arg-type]


def _str(v: object) -> str | None:
    return None if v is None else str(v)
