"""Printing findings: a readable table, JSON lines, or CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from engine.evaluation.findings import Finding

FORMATS = ("table", "json", "csv", "summary")  # summary: counts only (large batches into the store)
CSV_COLUMNS = [
    "record_id",
    "kind",
    "record_name",
    "file",
    "row",
    "pack",
    "measure",
    "measure_title",
    "check",
    "check_title",
    "check_version",
    "nature",
    "status",
    "value",
    "threshold",
    "target",
    "due",
    "unit",
    "op",
    "message",
    "interpretation",
    "lead_departments",
    "missing_fields",
    "as_of",
    "review",
    "review_reasons",
    "basis",
    "reported",
    "counted",
    "baseline",
    "baseline_year",
    "baseline_source",
]
BASIS_ZH = {"reported": "按填报现成数", "counted": "按下级记录统计", "stated": "报告所列"}


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
            self.w.writerow({k: neutralise(_cell(v)) for k, v in f.flat().items()})


def _cell(v: Any) -> Any:
    """是/否 for a yes/no value: the CSV is opened by people in a spreadsheet, not only by programs."""
    return ("是" if v else "否") if isinstance(v, bool) else v


def measure_label(n: int) -> str:
    """第9条; measure 0 is the plan's general requirement."""
    return f"第{n}条" if n else "总体要求"
