"""What a record is judged against besides itself: the subject's other years, and counts of lower records.

* ``History``: the yearly records of each subject, from the batch (and, through the pipeline, the
  store). Cumulative targets sum them; ``prior(x, 2023)`` and baselines read the subject's own figure
  of an earlier year from them — a report never supplies its own baseline.
* ``AggregateTable``: figures counted or summed from lower records (the 技改 projects of 500万元 or
  more in a year, new green-building area), grouped by year and, for counties, by county. A record
  below an inclusion rule adds nothing; a group with no lower record at all has no figure (missing
  data, not zero).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from engine.policy.compiler import Cumulative
from engine.policy.expression_tree import prior_parts
from engine.records.model import Record, SourceRef


def subject_of(record: Record) -> tuple[str, str]:
    """The subject a yearly record reports on: its kind and name (ids often carry the year), else its id."""
    return record.kind, (record.name or record.id)


@dataclass
class _Year:
    values: dict[str, Any]
    source: SourceRef | None
    origin: str  # where the record came from: "本批次" or "已存储(第N次评价)"


class History:
    """Yearly values of each subject: (kind, subject) -> year -> values, with where each record came from."""

    def __init__(self) -> None:
        self._years: dict[tuple[str, str], dict[int, _Year]] = defaultdict(dict)
        # (subject, year, field, kept value, other value) where two reports of one year disagree
        self.conflicts: list[tuple[tuple[str, str], int, str, Any, Any]] = []

    def add(self, record: Record, origin: str = "本批次") -> None:
        """Add a yearly record. Several reports of one subject and year (one per measure group, say)
        are read together: a field the first did not give is taken from the next; a field they give
        differently keeps the first report's value and is listed in ``conflicts``."""
        year = record.values.get("report_year")
        if not isinstance(year, int):
            return
        years = self._years[subject_of(record)]
        found = years.get(year)
        if found is None:
            years[year] = _Year(dict(record.values), record.source, origin)
            return
        for k, v in record.values.items():
            if k not in found.values:
                found.values[k] = v
            elif found.values[k] != v:
                self.conflicts.append((subject_of(record), year, k, found.values[k], v))

    def add_all(self, records: Iterable[Record]) -> None:
        for r in records:
            self.add(r)

    def __len__(self) -> int:
        return sum(len(v) for v in self._years.values())

    def year(self, record: Record, year: int) -> _Year | None:
        return self._years.get(subject_of(record), {}).get(year)

    def prior_value(self, record: Record, key: str) -> Any:
        """The value of a prior reference 'field@year' for this record's subject (None if not reported)."""
        parts = prior_parts(key)
        if parts is None:
            return None
        fname, year = parts
        found = self.year(record, year)
        return None if found is None else found.values.get(fname)

    def describe(self, record: Record, year: int) -> str | None:
        """Where the subject's record of `year` came from, for a finding (基期来源)."""
        found = self.year(record, year)
        if found is None:
            return None
        where = f"{found.source.file}" if found.source else ""
        if found.source and found.source.row is not None:
            where += f" 第{found.source.row}行"
        return f"{year}年度报告({found.origin}{',' + where if where else ''})"

    def total(self, record: Record, cum: Cumulative) -> tuple[Decimal | None, list[int]]:
        """Sum of the field from the first year of the period to the record's year; missing years."""
        year = record.values.get("report_year")
        if not isinstance(year, int) or year < cum.first_year:
            return None, []
        years = self._years.get(subject_of(record), {})
        total, missing = Decimal(0), []
        for y in range(cum.first_year, min(year, cum.last_year) + 1):
            src = record.values if y == year else (years[y].values if y in years else {})
            v = src.get(cum.field)
            if v is None:
                missing.append(y)
            else:
                # the compiler accepts only a number field as a cumulative quantity (parse_at(..., "number"))
                total += cast(Decimal | int, v)
        return (None if missing else total), missing


@dataclass
class _Group:
    records: int = 0  # lower subjects seen in the group (whatever their outcome)
    included: int = 0  # those the inclusion rule counts
    amount: Decimal = Decimal(0)
    unknown: int = 0  # subjects whose inclusion could not be judged (资料不足), not counted
    seen: dict[tuple[str, str], str] = field(default_factory=dict)  # subject -> its outcome, counted once
    repeated: int = 0  # further records of a subject already counted (a second report of one year)


# (aggregate, year, county, code, amount, subject): a subject (kind and id, or kind and name for a
# yearly report) counts once in a group however many records it has there.
Contribution = tuple[str, int, str | None, str, Decimal | None, tuple[str, str]]


@dataclass
class AggregateTable:
    """Counts and sums of lower records by (aggregate id, year, county or None)."""

    groups: dict[tuple[str, int, str | None], _Group] = field(default_factory=dict)

    def add(self, contribution: Contribution) -> None:
        agg, year, county, code, amount, subject = contribution
        g = self.groups.setdefault((agg, year, county), _Group())
        if subject in g.seen:
            g.repeated += 1
            return
        g.seen[subject] = code
        g.records += 1
        if code == "c":
            g.included += 1
            if amount is not None:
                g.amount += amount
        elif code == "i":
            g.unknown += 1

    def add_all(self, contributions: list[Contribution]) -> None:
        for c in contributions:
            self.add(c)

    def group(self, agg: str, year: int, county: str | None) -> _Group | None:
        return self.groups.get((agg, year, county))

    def value(self, agg: str, year: int, county: str | None, summed: bool) -> Decimal | None:
        g = self.group(agg, year, county)
        if g is None:
            return None
        return g.amount if summed else Decimal(g.included)


def year_of(record: Record, date: dt.date) -> int:
    """The year a lower record counts in: its report year, else the year of its date."""
    y = record.values.get("report_year")
    return y if isinstance(y, int) else date.year
