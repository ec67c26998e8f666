"""Store commands: `compliance runs`, `runs show`, `history`, `diff`, `export`, `db upgrade`.

Wiring only: the queries live in engine.store; this module prints them for people (Chinese labels).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from engine.cli.common import fail
from engine.cli.output import measure_label, neutralise
from engine.evaluation.findings import value_text
from engine.pipeline.stream import ChunkResult
from engine.policy.policy import Policy
from engine.policy.schema import NATURE_ZH, OP_ZH, STATUS_ZH
from engine.records.catalog import Catalog
from engine.store import Store, StoreError
from engine.store.database import DEFAULT_DB_FILE, ENV_VAR, display_url, make_engine, resolve_url, upgrade
from engine.store.queries import (
    FindingChange,
    FindingRow,
    diff_runs,
    list_runs,
    record_history,
    run_detail,
    run_findings,
)
from engine.store.runs import ResumePlan, RunWriter, StoreTarget, begin_run, resume_plan, resume_run

CHANGE_ZH = {"added": "新增", "removed": "删除", "changed": "变化"}
FIELD_ZH = {"status": "结论", "value": "实际值", "threshold": "标准", "check_version": "检查项版本"}
CATEGORY_ZH = {"rejected": "退回记录", "file_problem": "无法使用的文件", "warning": "提示", "notice": "未评价记录"}


def db_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--db", "db", envvar=ENV_VAR, default=None, metavar="URL",
                        help=f"Store: a database URL (sqlite:///path, postgresql+psycopg://…) or an SQLite file; "
                             f"default ${ENV_VAR}, else ./{DEFAULT_DB_FILE}.")(f)


def open_store(db: str | None, *, create: bool = False) -> Store:
    try:
        return Store(db, create=create)
    except StoreError as exc:
        fail(f"存储 store: {exc}")


def _when(v: dt.datetime | None) -> str:
    return v.astimezone().strftime("%Y-%m-%d %H:%M:%S") if v else "—"


def _counts_text(counts: dict[str, int]) -> str:
    return " · ".join(f"{STATUS_ZH.get(k, k)} {counts[k]}" for k in STATUS_ZH if counts.get(k)) or "—"


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    # Piped output (a file, a test) gets room for CJK columns instead of rich's 80-column default.
    # markup=False: record ids, names and check titles are data; '[/bold]x' or '[link=…]' prints as written.
    return Console(markup=False) if sys.stdout.isatty() else Console(width=200, markup=False)


def _table(title: str | None, columns: Iterable[str]):  # type: ignore[no-untyped-def]
    from rich.table import Table

    t = Table(title=title)
    for c in columns:
        t.add_column(c, overflow="fold")
    return t


# --- runs -----------------------------------------------------------------------------------------

@click.group(invoke_without_command=True)
@db_option
@click.pass_context
def runs(ctx: click.Context, db: str | None) -> None:
    """List stored evaluation runs (评价批次); `runs show RUN` for one."""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(db)
    with store:
        items = list_runs(store)
    if not items:
        click.echo(f"存储 {store.display} 中还没有评价记录。")
        return
    shown = ("compliant", "non_compliant", "insufficient_data", "behind_schedule")
    t = _table(f"评价批次 · {store.display}", ("批次", "开始时间", "审查人", "评价日期", "状态", "记录", "退回",
                                            *(STATUS_ZH[k] for k in shown)))
    for r in items:
        done = r.finished_at is not None
        t.add_row(str(r.id), _when(r.started_at)[:16], r.reviewer, r.as_of.isoformat() if r.as_of else "按记录日期",
                  "已完成" if done else "未完成", str(r.n_records) if done else "—", str(r.n_rejected) if done else "—",
                  *((str(r.counts.get(k, 0)) if done else "—") for k in shown))
    _console().print(t)


@runs.command("show")
@click.argument("run_id", metavar="RUN", type=int)
@db_option
@click.pass_context
def runs_show(ctx: click.Context, run_id: int, db: str | None) -> None:
    """One run: who, when, which rules and files, and its counts by status."""
    store = open_store(db or (ctx.obj or {}).get("db"))
    with store:
        try:
            d = run_detail(store, run_id)
        except StoreError as exc:
            fail(str(exc))
    s = d.summary
    state = "已完成" if s.finished_at else f"未完成(可用 compliance evaluate --resume {s.id} 续评)"
    lines = [
        f"评价批次 {s.id}:{state}",
        f"开始时间:{_when(s.started_at)}    完成时间:{_when(s.finished_at)}",
        f"审查人:{s.reviewer}",
        f"评价日期:{s.as_of.isoformat() if s.as_of else '按各记录自身日期'}",
        f"引擎:{d.engine} {d.engine_version}    分块:{d.chunk_size} 条/块,已提交 {d.chunks_committed} 块"
        + (f",续评 {d.resumed} 次" if d.resumed else ""),
        f"规则指纹:{d.policy_fingerprint}",
        "规则包:",
        *[f"  {p.pack_id} 《{p.title}》{p.number} 指纹 {p.fingerprint}" for p in d.packs],
        *([f"附加规则目录:{', '.join(d.rules_dirs)}"] if d.rules_dirs else []),
        "输入文件:",
        *[f"  {i.path}  sha256 {i.sha256[:16] or '(无法读取)'}  {i.size} 字节" for i in d.inputs],
        f"记录:有效 {s.n_records} 条,退回 {s.n_rejected} 条,无法使用的文件 {s.n_file_problems} 个",
        *([f"其他:{'、'.join(f'{CATEGORY_ZH[k]} {v}' for k, v in d.messages.items() if k in ('warning', 'notice'))}"]
          if any(k in d.messages for k in ("warning", "notice")) else []),
        f"结论:共 {s.n_findings} 项",
    ]
    click.echo("\n".join(lines))
    t = _table(None, ("结论", "状态代码", "数量"))
    for k, label in STATUS_ZH.items():
        t.add_row(label, k, str(s.counts.get(k, 0)))
    _console().print(t)


# --- history --------------------------------------------------------------------------------------

@click.command()
@click.argument("record_id")
@db_option
def history(record_id: str, db: str | None) -> None:
    """Every run that judged a record, its status per check, and what changed between runs."""
    store = open_store(db)
    with store:
        try:
            hists = record_history(store, record_id)
        except StoreError as exc:
            fail(str(exc))
    from rich.text import Text

    con = _console()
    for h in hists:
        period = f",{h.period}年度" if h.period else ""
        name = next((v.name for v in reversed(h.versions) if v.name), None)
        con.print(Text.assemble((f"记录 {h.record_id}{f' {name}' if name else ''}({h.kind}{period})", "bold"),
                                f":共 {len(h.versions)} 个版本,{len(h.runs)} 次评价"))
        for j in h.runs:
            con.print(Text.assemble(("\n评价批次 " + str(j.run.id), "bold"),
                                    f"  {_when(j.run.started_at)}  审查人 {j.run.reviewer}  记录版本 v{j.version}"
                                    + (f"  来源 {j.source}" if j.source else "")))
            t = _table(None, ("条款", "检查项", "结论", "实际值", "标准", "单位"))
            for f in j.findings:
                t.add_row(measure_label(f.measure), f.check_title, STATUS_ZH.get(f.status, f.status), value_text(f.value),
                          "" if f.threshold is None else f"{OP_ZH.get(f.op, f.op)} {value_text(f.threshold)}", f.unit or "")
            con.print(t)
            if j is h.runs[0]:
                continue
            if not j.field_changes and not j.finding_changes:
                con.print("与上次评价相比:无变化")
                continue
            con.print("与上次评价相比:")
            for c in j.field_changes:
                con.print(f"  数据 {_field_label(h.kind, c.field)}:{value_text(c.before)} → {value_text(c.after)}")
            for c in j.finding_changes:
                con.print("  " + _change_line(c))
        con.print()


def _change_line(c: FindingChange) -> str:
    if c.change == "added":
        assert c.after is not None
        return f"新增 {c.check_title}:{STATUS_ZH.get(c.after.status)}(实际值 {value_text(c.after.value)})"
    if c.change == "removed":
        assert c.before is not None
        return f"删除 {c.check_title}:原为{STATUS_ZH.get(c.before.status)}(实际值 {value_text(c.before.value)})"
    assert c.before is not None and c.after is not None
    parts = []
    for k in c.fields:
        a, b = getattr(c.before, k), getattr(c.after, k)
        if k == "status":
            a, b = STATUS_ZH.get(a, a), STATUS_ZH.get(b, b)
        parts.append(f"{FIELD_ZH[k]} {value_text(a)} → {value_text(b)}")
    return f"变化 {c.check_title}:" + ";".join(parts)


# --- diff -----------------------------------------------------------------------------------------

@click.command()
@click.argument("run_a", metavar="RUN_A", type=int)
@click.argument("run_b", metavar="RUN_B", type=int)
@db_option
def diff(run_a: int, run_b: int, db: str | None) -> None:
    """Findings that changed from RUN_A to RUN_B (status, value, threshold or check version; added, removed)."""
    store = open_store(db)
    with store:
        try:
            changes = diff_runs(store, run_a, run_b)
        except StoreError as exc:
            fail(str(exc))
    if not changes:
        click.echo(f"评价批次 {run_a} 与 {run_b} 的结论一致,无变化。")
        return
    t = _table(f"评价批次 {run_a} → {run_b} 的结论变化", ("变化", "记录", "名称", "检查项", "原结论", "新结论",
                                                  "原实际值", "新实际值", "原标准", "新标准"))
    for c in changes:
        a, b = c.before, c.after
        t.add_row(CHANGE_ZH[c.change], c.record_id + (f"({c.period})" if c.period else ""), c.record_name or "",
                  c.check_title, STATUS_ZH.get(a.status, "") if a else "—", STATUS_ZH.get(b.status, "") if b else "—",
                  value_text(a.value) if a else "—", value_text(b.value) if b else "—",
                  value_text(a.threshold) if a else "—", value_text(b.threshold) if b else "—")
    _console().print(t)
    by = {k: sum(1 for c in changes if c.change == k) for k in CHANGE_ZH}
    click.echo("共 " + ",".join(f"{CHANGE_ZH[k]} {v} 项" for k, v in by.items()))


# --- export ---------------------------------------------------------------------------------------

EXPORT_COLUMNS: list[tuple[str, Callable[[FindingRow], Any]]] = [
    ("评价批次", lambda f: f.run_id),
    ("记录编号", lambda f: f.record_id),
    ("类型", lambda f: f.kind),
    ("年度", lambda f: f.period),
    ("名称", lambda f: f.record_name),
    ("记录版本", lambda f: f.record_version),
    ("来源文件", lambda f: f.file),
    ("工作表", lambda f: f.sheet),
    ("行号", lambda f: f.row),
    ("规则包", lambda f: f.pack),
    ("条款", lambda f: measure_label(f.measure)),
    ("条款名称", lambda f: f.measure_title),
    ("检查项编号", lambda f: f.check_id),
    ("检查项", lambda f: f.check_title),
    ("检查项版本", lambda f: f.check_version),
    ("性质", lambda f: NATURE_ZH.get(f.nature, f.nature)),
    ("结论", lambda f: STATUS_ZH.get(f.status, f.status)),
    ("结论代码", lambda f: f.status),
    ("实际值", lambda f: f.value),
    ("比较", lambda f: OP_ZH.get(f.op, f.op)),
    ("标准", lambda f: f.threshold),
    ("目标", lambda f: f.target),
    ("单位", lambda f: f.unit),
    ("完成期限", lambda f: f.due),
    ("评价日期", lambda f: f.as_of),
    ("缺少数据", lambda f: f.missing_fields),
    ("说明", lambda f: f.message),
]


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return format(v, "f")  # a number, also when negative: never neutralised
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return neutralise(str(v))  # text a spreadsheet would run as a formula gets a leading apostrophe


def _xlsx_cell(v: Any) -> Any:
    """A value as Excel should hold it: numbers as numbers, dates as dates, text never a formula."""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        # A number when a float holds it exactly, else the exact text (no silent rounding).
        return float(v) if Decimal(repr(float(v))) == v else format(v, "f")
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v  # never let a record value become a spreadsheet formula
    return v


def write_csv(rows: Iterable[FindingRow], out: Any) -> int:
    w = csv.writer(out)
    w.writerow([c for c, _ in EXPORT_COLUMNS])
    n = 0
    for f in rows:
        w.writerow([_csv_cell(get(f)) for _, get in EXPORT_COLUMNS])
        n += 1
    return n


def _number_format(v: Any) -> str | None:
    """Thousands separators, and exactly the decimals the value has (500 -> 500, 13.714286 -> 13.714286)."""
    if isinstance(v, bool) or not isinstance(v, Decimal | int):
        return None
    if isinstance(v, int) or v == v.to_integral_value():
        return "#,##0"
    places = max(-v.normalize().as_tuple().exponent, 0)  # type: ignore[operator]
    return "#,##0." + "0" * min(int(places), 15)


# Column widths in characters (a CJK character counts as two) and how some columns are shown.
_XLSX_WIDTHS = {"评价批次": 9, "记录编号": 20, "类型": 8, "年度": 7, "名称": 24, "记录版本": 9, "来源文件": 24,
                "工作表": 10, "行号": 7, "规则包": 12, "条款": 8, "条款名称": 26, "检查项编号": 34, "检查项": 40,
                "检查项版本": 30, "性质": 8, "结论": 10, "结论代码": 16, "实际值": 12, "比较": 8, "标准": 12,
                "目标": 12, "单位": 10, "完成期限": 12, "评价日期": 12, "缺少数据": 28, "说明": 60}


_XLSX_PLAIN_INTEGERS = {"评价批次", "年度", "记录版本", "行号"}  # 2024, not 2,024


def _xlsx_value(column: str, f: FindingRow, raw: Any) -> Any:
    if column == "类型":
        try:
            return _catalog().kind(raw).label
        except Exception:  # a kind the vocabulary does not know keeps its name
            return raw
    if column == "来源文件" and raw:
        return Path(str(raw).replace("\\", "/")).name  # the file's name only, never a server path
    if column == "年度" and isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return raw


def write_xlsx(rows: Iterable[FindingRow], path: Path, run_id: int) -> int:
    """The findings as an Excel workbook an office opens ready to filter and print.

    Column widths, a frozen and filtered header row, landscape A4 fitted to the page width with the
    header repeated on every printed page; numbers, years and dates as numbers with formats; kinds by
    their Chinese names. The workbook is built in memory and written all at once (temporary file in
    the same folder, then renamed), so a full disk leaves no partial or empty file.
    """
    import io

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    from engine.render.files import write_all

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"评价批次{run_id}")
    ws.freeze_panes = "A2"
    columns = [c for c, _ in EXPORT_COLUMNS]
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _XLSX_WIDTHS.get(c, 14)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.oddFooter.center.text = "第 &P 页,共 &N 页"
    header = []
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="D9D9D9")
    for c in columns:
        cell = WriteOnlyCell(ws, value=c)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        header.append(cell)
    ws.append(header)
    n = 0
    for f in rows:
        out = []
        for c, get in EXPORT_COLUMNS:
            raw = _xlsx_value(c, f, get(f))
            cell = WriteOnlyCell(ws, value=_xlsx_cell(raw))
            fmt = "0" if c in _XLSX_PLAIN_INTEGERS else _number_format(raw)
            if fmt and isinstance(cell.value, int | float):
                cell.number_format = fmt
            elif isinstance(raw, dt.date):
                cell.number_format = "yyyy-mm-dd"
            out.append(cell)
        ws.append(out)
        n += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    buf = io.BytesIO()
    wb.save(buf)
    write_all([(path, buf.getvalue())])
    return n


@click.command()
@click.argument("run_id", metavar="RUN", type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (default run-RUN-findings.csv|xlsx; '-' for CSV on stdout).")
@db_option
def export(run_id: int, fmt: str, output: str | None, db: str | None) -> None:
    """A run's findings for spreadsheet users (Chinese headers; CSV in UTF-8 with BOM so Excel reads it)."""
    store = open_store(db)
    path = Path(output or f"run-{run_id}-findings.{fmt}")
    with store:
        try:
            rows = run_findings(store, run_id)
            if fmt == "csv" and output == "-":
                n = write_csv(rows, sys.stdout)
                click.echo(f"已导出 {n} 项结论", err=True)
                return
            if fmt == "csv":
                with path.open("w", encoding="utf-8-sig", newline="") as fh:
                    n = write_csv(rows, fh)
            else:
                n = write_xlsx(rows, path.resolve(), run_id)
        except StoreError as exc:
            fail(str(exc))
        except OSError as exc:
            from engine.render.files import OutputError, describe_os_error

            fail(exc.strerror if isinstance(exc, OutputError) else describe_os_error(exc, path))
    click.echo(f"已导出 {n} 项结论到 {path}", err=True)


