"""The results page's queries: a run's findings filtered and paginated in SQL, counted once per filter.

A finished run never changes, so the counts and filter choices of one are cached in memory; 100,000
records (a million findings) then page as fast as ten.
"""

from __future__ import annotations

import json
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.policy.terms import STATUS_ZH
from engine.store import Store
from engine.store.finding_view import FINDING_VIEW, quiet_length, run_status_counts
from engine.store.models import CheckVersion, RecordVersion, RunMessage, RunRecord, StoredFinding
from engine.store.queries import FindingRow, _finding_query, _row


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    review: bool | None = None
    measure: int | None = None
    county: str | None = None
    kind: str | None = None
    record: str | None = None  # a record id, exactly

    def params(self) -> dict[str, str]:
        out = {
            "status": self.status,
            "review": None if self.review is None else ("1" if self.review else "0"),
            "measure": None if self.measure is None else str(self.measure),
            "county": self.county,
            "kind": self.kind,
            "record": self.record,
        }
        return {k: v for k, v in out.items() if v not in (None, "")}


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(q: Any, run_id: int, f: Filters, fi: Any = FINDING_VIEW) -> Any:
    """The filters as conditions on the view's own columns (record versions and check versions by
    sub-select): SQLite then narrows both parts of the view by index instead of expanding it whole.
    ``fi`` may also be the findings table (the same columns) or run_records (only record filters)."""
    cv = CheckVersion.__table__
    q = q.where(fi.c.run_id == run_id)
    if fi is RunRecord.__table__:
        return q.where(fi.c.record_version_id.in_(_records_of(f))) if _records_of(f) is not None else q
    if f.status:
        q = q.where(fi.c.status == f.status)
    if f.review is not None:
        q = q.where(fi.c.review == int(f.review))
    if f.measure is not None:
        q = q.where(fi.c.version_ref.in_(select(cv.c.id).where(cv.c.measure == f.measure)))
    records = _records_of(f)
    if records is not None:
        q = q.where(fi.c.record_version_id.in_(records))
    return q


def _records_of(f: Filters) -> Any:
    """The record versions the record filters (kind, record, county) admit, as a sub-select; None: all."""
    if not (f.kind or f.record or f.county):
        return None
    r = RecordVersion.__table__
    records = select(r.c.id)
    if f.kind:
        records = records.where(r.c.kind == f.kind)
    if f.record:
        records = records.where(r.c.record_id == f.record)
    if f.county:
        # values_json is canonical JSON (json.dumps, sort_keys): "county": "曹县" appears exactly so.
        needle = json.dumps({"county": f.county}, ensure_ascii=False)[1:-1]
        records = records.where(r.c.values_json.like(f"%{_like_escape(needle)}%", escape="\\"))
    return records


def _ordered(q: Any) -> Any:
    # Records as the run stored them, each record's findings in the store's check order.
    fi = FINDING_VIEW
    return q.order_by(fi.c.record_version_id, fi.c.check_ref)


class _Lru:
    def __init__(self, size: int = 512):
        self.size, self.lock = size, threading.Lock()
        self.data: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_cache = _Lru(4096)


def cached_detail(store: Store, run_id: int) -> Any:
    """run_detail, remembered once the run is finished (its counts are then final)."""
    from engine.store import run_detail

    key = ("detail", store.url, run_id)
    if (hit := _cache.get(key)) is not None:
        return hit
    d = run_detail(store, run_id)
    if d.summary.finished_at is not None:
        _cache.put(key, d)
    return d


def count_findings(store: Store, run_id: int, f: Filters, *, finished: bool) -> int:
    key = ("count", store.url, run_id, f)
    if finished and (hit := _cache.get(key)) is not None:
        return hit
    if finished and len(f.params()) == 1 and not f.record:
        filter_choices(store, run_id, finished=True)  # counts every one-filter choice in one pass
        if (hit := _cache.get(key)) is not None:
            return hit
    n = record_index(store, run_id, f, finished=finished).total
    if finished:
        _cache.put(key, n)
    return n


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
            index = _index_of(sorted(_counts_per_record(s, run_id, f).items()))
        if finished:
            _indexes.put(key, index)
        return index


