"""`compliance letter`: render stored (or freshly evaluated) judgements to compliance letters.

Wiring only: models are built in engine.render, numbers and the register of letters live in the store.
The options it shares with `compliance notice` are in engine.cli.documents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, fail, policy_or_exit, retired_option
from engine.cli.documents import (
    SUFFIX,
    check_pdf,
    document_options,
    judge_files,
    office_or_exit,
    plan_titles,
    write_files,
)
from engine.render.documents import Format, render_letter
from engine.render.files import output_path, safe_stem
from engine.render.letters import build_letter
from engine.render.numbering import LetterBook, LocalBook, StoreBook
from engine.render.stored import Judgement
from engine.store.database import StoreError
from engine.store.letters import judgement_fingerprint


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
@document_options
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
    office = office_or_exit(office_name, prefix)
    formats = fmt  # -f/--format, repeatable
    check_pdf(formats)
    policy = policy_or_exit(rules_dirs)
    store = None
    if inputs:
        judgements = [j for j in judge_files(inputs, policy) if j.kind == kind]
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
                plan_titles=plan_titles(policy),
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
            write_files(files)  # all or nothing; on failure the number is not used up
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
