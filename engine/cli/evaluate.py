"""`compliance evaluate FILE...`: read -> validate -> evaluate -> print."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable
from typing import Any

import click

from engine.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_UNUSABLE, fail, policy_or_exit, rules_option
from engine.cli.digest import Digest
from engine.cli.notices import NoticeLog
from engine.cli.output import FORMATS, CsvWriter, write_json
from engine.cli.progress import Progress
from engine.pipeline.stream import DEFAULT_CHUNK
from engine.policy.terms import STATUS_ZH

# The store (SQLAlchemy, Alembic) is imported only when a run is stored, so `--no-store` starts fast;
# engine/store/location.py names the store's place without importing it (tests/test_stream_cli.py).
from engine.store.location import DEFAULT_DB_FILE as _DB_FILE  # noqa: E402,F401
from engine.store.location import ENV_VAR as _DB_ENV  # noqa: E402
from engine.store.location import db_help  # noqa: E402


def db_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--db", "db", envvar=_DB_ENV, default=None, metavar="URL", help=db_help())(f)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; json (one object per finding per line) or csv for programs; "
    "summary prints only the counts (the findings are in the store).",
)
@click.option(
    "--as-of",
    "--review-date",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="审查日期 The day of review (default: today). A year that has not ended by then is judged on "
    "pace (进度正常/进度滞后), never finally. It never moves a record out of the period it reports on: "
    "each record is judged by the rules in force on its own date.",
)
@click.option(
    "--rules-date",
    "rules_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="适用规则日期 Judge every record by the rules in force on this date instead of its own date "
    "(to see how a changed rule would have judged; rarely wanted).",
)
@click.option(
    "--kind",
    type=str,
    default=None,
    help="Subject kind of records whose file has no 类型 column (project, town, county, city, ...).",
)
@click.option(
    "--engine", "engine_name", type=click.Choice(["durable", "python"]), default="durable", hidden=True
)
@rules_option
@db_option
@click.option("--no-store", is_flag=True, help="Do not keep this evaluation in the store.")
@click.option("--reviewer", default=None, help="审查人 recorded with the run (default: the OS user).")
@click.option(
    "--resume",
    "resume",
    type=int,
    default=None,
    metavar="RUN",
    help="Finish an interrupted run: same files and settings, skipping the chunks already stored.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1),
    default=DEFAULT_CHUNK,
    show_default=True,
    help="Records evaluated (and stored) together; memory grows with it, not with the file.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1),
    default=None,
    help="Worker processes evaluating chunks in parallel [default: number of cores].",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="全部列出 List every record and every finding (default: only the findings that need action).",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="STATUS",
    help="另列出该结论的结论项 Also list findings with this status (repeatable): "
    "符合 compliant, 资料不足 insufficient_data, 不适用 not_applicable, 进度正常 on_track, …",
)
@click.option(
    "--progress",
    "progress",
    is_flag=True,
    default=None,
    help="显示进度条 Show the progress bar on stderr (default: only when stderr is a terminal).",
)
@click.option(
    "--quiet",
    "-q",
    "quiet",
    is_flag=True,
    help="安静 No progress bar and no per-record notices (errors and the totals are still printed).",
)
@click.option(
    "--verbose",
    "-v",
    "verbose",
    is_flag=True,
    help="详细 List every per-record notice (default: counted and summarised at the end).",
)
def evaluate(
    files: tuple[str, ...],
    fmt: str,
    as_of: dt.datetime | None,
    rules_date: dt.datetime | None,
    kind: str | None,
    engine_name: str,
    rules_dirs: tuple[str, ...],
    db: str | None,
    no_store: bool,
    reviewer: str | None,
    resume: int | None,
    chunk_size: int,
    jobs: int | None,
    show_all: bool,
    statuses: tuple[str, ...],
    progress: bool | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Evaluate record files (JSON, JSON Lines, YAML, CSV, XLSX) against the policy; store the run."""
    from engine.pipeline.batch import Batch, BatchError, BatchOptions

    wanted = _statuses(statuses)
    store = plan = None
    if resume is not None:
        if files or as_of or rules_date or kind or rules_dirs or no_store:
            fail(
                "--resume 续评已存储的批次,沿用其文件、--as-of、--kind 和 --rules,请勿再给出 "
                "(--resume continues a stored run with its own settings; give none)"
            )
        store, plan = _resume_plan(db, resume)
        files, kind, rules_dirs = tuple(plan.paths), plan.kind, tuple(plan.rules_dirs)
        as_of = dt.datetime.combine(plan.as_of, dt.time()) if plan.as_of else None
        engine_name, chunk_size = plan.engine, plan.chunk_size
    if not files:
        fail("未给出记录文件 no record files given")
    policy = policy_or_exit(rules_dirs)
    # The compiled policy lives as long as this command: the cyclic collector need not scan it again
    # at every collection while hundreds of thousands of records pass (workers inherit it frozen).
    gc.freeze()
    if kind is not None and policy.catalog.resolve_kind(kind) is None:
        fail(f"未知的记录类型 unknown kind {kind!r};可用:{', '.join(policy.catalog.kinds)}")
    kind = policy.catalog.resolve_kind(kind) if kind else None
    from engine.records.readers import record_files

    paths = record_files(files)
    if not paths:
        fail("未找到记录文件 no record files found")
    if store is None and not no_store:
        from engine.cli.store import open_store

        store = open_store(db, create=True)
    options = BatchOptions(
        reviewer=plan.reviewer if plan else reviewer,
        as_of=as_of.date() if as_of else None,
        rules_date=rules_date.date() if rules_date else None,
        kind=kind,
        engine=engine_name,  # type: ignore[arg-type]
        chunk_size=chunk_size,
        jobs=_jobs(jobs, paths, chunk_size),
        keep_findings=_keep(fmt, show_all, wanted),
        rules_dirs=rules_dirs,
    )
    batch = Batch(policy, paths, store=store, options=options, resume=plan)
    if plan is not None:
        click.echo(f"续评 resuming run {plan.run_id}:已保存 {len(plan.committed)} 个数据块", err=True)
    csv_writer = CsvWriter() if fmt == "csv" else None
    digest = Digest(show_all=show_all, statuses=wanted) if fmt == "table" else None
    notices = NoticeLog(verbose=verbose, quiet=quiet)
    bar = Progress.start(paths, False if quiet else progress)
    say = bar.echo
    try:
        for chunk in batch.chunks():
            bar.advance(chunk)
            for w in chunk.warnings:
                notices.warning(w, say)
            for p in chunk.file_problems:
                say(f"文件错误 file error: {p}")
            for e in chunk.errors:
                say(f"记录错误 rejected: {e}")
            for n in chunk.notices:
                notices.notice(n, say)
            if fmt == "json":
                write_json(chunk.findings)
            elif csv_writer is not None:
                csv_writer.write(chunk.findings)
            elif digest is not None:
                digest.write(chunk.records, chunk.findings, chunk.record_counts)
        bar.stop()
        summary = batch.finish()
    except BatchError as exc:
        bar.stop()
        fail(str(exc))
    if digest is not None:
        digest.close()
    notices.summarise()
    t = batch.tally
    if summary is not None:
        click.echo(
            f"已保存 stored: 第 {summary.id} 次评价,存于 {store.display}"  # type: ignore[union-attr]
            f"({summary.n_records} 条记录,{summary.n_findings} 项结论)",
            err=True,
        )
    elif store is not None and not t.n_valid:
        click.echo("提示 notice: 没有可评价的记录,未保存评价批次 (nothing usable: no run stored)", err=True)
    click.echo(
        f"记录 records: 有效 {t.n_valid} 条,退回 {t.rejected_rows} 条,字段错误 {t.n_field_errors} 处"
        f"(该字段不用,记录照常评价),无法使用的文件 {t.n_file_problems} 个"
        + (f",无法使用的工作表 {t.n_sheets} 个" if t.n_sheets else "")
        + ";"
        "结论 findings: "
        + (",".join(f"{STATUS_ZH[k]} {t.counts[k]}" for k in STATUS_ZH if t.counts.get(k)) or "无"),
        err=True,
    )
    if t.tallied:
        # Every row is accounted for: evaluated, rejected (named above with file, row and field) or blank.
        click.echo(
            f"读取 {t.n_read} 行 = 评价 {t.n_valid} + 拒收 {t.rejected_rows} + 空行 {t.n_blank} "
            f"(rows read = evaluated + rejected + blank)",
            err=True,
        )
    partial = EXIT_PARTIAL if (t.n_errors or t.n_file_problems) else EXIT_OK
    if not t.n_valid:
        raise SystemExit(EXIT_UNUSABLE)
    if t.only_baselines and store is not None:
        # Reports on years before the plan, kept in the store: the trajectories of later runs start there.
        click.echo(
            f"提示 notice: 全部 {t.n_valid} 条记录为基期数据,不单独评判;已存入审查记录库,供以后评价测算进度和与往年比较 "
            "(all records are baselines, stored for later runs; nothing to judge)",
            err=True,
        )
        raise SystemExit(partial)
    if not t.n_findings:
        click.echo(
            f"错误 error: 无法作出任何审查结论:{t.n_valid} 条记录均未得到结论(原因见上方各记录的提示,如缺少日期或日期不在"
            "任何政策的有效期内) nothing could be judged: no record got any finding",
            err=True,
        )
        raise SystemExit(EXIT_UNUSABLE)
    raise SystemExit(partial)