def _counts_per_record(s: Any, run_id: int, f: Filters) -> dict[int, int]:
    """Matching findings per record version: the rows grouped, plus the summarised ones, counted by each
    summary's length where no filter reads inside it (only the measure does: then they are expanded)."""
    sf, fi, rr = StoredFinding.__table__, FINDING_VIEW, RunRecord.__table__
    out: dict[int, int] = dict(
        s.execute(
            _where(select(sf.c.record_version_id, func.count()), run_id, f, sf).group_by(
                sf.c.record_version_id
            )
        ).all()
    )
    if (f.status and f.status != "not_applicable") or f.review:
        return out  # every summarised finding is not applicable and unflagged
    if f.measure is not None:
        q = _where(select(fi.c.record_version_id, func.count()).where(fi.c.id < 0), run_id, f)
        quiet = s.execute(q.group_by(fi.c.record_version_id)).all()
    else:
        length = quiet_length(s.connection().dialect.name, rr.c.quiet)
        q = _where(select(rr.c.record_version_id, length).where(rr.c.quiet.is_not(None)), run_id, f, rr)
        quiet = s.execute(q).all()
    for rv, n in quiet:
        out[rv] = out.get(rv, 0) + n
    return out


def _index_of(counted: Iterable[Any]) -> RecordIndex:
    records, before, total = array("q"), array("q"), 0
    for rv, n in counted:
        records.append(rv)
        before.append(total)
        total += n
    return RecordIndex(records, before, total)


def findings_page(
    store: Store, run_id: int, f: Filters, *, page: int, per_page: int, finished: bool = False
) -> list[FindingRow]:
    """One page: the records it spans from the record index, then their findings by index, in order."""
    fi = FINDING_VIEW
    offset = max(0, page - 1) * per_page
    records, skip = record_index(store, run_id, f, finished=finished).span(offset, per_page)
    if not records:
        return []
    q = _where(_finding_query(), run_id, f).where(fi.c.record_version_id.in_(records))
    with store.session() as s:
        found = list(s.execute(q).mappings())
    found.sort(key=lambda m: (m["record_version_id"], m["check_ref"]))
    return [_row(m) for m in found[skip : skip + per_page]]


def findings_all(store: Store, run_id: int, f: Filters) -> Iterator[FindingRow]:
    q = _ordered(_where(_finding_query(), run_id, f))
    with store.session() as s:
        for m in s.execute(q.execution_options(yield_per=5000)).mappings():
            yield _row(m)


@dataclass
class Choices:
    measures: list[tuple[int, str]]
    kinds: list[str]
    counties: list[str]


def filter_choices(store: Store, run_id: int, *, finished: bool) -> Choices:
    """The measures, kinds and counties of a run; for a finished run also the count of findings under
    each single filter, all from one pass over the run's findings (a few seconds for a million),
    so the first visitor to choose 曹县 does not wait for a scan of its own."""
    key = ("choices", store.url, run_id)
    if finished and (hit := _cache.get(key)) is not None:
        return hit
    with _choice_lock(key):
        if finished and (hit := _cache.get(key)) is not None:
            return hit
        return _filter_choices(store, run_id, finished, key)


_locks: dict[Any, threading.Lock] = {}
_locks_guard = threading.Lock()


