"""`compliance evaluate FILE...`: read -> validate -> evaluate -> print."""

from __future__ import annotations

import datetime as dt

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE, fail, policy_or_exit, rules_option
from engine.cli.output import FORMATS, CsvWriter, status_counts, write_json, write_table
from engine.evaluation.stream import evaluate_files


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
    findings_for_table: list = []
    csv_writer = CsvWriter() if fmt == "csv" else None
    counts: dict[str, int] = {}
    n_valid = n_rejected = n_file_problems = 0
    for chunk in evaluate_files(paths, policy, kind=kind, as_of=as_of.date() if as_of else None,
                                engine=engine_name):  # type: ignore[arg-type]
        for w in chunk.warnings:
            click.echo(f"提示 warning: {w}", err=True)
        for p in chunk.file_problems:
            click.echo(f"文件错误 file error: {p}", err=True)
        for e in chunk.errors:
            click.echo(f"记录错误 rejected: {e}", err=True)
        for n in chunk.notices:
            click.echo(f"提示 notice: {n.source}: record {n.record_id}: {n.message}", err=True)
        n_valid += len(chunk.records)
        n_rejected += len(chunk.errors)
        n_file_problems += len(chunk.file_problems)
        for status, n in status_counts(chunk.findings).items():
            counts[status] = counts.get(status, 0) + n
        if fmt == "json":
            write_json(chunk.findings)
        elif csv_writer is not None:
            csv_writer.write(chunk.findings)
        else:
            findings_for_table.extend(chunk.findings)
    if fmt == "table":
        write_table(findings_for_table)
    click.echo(f"记录 records: {n_valid} valid, {n_rejected} rejected, {n_file_problems} unusable file(s); "
               "findings: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v), err=True)
    if not n_valid:
        raise SystemExit(EXIT_UNUSABLE)
    raise SystemExit(EXIT_PARTIAL if (n_rejected or n_file_problems) else EXIT_OK)


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
