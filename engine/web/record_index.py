"""A run's findings under one filter, record by record: how many each record has and how many come
before it, so that any page is the findings of a few records read by index.

Counting them takes one grouped scan of the stored rows and a walk over the run's summarised findings
(engine/store/finding_view.py), kept per run as arrays of their check versions: a filter by measure
then needs no expansion of the view in SQL.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.store import Store
from engine.store.models import CheckVersion, RunRecord, StoredFinding
from engine.web.finding_filters import Filters, _choice_lock, _Lru, _where


@dataclass(frozen=True)
class RecordIndex:
    """The records with findings under one filter, in page order, and how many findings come before each
    (``before[i]``): a page is then the findings of a few records, read by index."""

    records: array
    before: array
    total: int

    def span(self, offset: int, limit: int) -> tuple[list[int], int]:
        """The records holding findings offset … offset+limit-1, and how many of the first to skip."""
        i = bisect_right(self.before, offset) - 1
        if i < 0 or offset >= self.total:
            return [], 0
        j = bisect_left(self.before, offset + limit, lo=i)
        return list(self.records[i:j]), offset - self.before[i]


_indexes = _Lru(64)  # one array pair per (run, filter): a few MB at most


def record_index(store: Store, run_id: int, f: Filters, *, finished: bool) -> RecordIndex:
    """Per record, how many findings match (one grouped scan, remembered for a finished run)."""
    key = ("index", store.url, run_id, f)
    if finished and (hit := _indexes.get(key)) is not None:
        return hit
    with _choice_lock(key):  # one scan however many sessions ask at once
        if finished and (hit := _indexes.get(key)) is not None:
            return hit
        with store.session() as s:
            index = _index_of(sorted(_counts_per_record(s, store, run_id, f, finished).items()))
        if finished:
            _indexes.put(key, index)
        return index


def _counts_per_record(s: Any, store: Store, run_id: int, f: Filters, finished: bool) -> dict[int, int]:
    """Matching findings per record version: the stored rows grouped in SQL, plus the summarised ones
    counted off the run's QuietIndex (all of them not applicable and unflagged)."""
    sf, rr, cv = StoredFinding.__table__, RunRecord.__table__, CheckVersion.__table__
    grouped = _where(select(sf.c.record_version_id, func.count()), run_id, f, sf)
    out: dict[int, int] = dict(s.execute(grouped.group_by(sf.c.record_version_id)).all())
    if (f.status and f.status != "not_applicable") or f.review:
        return out
    admitted = None
    if f.kind or f.county or f.record:
        admitted = {rv for (rv,) in s.execute(_where(select(rr.c.record_version_id), run_id, f, rr))}
    versions = None
    if f.measure is not None:
        versions = {v for (v,) in s.execute(select(cv.c.id).where(cv.c.measure == f.measure))}
    for rv, n in quiet_index(s, store, run_id, finished).counts(admitted, versions):
        out[rv] = out.get(rv, 0) + n
    return out


@dataclass(frozen=True)
class QuietIndex:
    """A run's summarised findings: per record version (ascending) the check versions of its list."""

    records: array
    starts: array  # records[i]'s check versions are versions[starts[i]:starts[i + 1]]
    versions: array

    def counts(self, admitted: set[int] | None, versions: set[int] | None) -> Iterator[tuple[int, int]]:
        """(record version, how many of its summarised findings) for the admitted records and versions."""
        starts, vs = self.starts, self.versions
        for i, rv in enumerate(self.records):
            if admitted is not None and rv not in admitted:
                continue
            a, b = starts[i], starts[i + 1]
            n = b - a if versions is None else sum(1 for v in vs[a:b] if v in versions)
            if n:
                yield rv, n


_quiet = _Lru(8)  # one per run: a few MB for 100,000 records


def quiet_index(s: Any, store: Store, run_id: int, finished: bool) -> QuietIndex:
    """The run's QuietIndex (one read of its summaries, remembered for a finished run)."""
    key = ("quiet", store.url, run_id)
    if finished and (hit := _quiet.get(key)) is not None:
        return hit
    with _choice_lock(key):
        if finished and (hit := _quiet.get(key)) is not None:
            return hit
        rr = RunRecord.__table__
        records, starts, versions = array("q"), array("q"), array("q")
        q = (
            select(rr.c.record_version_id, rr.c.quiet)
            .where(rr.c.run_id == run_id, rr.c.quiet.is_not(None))
            .order_by(rr.c.record_version_id)
        )
        for rv, text in s.execute(q.execution_options(yield_per=5000)):
            records.append(rv)
            starts.append(len(versions))
            versions.extend(item[1] for item in json.loads(text))
        starts.append(len(versions))
        index = QuietIndex(records, starts, versions)
        if finished:
            _quiet.put(key, index)
        return index


def _index_of(counted: Iterable[Any]) -> RecordIndex:
    records, before, total = array("q"), array("q"), 0
    for rv, n in counted:
        records.append(rv)
        before.append(total)
        total += n
    return RecordIndex(records, before, total)
