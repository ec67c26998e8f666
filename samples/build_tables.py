"""Build the spreadsheet samples (Chinese headers) for counties, departments and enterprises.

Reviewers receive these kinds as spreadsheets. The 2025 reports are assembled from the 2024 YAML
reports in this folder: every county's (or department's, enterprise's) figures from all measure
groups are merged into one row, the reporting year set to 2025, and the rows written with each
field's Chinese label (and unit) as the header. Run from the repository root:

    .venv/bin/python samples/build_tables.py
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl

from engine.policy.policy import load_policy
from engine.records.intake import load_records

HERE = Path(__file__).resolve().parent
SOURCES = ["m00-08-reports.yaml", "m10-18-reports.yaml", "m19-27-reports.yaml"]


def merged(kind: str, year: int) -> dict[str, dict]:
    """Subject name -> values of all its `year` reports of `kind`, merged; subjects that already have
    a 2025 report in the YAML files are left out (one report per subject and year)."""
    policy = load_policy()
    intake = load_records([HERE / s for s in SOURCES], policy.catalog)
    out: dict[str, dict] = {}
    has_2025 = {rec.name for rec in intake.records if rec.kind == kind and rec.values.get("report_year") == 2025}
    for rec in intake.records:
        if rec.kind == kind and rec.values.get("report_year") == year and rec.name and rec.name not in has_2025:
            out.setdefault(rec.name, {}).update(rec.values)
    return out


def header_and_rows(kind: str, subjects: dict[str, dict], prefix: str) -> tuple[list[str], list[list]]:
    spec = load_policy().catalog.kind(kind)
    fields = [n for n in spec.fields if any(n in v for v in subjects.values())
              and n not in ("report_date", "submitted_on", "baseline_year")]
    fields = [f for f in fields if not f.endswith("_baseline")]  # a 2025 report needs no trajectory
    header = ["编号", "名称"] + [spec.fields[f].label + (f"({spec.fields[f].unit})" if spec.fields[f].unit else "")
                                 for f in fields]
    rows = []
    for i, (name, values) in enumerate(sorted(subjects.items()), start=1):
        values = dict(values, report_year=2025)
        row: list = [f"{prefix}-{i:02d}", name]
        for f in fields:
            v = values.get(f)
            if isinstance(v, bool):
                v = "是" if v else "否"
            elif isinstance(v, Decimal):
                v = float(v) if v != v.to_integral_value() else int(v)
            elif isinstance(v, dt.date):
                v = v.isoformat()
            row.append(v)
        rows.append(row)
    return header, rows


def main() -> None:
    counties = merged("county", 2024)
    header, rows = header_and_rows("county", counties, "CTY-2025")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "县区"
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(HERE / "counties-2025.xlsx")

    for kind, name, prefix in (("department", "departments-2025.csv", "DEP-2025"),
                               ("enterprise", "enterprises-2025.csv", "ENT-2025")):
        header, rows = header_and_rows(kind, merged(kind, 2024), prefix)
        with (HERE / name).open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)


if __name__ == "__main__":
    main()