def _choice_lock(key: Any) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _filter_choices(store: Store, run_id: int, finished: bool, key: Any) -> Choices:
    from engine.store.models import RunRecord

    fi, r, cv, rr = (FINDING_VIEW, RecordVersion.__table__, CheckVersion.__table__, RunRecord.__table__)
    with store.session() as s:
        county_of: dict[int, str | None] = {}
        kind_of: dict[int, str] = {}
        for rv, kind, vj in s.execute(
            select(r.c.id, r.c.kind, r.c.values_json)
            .join(rr, rr.c.record_version_id == r.c.id)
            .where(rr.c.run_id == run_id)
            .execution_options(yield_per=5000)
        ):
            kind_of[rv] = kind
            c = json.loads(vj).get("county") if '"county"' in vj else None
            county_of[rv] = c if isinstance(c, str) and c else None
        titles = dict(s.execute(select(cv.c.id, cv.c.measure)).all())
        measure_titles = dict(s.execute(select(cv.c.measure, cv.c.measure_title)).all())
        counts: dict[Filters, int] = {}
        sf = StoredFinding.__table__

        def grouped(table: Any, col: Any) -> list[tuple[Any, int]]:
            q = select(col, func.count()).where(table.c.run_id == run_id).group_by(col)
            return list(s.execute(q).all())

        def add(f: Filters, n: int) -> None:
            counts[f] = counts.get(f, 0) + n

        # Only the measure needs the summarised findings expanded (their check versions); statuses,
        # review flags and counts per record come from the rows and each summary's length.
        quiet_of = dict(
            s.execute(
                select(rr.c.record_version_id, quiet_length(s.connection().dialect.name, rr.c.quiet)).where(
                    rr.c.run_id == run_id, rr.c.quiet.is_not(None)
                )
            ).all()
        )
        for status, n in run_status_counts(s.connection(), run_id).items():
            add(Filters(status=status), n)
        for review, n in grouped(sf, sf.c.review):
            add(Filters(review=bool(review)), n)
        add(Filters(review=False), sum(quiet_of.values()))
        for vref, n in grouped(fi, fi.c.version_ref):
            add(Filters(measure=titles.get(vref)), n)
        per_record = dict(grouped(sf, sf.c.record_version_id))
        for rv, n in quiet_of.items():
            per_record[rv] = per_record.get(rv, 0) + n
        for rv, n in per_record.items():
            add(Filters(kind=kind_of.get(rv)), n)
            add(Filters(county=county_of.get(rv)), n)
        if finished:
            _indexes.put(("index", store.url, run_id, Filters()), _index_of(sorted(per_record.items())))
    measures = sorted({f.measure for f in counts if f.measure is not None})
    out = Choices(
        measures=[(m, measure_titles.get(m, "")) for m in measures],
        kinds=sorted({k for k in kind_of.values()}),
        counties=sorted({c for c in county_of.values() if c}),
    )
    if finished:
        for f, n in counts.items():
            if f.params():
                _cache.put(("count", store.url, run_id, f), n)
        for f in (
            [Filters(status=k) for k in STATUS_ZH]
            + [Filters(review=True), Filters(review=False)]
            + [Filters(county=c) for c in out.counties]
            + [Filters(kind=k) for k in out.kinds]
        ):
            if ("count", store.url, run_id, f) not in _cache.data:
                _cache.put(("count", store.url, run_id, f), 0)
        _cache.put(key, out)
    return out


@dataclass
class Message:
    category: str
    file: str | None
    sheet: str | None
    row: int | None
    record_id: str | None
    field: str | None
    message: str


def run_problems(store: Store, run_id: int, limit: int = 200) -> tuple[list[Message], int]:
    """Rejected rows and unusable files of a run (the first `limit`) and how many there are."""
    m = RunMessage.__table__
    cond = (m.c.run_id == run_id) & m.c.category.in_(("rejected", "file_problem"))
    with store.session() as s:
        total = int(s.execute(select(func.count()).select_from(m).where(cond)).scalar_one())
        rows = [
            Message(
                category=x.category,
                file=x.file,
                sheet=x.sheet,
                row=x.row,
                record_id=x.record_id,
                field=x.field,
                message=x.message,
            )
            for x in s.execute(select(m).where(cond).order_by(m.c.id).limit(limit)).all()
        ]
    return rows, total


def warm_up(store: Store, latest: int = 3) -> threading.Thread:
    """Count the latest finished runs' findings by filter in the background, before anyone asks."""

    def work() -> None:
        from engine.store import list_runs

        try:
            for r in [r for r in list_runs(store) if r.finished_at][-latest:]:
                cached_detail(store, r.id)
                filter_choices(store, r.id, finished=True)
        except Exception:  # noqa: BLE001 - only a warm-up; the pages compute what they need
            pass

    t = threading.Thread(target=work, name="warm-up", daemon=True)
    t.start()
    return t
