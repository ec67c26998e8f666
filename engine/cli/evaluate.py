"""`compliance evaluate FILE...`: read -> validate -> evaluate -> print."""

from __future__ import annotations

import datetime as dt

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE, fail, policy_or_exit, rules_option
from engine.cli.output import FORMATS, CsvWriter, status_counts, write_json, write_table
from engine.evaluation.evaluate import Evaluator
from engine.records.intake import load_records


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for people; json (one object per finding per line) or csv for programs.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Judge with the rules in force on this date instead of each record's own date.")
@click.option("--kind", type=str, default=None,
              help="Subject kind of records whose file has no 类型 column (project, town, county, city, ...).")
@click.option("--engine", "engine_name", type=click.Choice(["durable", "python"]), default="durable", hidden=True)
@rules_option
def evaluate(files: tuple[str, ...], fmt: str, as_of: dt.datetime | None, kind: str | None,
             engine_name: str, rules_dirs: tuple[str, ...]) -> None:
    """Evaluate record files (JSON, JSON Lines, YAML, CSV, XLSX) against the policy."""
    policy = policy_or_exit(rules_dirs)
    if kind is not None and policy.catalog.resolve_kind(kind) is None:
        fail(f"unknown kind {kind!r}; known: {', '.join(policy.catalog.kinds)}")
    kind = policy.catalog.resolve_kind(kind) if kind else None
    paths = _expand(files)
    if not paths:
        fail("no record files found")
    intake = load_records(paths, policy.catalog, kind)
    for w in intake.warnings:
        click.echo(f"提示 warning: {w}", err=True)
    for p in intake.file_problems:
        click.echo(f"文件错误 file error: {p}", err=True)
    for e in intake.errors:
        click.echo(f"记录错误 rejected: {e}", err=True)
    result = Evaluator(policy, engine_name).evaluate(intake.records, as_of=as_of.date() if as_of else None)  # type: ignore[arg-type]
    for n in result.notices:
        click.echo(f"提示 notice: {n.source}: record {n.record_id}: {n.message}", err=True)
    if fmt == "json":
        write_json(result.findings)
    elif fmt == "csv":
        CsvWriter().write(result.findings)
    else:
        write_table(result.findings)
    counts = status_counts(result.findings)
    rejected = len(intake.errors)
    click.echo(f"记录 records: {len(intake.records)} valid, {rejected} rejected, "
               f"{len(intake.file_problems)} unusable file(s); findings: "
               + ", ".join(f"{k} {v}" for k, v in counts.items() if v), err=True)
    if not intake.records:
        raise SystemExit(EXIT_UNUSABLE)
    raise SystemExit(EXIT_PARTIAL if (rejected or intake.file_problems) else EXIT_OK)


def _expand(files: tuple[str, ...]) -> list[str]:
    """A folder stands for the record files in it (recursively), in a stable order."""
    from pathlib import Path

    from engine.records.readers import SUFFIXES

    out: list[str] = []
    for f in files:
        p = Path(f)
        if p.is_dir():
            out.extend(str(q) for q in sorted(p.rglob("*")) if q.is_file() and q.suffix.lower() in SUFFIXES)
        else:
            out.append(f)
    return out
