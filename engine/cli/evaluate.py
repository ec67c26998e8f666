"""`compliance evaluate FILE...`: read -> validate -> evaluate -> print."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE, fail, policy_or_exit, rules_option
from engine.cli.output import FORMATS, CsvWriter, write_json, write_table
from engine.cli.progress import Progress
from engine.pipeline.stream import DEFAULT_CHUNK, evaluate_files
from engine.policy.schema import STATUS_ZH

if TYPE_CHECKING:
    from engine.cli.store import RunRecorder

# The store (SQLAlchemy, Alembic) is imported only when a run is stored, so `--no-store` starts fast;
# hence --db is declared here with the store's names (engine/store/database.py ENV_VAR, DEFAULT_DB_FILE;
# tests/test_stream_cli.py checks they agree).
_DB_ENV, _DB_FILE = "COMPLIANCE_DB", "compliance.db"


def db_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--db", "db", envvar=_DB_ENV, default=None, metavar="URL",
                        help=f"Store: a database URL (sqlite:///path, postgresql+psycopg://…) or an SQLite file; "
                             f"default ${_DB_ENV}, else ./{_DB_FILE}.")(f)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for people; json (one object per finding per line) or csv for programs; "
                   "summary prints only the counts (the findings are in the store).")
@click.option("--as-of", "--review-date", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="审查日期 The day of review (default: today). A year that has not ended by then is judged on "
                   "pace (进度正常/进度滞后), never finally. It never moves a record out of the period it reports on: "
                   "each record is judged by the rules in force on its own date.")
@click.option("--rules-date", "rules_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="适用规则日期 Judge every record by the rules in force on this date instead of its own date "
                   "(to see how a changed rule would have judged; rarely wanted).")
@click.option("--kind", type=str, default=None,
              help="Subject kind of records whose file has no 类型 column (project, town, county, city, ...).")
@click.option("--engine", "engine_name", type=click.Choice(["durable", "python"]), default="durable", hidden=True)
@rules_option
@db_option
@click.option("--no-store", is_flag=True, help="Do not keep this evaluation in the store.")
@click.option("--reviewer", default=None, help="审查人 recorded with the run (default: the OS user).")
@click.option("--resume", "resume", type=int, default=None, metavar="RUN",
              help="Finish an interrupted run: same files and settings, skipping the chunks already stored.")
@click.option("--chunk-size", type=click.IntRange(1), default=DEFAULT_CHUNK, show_default=True,
              help="Records evaluated (and stored) together; memory grows with it, not with the file.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=None,
              help="Worker processes evaluating chunks in parallel [default: number of cores].")
@click.option("--progress/--quiet", "progress", default=None,
              help="Progress bar on stderr (default: only when stderr is a terminal).")
def evaluate(files: tuple[str, ...], fmt: str, as_of: dt.datetime | None, rules_date: dt.datetime | None,
             kind: str | None,
             engine_name: str, rules_dirs: tuple[str, ...], db: str | None, no_store: bool,
             reviewer: str | None, resume: int | None, chunk_size: int, jobs: int | None,
             progress: bool | None) -> None:
    """Evaluate record files (JSON, JSON Lines, YAML, CSV, XLSX) against the policy; store the run."""
    recorder: RunRecorder | None = None
    if resume is not None or not no_store:
        from engine.cli.store import RunRecorder
    if resume is not None:
        if files or as_of or rules_date or kind or rules_dirs or no_store:
            fail("--resume continues a stored run with its own files, --as-of, --kind and --rules; give none")
        store, plan = RunRecorder.plan(db, resume)
        files, kind, rules_dirs = tuple(plan.paths), plan.kind, tuple(plan.rules_dirs)
        as_of = dt.datetime.combine(plan.as_of, dt.time()) if plan.as_of else None
        engine_name, chunk_size = plan.engine, plan.chunk_size
    if not files:
        fail("no record files given")
    policy = policy_or_exit(rules_dirs)
    if resume is not None:
        recorder = RunRecorder.resume(store, plan, policy)
    if kind is not None and policy.catalog.resolve_kind(kind) is None:
        fail(f"unknown kind {kind!r}; known: {', '.join(policy.catalog.kinds)}")
    kind = policy.catalog.resolve_kind(kind) if kind else None
    from engine.records.readers import record_files

    paths = record_files(files)
    if not paths:
        fail("no record files found")
    if recorder is None and not no_store:
        recorder = RunRecorder.begin(db, policy, paths=paths, reviewer=reviewer,
                                     as_of=as_of.date() if as_of else None, kind=kind, chunk_size=chunk_size,
                                     engine_name=engine_name, rules_dirs=rules_dirs)
    findings_for_table: list = []
    csv_writer = CsvWriter() if fmt == "csv" else None
    counts: dict[str, int] = {}
    n_valid = n_rejected = n_file_problems = n_baseline = 0
    rejected_rows: set[tuple[str, str | None, int | None]] = set()
    n_read = n_blank = n_left_out = n_sheets = 0  # n_sheets: errors of a whole sheet, not of a row
    tallied = False
    bar = Progress.start(paths, progress)
    n_jobs = _jobs(jobs, paths, chunk_size)
    # With workers, each stores the chunks it evaluates (the parent would be the bottleneck); the
    # findings come back only when they are printed.
    # Earlier reports and lower records already in the store: baselines and counts read them.
    stored = []
    if recorder is not None:
        from engine.pipeline.context import stored_context

        stored = stored_context(recorder.store, policy)
    store_to = recorder.hand_over() if recorder is not None and n_jobs > 1 else None
    chunks = evaluate_files(paths, policy, kind=kind, as_of=as_of.date() if as_of else None,
                            engine=engine_name, chunk_size=chunk_size,  # type: ignore[arg-type]
                            skip_chunks=recorder.skip if recorder else frozenset(),
                            jobs=n_jobs, store_to=store_to, keep_findings=fmt != "summary",
                            rules_date=rules_date.date() if rules_date else None, stored=stored)
    for chunk in recorder.guard(chunks) if recorder is not None else chunks:
        bar.advance(chunk)
        if recorder is not None:
            recorder.save(chunk)
        for w in chunk.warnings:
            click.echo(f"提示 warning: {w}", err=True)
        for p in chunk.file_problems:
            click.echo(f"文件错误 file error: {p}", err=True)
        for e in chunk.errors:
            click.echo(f"记录错误 rejected: {e}", err=True)
        for n in chunk.notices:
            click.echo(f"提示 notice: {n.source}: record {n.record_id}: {n.message}", err=True)
            n_baseline += n.category == "baseline"
        n_valid += len(chunk.records)
        n_rejected += len(chunk.errors)
        n_left_out += sum(1 for e in chunk.errors if not e.row_rejected)
        n_sheets += sum(1 for e in chunk.errors if e.row_rejected and e.source.row is None)
        rejected_rows.update((e.source.file, e.source.sheet, e.source.row) for e in chunk.errors
                             if e.row_rejected and e.source.row is not None)
        for t in getattr(chunk, "tallies", None) or ():
            tallied = True
            n_read += t.rows_read
            n_blank += t.blank_rows
        n_file_problems += len(chunk.file_problems)
        for status, n in chunk.status_counts().items():
            counts[status] = counts.get(status, 0) + n
        if fmt == "json":
            write_json(chunk.findings)
        elif csv_writer is not None:
            csv_writer.write(chunk.findings)
        elif fmt == "table":
            findings_for_table.extend(chunk.findings)
    bar.stop()
    if recorder is not None:
        recorder.finish()
    if fmt == "table":
        write_table(findings_for_table)
    click.echo(f"记录 records: {n_valid} valid, {len(rejected_rows)} rejected, {n_left_out} field error(s) (field left "
               f"out, record evaluated), {n_file_problems} unusable file(s)"
               + (f", {n_sheets} unusable sheet(s)" if n_sheets else "") + "; "
               "findings: " + ", ".join(f"{k} {counts[k]}" for k in STATUS_ZH if counts.get(k)), err=True)
    if tallied:
        # Every row is accounted for: evaluated, rejected (named above with file, row and field) or blank.
        click.echo(f"读取 {n_read} 行 = 评价 {n_valid} + 拒收 {len(rejected_rows)} + 空行 {n_blank} "
                   f"(rows read = evaluated + rejected + blank)", err=True)
    if not n_valid:
        raise SystemExit(EXIT_UNUSABLE)
    if not sum(counts.values()) and n_baseline == n_valid and recorder is not None:
        # Reports on years before the plan, kept in the store: the trajectories of later runs start there.
        click.echo(f"提示 notice: 全部 {n_valid} 条记录为基期数据,不单独评判;已存入审查记录库,供以后评价测算进度和与往年比较 "
                   "(all records are baselines, stored for later runs; nothing to judge)", err=True)
        raise SystemExit(EXIT_PARTIAL if (n_rejected or n_file_problems) else EXIT_OK)
    if not sum(counts.values()):
        click.echo(f"错误 error: 无法作出任何审查结论:{n_valid} 条记录均未得到结论(原因见上方各记录的提示,如缺少日期或日期不在"
                   "任何政策的有效期内) nothing could be judged: no record got any finding", err=True)
        raise SystemExit(EXIT_UNUSABLE)
    raise SystemExit(EXIT_PARTIAL if (n_rejected or n_file_problems) else EXIT_OK)


def _jobs(asked: int | None, paths: list[str], chunk_size: int) -> int:
    """Worker processes: as asked, else one per core, but none for input that fits in one chunk."""
    if asked is not None:
        return asked
    from pathlib import Path

    from engine.pipeline.workers import default_jobs

    # Starting workers costs more than evaluating a small file (a row is at least ~40 bytes).
    size = sum(Path(p).stat().st_size for p in paths if Path(p).is_file())
    return default_jobs() if size > 40 * chunk_size else 1
