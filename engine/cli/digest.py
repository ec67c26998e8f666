"""The default output of `compliance evaluate`: what a reviewer must act on, streamed chunk by chunk.

One line per record with its counts (符合 n / 不符合 n / 资料不足 n / 需复核 n), and under it the
findings that need action: not met, behind schedule, or flagged for review. Records that need no
action are counted, not listed, unless `--all`; `--status` adds the findings of other statuses.
Nothing is held beyond one chunk, so the first lines appear at once and memory stays flat.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from engine.cli.output import BASIS_ZH, measure_label
from engine.evaluation.findings import Finding, threshold_text, value_text
from engine.pipeline.stream import counts_by_record, record_key
from engine.policy.terms import STATUS_ZH

# The statuses a reviewer acts on; review-flagged findings of any status too.
ACTION = frozenset({"non_compliant", "behind_schedule"})
_COUNTED = (("compliant", "符合"), ("non_compliant", "不符合"), ("insufficient_data", "资料不足"))
_MARK = {
    "non_compliant": "✗",
    "behind_schedule": "↓",
    "compliant": "✓",
    "on_track": "→",
    "insufficient_data": "?",
    "not_applicable": "·",
    "excluded": "·",
}


def finding_line(f: Finding) -> str:
    """One finding, indented under its record: mark, clause, check, status, value against the standard."""
    value = value_text(f.value)
    if f.basis in BASIS_ZH:
        value += f"({BASIS_ZH[f.basis]})"
    standard = threshold_text(f.op, f.threshold, f.unit)
    parts = [f"  {_MARK.get(f.status, ' ')} {measure_label(f.measure)} {f.check_title}:{STATUS_ZH[f.status]}"]
    if f.value is not None or standard:
        unit = f" {f.unit}" if f.unit and not isinstance(f.value, bool) and f.value is not None else ""
        parts.append(f"实际 {value}{unit}" + (f",标准 {standard}" if standard else ""))
    if f.review:
        reasons = ";".join(r.removeprefix("需人工复核:").removeprefix("需人工复核") for r in f.review_reasons)
        parts.append(f"【需复核】{reasons}" if reasons else "【需复核】")
    return " ".join(parts)


class Digest:
    """Writes the per-record lines of each chunk as it comes; `close()` writes the closing count."""

    def __init__(self, *, show_all: bool = False, statuses: Iterable[str] = (), out: TextIO | None = None):
        self.show_all = show_all
        self.statuses = frozenset(statuses)
        self.out = out
        self.quiet_records = 0  # records with nothing to act on, not listed

    def _wanted(self, f: Finding) -> bool:
        return self.show_all or f.status in ACTION or f.review or f.status in self.statuses

    def write(
        self,
        records: list[Any],
        findings: list[Finding],
        record_counts: dict[tuple[Any, ...], dict[str, int]] | None = None,
    ) -> None:
        """One chunk; with `record_counts` the findings are only those to show (the workers kept the rest)."""
        out = self.out or sys.stdout  # looked up per call: tests and pipes swap sys.stdout
        by_record: dict[tuple[Any, ...], list[Finding]] = {}
        for f in findings:
            by_record.setdefault(record_key(f.kind, f.record_id, f.source), []).append(f)
        if record_counts is None:  # evaluated here: every finding came, count them
            record_counts = counts_by_record(findings)
        lines: list[str] = []
        for r in records:
            key = record_key(r.kind, r.id, r.source)
            own = by_record.pop(key, None)
            counts = record_counts.get(key)
            if counts is None:  # a baseline report or a record no rule judges (counted in the notices)
                continue
            shown = [f for f in own or () if self._wanted(f)]
            if not shown and not self.show_all:
                self.quiet_records += 1
                continue
            lines.append(record_line(r.id, r.name, counts))
            lines.extend(finding_line(f) for f in shown)
        if lines:
            out.write("\n".join(lines) + "\n")
            out.flush()

    def close(self) -> None:
        if self.quiet_records:
            out = self.out or sys.stdout
            out.write(
                f"另有 {self.quiet_records} 条记录无需处理(无不符合、进度滞后或需复核的结论;"
                "用 --all 列出全部)\n"
            )


def record_line(record_id: str, name: str | None, found: dict[str, int]) -> str:
    counts = {s: found.get(s, 0) for s in STATUS_ZH}
    review = found.get("review", 0)
    shown = [f"{label} {counts[s]}" for s, label in _COUNTED]
    if counts["on_track"] or counts["behind_schedule"]:
        shown.insert(2, f"进度正常 {counts['on_track']} / 进度滞后 {counts['behind_schedule']}")
    shown.append(f"需复核 {review}")
    title = f"{record_id} {name}" if name and name != record_id else record_id
    return f"{title}:" + " / ".join(shown)