def _keep(fmt: str, show_all: bool, wanted: frozenset[str]) -> bool | frozenset[str]:
    """What the worker processes send back: everything printed, and for the default view only that."""
    if fmt == "summary":
        return False
    if fmt == "table" and not show_all:
        from engine.cli.digest import ACTION

        return ACTION | wanted
    return True


def _statuses(given: tuple[str, ...]) -> frozenset[str]:
    by_zh = {zh: en for en, zh in STATUS_ZH.items()}
    out = set()
    for s in given:
        en = s if s in STATUS_ZH else by_zh.get(s)
        if en is None:
            fail(
                f"未知的结论 unknown status {s!r};可用:"
                + "、".join(f"{zh} {en}" for en, zh in STATUS_ZH.items())
            )
        out.add(en)
    return frozenset(out)


def _resume_plan(db: str | None, run_id: int) -> tuple[Any, Any]:
    from sqlalchemy.exc import SQLAlchemyError

    from engine.cli.store import open_store
    from engine.store.database import StoreError
    from engine.store.runs import resume_plan

    store = open_store(db)
    try:
        return store, resume_plan(store, run_id)
    except (StoreError, SQLAlchemyError) as exc:
        fail(f"存储 store {store.display}: {getattr(exc, 'orig', None) or exc}")


def _jobs(asked: int | None, paths: list[str], chunk_size: int) -> int:
    """Worker processes: as asked, else one per core, but none for input that fits in one chunk."""
    if asked is not None:
        return asked
    from pathlib import Path

    from engine.pipeline.workers import default_jobs

    # Starting workers costs more than evaluating a small file (a row is at least ~40 bytes).
    size = sum(Path(p).stat().st_size for p in paths if Path(p).is_file())
    return default_jobs() if size > 40 * chunk_size else 1
