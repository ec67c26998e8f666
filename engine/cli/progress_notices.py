"""`compliance notice`: render the 达标情况通报 (progress toward every target) of a town, a county
or the city from stored (or freshly evaluated) judgements.

Wiring only: models are built in engine.render. The options it shares with `compliance letter` are
in engine.cli.documents.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from engine.cli.common import EXIT_OK, fail, policy_or_exit
from engine.cli.documents import (
    SUFFIX,
    check_pdf,
    document_options,
    judge_files,
    office_or_exit,
    plan_titles,
    write_files,
)
from engine.render.documents import Format, render_notice
from engine.render.files import output_path, safe_stem
from engine.render.notices import Scope, Subject, build_notice
from engine.render.stored import Judgement
from engine.store.database import StoreError


@click.command("notice")
@click.argument("scope", type=click.Choice(["town", "county", "city"]))
@click.argument("name")
@document_options
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
    office = office_or_exit(office_name)
    formats = fmt  # -f/--format, repeatable
    check_pdf(formats)
    policy = policy_or_exit(rules_dirs)
    kinds = {"town", "county", "city"}
    if inputs:
        judgements = [j for j in judge_files(inputs, policy) if j.kind in kinds]
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
            plan_titles=plan_titles(policy),
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
    write_files(files)
    for path, _ in files:
        click.echo(str(path))
    raise SystemExit(EXIT_OK)


def _in_scope(j: Judgement, scope: str, name: str) -> bool:
    from engine.render.notices import select_subjects

    s = Subject(id=j.record_id, kind=j.kind, name=j.name, county=_str(j.values.get("county")))
    return bool(select_subjects([s], scope, name))  # type: ignore[arg-type]


def _str(v: object) -> str | None:
    return None if v is None else str(v)
