"""Printing findings: a readable table, JSON lines, or CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from engine.evaluation.findings import Finding
from engine.policy.schema import STATUS_ZH

FORMATS = ("table", "json", "csv", "summary")  # summary: counts only (large batches into the store)
CSV_COLUMNS = ["record_id", "kind", "record_name", "file", "row", "pack", "measure", "measure_title", "check",
               "check_title", "check_version", "nature", "status", "value", "threshold", "target", "due", "unit",
               "op", "message", "interpretation", "lead_departments", "missing_fields", "as_of", "review",
               "review_reasons", "basis", "reported", "counted", "baseline", "baseline_year", "baseline_source"]
BASIS_ZH = {"reported": "按填报现成数", "counted": "按下级记录统计", "stated": "报告所列"}
_STYLE = {"compliant": "green", "non_compliant": "red", "not_applicable": "dim", "insufficient_data": "yellow",
          "on_track": "cyan", "behind_schedule": "magenta"}


def write_json(findings: Iterable[Finding], out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up per call: tests and pipes swap sys.stdout
    for f in findings:
        out.write(json.dumps(f.flat(), ensure_ascii=False) + "\n")


# A text cell starting with one of these is a formula (or starts one) in Excel, WPS and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with an apostrophe; numbers stay numbers.

    Only ``str`` values are touched: a numeric -3.5 is written as the number it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CsvWriter:
    def __init__(self, out: TextIO | None = None):
        self.w = csv.DictWriter(out or sys.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        self.w.writeheader()

    def write(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.w.writerow({k: neutralise(v) for k, v in f.flat().items()})


def write_table(findings: list[Finding]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, title="审查结论 Findings")
    for col in ("记录", "名称", "条款", "检查项", "状态", "实际值", "标准", "单位"):
        table.add_column(col, overflow="fold")
    for f in findings:
        flat = f.flat()
        value = "" if flat["value"] is None else str(flat["value"])
        if f.basis in BASIS_ZH:
            value += f"({BASIS_ZH[f.basis]})"
        # Data is printed as Text, never parsed as rich markup: '[/bold]x' or '[link=…]' shows as written.
        table.add_row(Text(f.record_id), Text(f.record_name or ""), Text(measure_label(f.measure)),
                      Text(f.check_title),
                      # a finding a person must look at says so beside its status (the reasons are in its message)
                      Text(f"{STATUS_ZH[f.status]} {f.status}" + (" 需复核" if f.review else ""),
                           style=_STYLE[f.status] + (" bold" if f.review else "")),
                      Text(value), Text("" if flat["threshold"] is None else f"{f.op} {flat['threshold']}"),
                      Text(f.unit or ""))
    # Wide enough for Chinese text when piped; a terminal keeps its own width.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160, markup=False)
    console.print(table)


def measure_label(n: int) -> str:
    """第9条; measure 0 is the plan's general requirement."""
    return f"第{n}条" if n else "总体要求"


def status_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s: 0 for s in STATUS_ZH}
    for f in findings:
        counts[f.status] += 1
    return counts
