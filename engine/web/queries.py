"""The results page's queries: a run's findings filtered and paginated in SQL, counted once per filter.

A finished run never changes, so the counts and filter choices of one are cached in memory; 100,000
records (a million findings) then page as fast as ten.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.policy.terms import STATUS_ZH
from engine.store import Store
from engine.store.finding_view import FINDING_VIEW, by_ids
from engine.store.models import CheckKey, CheckVersion, RecordVersion, RunMessage
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


def _where(q: Any, run_id: int, f: Filters) -> Any:
    fi, r, cv = FINDING_VIEW, RecordVersion.__table__, CheckVersion.__table__
    q = q.where(fi.c.run_id == run_id)
    if f.status:
        q = q.where(fi.c.status == f.status)
    if f.review is not None:
        q = q.where(fi.c.review == int(f.review))
    if f.measure is not None:
        q = q.where(cv.c.measure == f.measure)
    if f.kind:
        q = q.where(r.c.kind == f.kind)
    if f.record:
        q = q.where(r.c.record_id == f.record)
    if f.county:
        # values_json is canonical JSON (json.dumps, sort_keys): "county": "曹县" appears exactly so.
        needle = json.dumps({"county": f.county}, ensure_ascii=False)[1:-1]
        q = q.where(r.c.values_json.like(f"%{_like_escape(needle)}%", escape="\\"))
    return q


def _ordered(q: Any) -> Any:
    # The order of the unique key (run, record version, check): records as the run stored them, read
    # straight off that index with no sort, which a page deep into a million findings needs.
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
    fi, r, ck, cv = (FINDING_VIEW, RecordVersion.__table__, CheckKey.__table__, CheckVersion.__table__)
    q = select(func.count()).select_from(fi)
    if f.measure is not None:
        q = q.join(cv, cv.c.id == fi.c.version_ref)
    if f.kind or f.county or f.record:
        q = q.join(r, r.c.id == fi.c.record_version_id)
    del ck
    with store.session() as s:
        n = int(s.execute(_where(q, run_id, f)).scalar_one())
    if finished:
        _cache.put(key, n)
    return n


def _id_query(run_id: int, f: Filters) -> Any:
    """The ids of the matching findings, in page order, joining only what the filters need."""
    fi, r, cv = FINDING_VIEW, RecordVersion.__table__, CheckVersion.__table__
    q = select(fi.c.id).select_from(fi)
    if f.measure is not None:
        q = q.join(cv, cv.c.id == fi.c.version_ref)
    if f.kind or f.county or f.record:
        q = q.join(r, r.c.id == fi.c.record_version_id)
    return _ordered(_where(q, run_id, f))


def findings_page(store: Store, run_id: int, f: Filters, *, page: int, per_page: int) -> list[FindingRow]:
    """One page in two steps: the page's ids off the findings' unique index (an OFFSET of 800,000 walks
    that index alone, never the joins), then those findings in full."""
    with store.session() as s:
        ids = [
            i for (i,) in s.execute(_id_query(run_id, f).limit(per_page).offset(max(0, page - 1) * per_page))
        ]
        if not ids:
            return []
        rows = {m["id"]: _row(m) for q in by_ids(_finding_query(), ids) for m in s.execute(q).mappings()}
    return [rows[i] for i in ids if i in rows]


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
        where = fi.c.run_id == run_id

        def grouped(col: Any) -> list[tuple[Any, int]]:
            return list(s.execute(select(col, func.count()).where(where).group_by(col)).all())

        def add(f: Filters, n: int) -> None:
            counts[f] = counts.get(f, 0) + n

        for status, n in grouped(fi.c.status):
            add(Filters(status=status), n)
        for review, n in grouped(fi.c.review):
            add(Filters(review=bool(review)), n)
        for vref, n in grouped(fi.c.version_ref):
            add(Filters(measure=titles.get(vref)), n)
        for rv, n in grouped(fi.c.record_version_id):
            add(Filters(kind=kind_of.get(rv)), n)
            add(Filters(county=county_of.get(rv)), n)
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
