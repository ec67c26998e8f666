"""`compliance export RUN`: a run's findings for spreadsheet users (CSV or an Excel workbook, Chinese headers)."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from engine.cli.common import fail
from engine.cli.output import measure_label, neutralise
from engine.cli.store import catalog, db_option, open_store
from engine.policy.terms import NATURE_ZH, OP_ZH, STATUS_ZH
from engine.store import StoreError
from engine.store.finding_reads import FindingRow, run_findings

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
_XLSX_WIDTHS = {
    "评价批次": 9,
    "记录编号": 20,
    "类型": 8,
    "年度": 7,
    "名称": 24,
    "记录版本": 9,
    "来源文件": 24,
    "工作表": 10,
    "行号": 7,
    "规则包": 12,
    "条款": 8,
    "条款名称": 26,
    "检查项编号": 34,
    "检查项": 40,
    "检查项版本": 30,
    "性质": 8,
    "结论": 10,
    "结论代码": 16,
    "实际值": 12,
    "比较": 8,
    "标准": 12,
    "目标": 12,
    "单位": 10,
    "完成期限": 12,
    "评价日期": 12,
    "缺少数据": 28,
    "说明": 60,
}


_XLSX_PLAIN_INTEGERS = {"评价批次", "年度", "记录版本", "行号"}  # 2024, not 2,024


def _xlsx_value(column: str, f: FindingRow, raw: Any) -> Any:
    if column == "类型":
        try:
            return catalog().kind(raw).label
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
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="File to write (default run-RUN-findings.csv|xlsx; '-' for CSV on stdout).",
)
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

            fail(str(exc.strerror) if isinstance(exc, OutputError) else describe_os_error(exc, path))
    click.echo(f"已导出 {n} 项结论到 {path}", err=True)