# --- db -------------------------------------------------------------------------------------------

@click.group()
def db() -> None:
    """Store maintenance (database schema)."""


@db.command("upgrade")
@db_option
def db_upgrade(db: str | None) -> None:
    """Create the store or bring it to this version's schema (Alembic migrations)."""
    url = resolve_url(db)
    try:
        engine = make_engine(url)
        try:
            before, after = upgrade(engine, url)
        finally:
            engine.dispose()
    except StoreError as exc:
        fail(f"存储 store: {exc}")
    except SQLAlchemyError as exc:
        fail(f"存储 store {display_url(url)}: {getattr(exc, 'orig', None) or exc}")
    if before == after:
        click.echo(f"存储 {display_url(url)} 已是最新结构(版本 {after})。")
    else:
        click.echo(f"存储 {display_url(url)} 已升级:{before or '空库'} → {after}。")


# --- evaluate's link to the store -----------------------------------------------------------------

class RunRecorder:
    """Begins (or resumes) a run, saves each chunk, finishes; a store failure ends the command clearly."""

    def __init__(self, store: Store, writer: RunWriter, resumed: bool = False):
        self.store, self.writer = store, writer
        if resumed:
            click.echo(f"续评 resuming run {writer.run_id}: {len(writer.committed)} chunk(s) already stored",
                       err=True)

    @classmethod
    def begin(cls, db: str | None, policy: Policy, *, paths: list[str], reviewer: str | None,
              as_of: dt.date | None, kind: str | None, chunk_size: int, engine_name: str,
              rules_dirs: tuple[str, ...]) -> RunRecorder:
        store = open_store(db, create=True)
        try:
            writer = begin_run(store, policy, inputs=paths, reviewer=reviewer, as_of=as_of, kind=kind,
                               chunk_size=chunk_size, engine_name=engine_name, rules_dirs=rules_dirs)
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {store.display}: {_reason(exc)}")
        return cls(store, writer)

    @staticmethod
    def plan(db: str | None, run_id: int) -> tuple[Store, ResumePlan]:
        store = open_store(db)
        try:
            return store, resume_plan(store, run_id)
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {store.display}: {_reason(exc)}")

    @classmethod
    def resume(cls, store: Store, plan: ResumePlan, policy: Policy) -> RunRecorder:
        try:
            return cls(store, resume_run(store, plan, policy), resumed=True)
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {store.display}: {_reason(exc)}")

    @property
    def skip(self) -> frozenset[int]:
        return self.writer.committed

    def hand_over(self) -> StoreTarget:
        """Let worker processes store the chunks they evaluate (see engine/pipeline/workers.py)."""
        return self.writer.hand_over()

    def save(self, chunk: ChunkResult) -> None:
        if chunk.stored:  # by the worker that evaluated it
            self.writer.committed = self.writer.committed | {chunk.index}
            return
        try:
            self.writer.save_chunk(chunk)
        except (StoreError, SQLAlchemyError) as exc:
            self._failed(exc)

    def guard(self, chunks: Iterator[ChunkResult]) -> Iterator[ChunkResult]:
        """The chunks, with a store failure in a worker reported as one in this process would be."""
        try:
            yield from chunks
        except StoreError as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> NoReturn:
        fail(f"存储 store {self.store.display}: {_reason(exc)}; chunks committed before this one are kept: "
             f"finish with `compliance evaluate --resume {self.writer.run_id}`")

    def finish(self) -> None:
        try:
            s = self.writer.finish()
        except (StoreError, SQLAlchemyError) as exc:
            fail(f"存储 store {self.store.display}: {_reason(exc)}")
        finally:
            self.store.close()
        click.echo(f"已保存 stored: 评价批次 run {s.id} in {self.store.display} "
                   f"({s.n_records} records, {s.n_findings} findings)", err=True)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc)


def _field_label(kind: str, field: str) -> str:
    """'总投资(total_investment)' from the record vocabulary; the bare name if it is not known."""
    try:
        spec = _catalog().kind(kind).fields.get(field)
    except Exception:  # an unreadable vocabulary must not hide the history itself
        spec = None
    return f"{spec.label}({field})" if spec else field


@functools.cache
def _catalog() -> Catalog:
    from engine.policy.loader import BASE_CATALOG
    from engine.records.catalog import catalog_files, load_catalog

    return load_catalog(catalog_files(BASE_CATALOG))
