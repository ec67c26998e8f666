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

from engine.store import Store
from engine.store.models import CheckKey, CheckVersion, RecordVersion, RunMessage, StoredFinding
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
        out = {"status": self.status, "review": None if self.review is None else ("1" if self.review else "0"),
               "measure": None if self.measure is None else str(self.measure), "county": self.county,
               "kind": self.kind, "record": self.record}
        return {k: v for k, v in out.items() if v not in (None, "")}


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(q: Any, run_id: int, f: Filters) -> Any:
    fi, r, cv = StoredFinding.__table__, RecordVersion.__table__, CheckVersion.__table__
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
    r, cv, ck = RecordVersion.__table__, CheckVersion.__table__, CheckKey.__table__
    return q.order_by(r.c.kind, r.c.record_id, r.c.period, cv.c.measure, ck.c.check_id)


class _Lru:
    def __init__(self, size: int = 512):
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

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


_cache = _Lru()


def count_findings(store: Store, run_id: int, f: Filters, *, finished: bool) -> int:
    key = ("count", store.url, run_id, f)
    if finished and (hit := _cache.get(key)) is not None:
        return hit
    fi, r, ck, cv = StoredFinding.__table__, RecordVersion.__table__, CheckKey.__table__, CheckVersion.__table__
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


def findings_page(store: Store, run_id: int, f: Filters, *, page: int, per_page: int) -> list[FindingRow]:
    q = _ordered(_where(_finding_query(), run_id, f)).limit(per_page).offset(max(0, page - 1) * per_page)
    with store.session() as s:
        return [_row(m) for m in s.execute(q).mappings()]


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
    key = ("choices", store.url, run_id)
    if finished and (hit := _cache.get(key)) is not None:
        return hit
    fi, r, cv = StoredFinding.__table__, RecordVersion.__table__, CheckVersion.__table__
    with store.session() as s:
        refs = select(fi.c.version_ref).where(fi.c.run_id == run_id).distinct().scalar_subquery()
        measures = sorted({(m, t) for m, t in s.execute(select(cv.c.measure, cv.c.measure_title)
                                                         .where(cv.c.id.in_(refs))).all()})
        from engine.store.models import RunRecord

        rr = RunRecord.__table__
        kinds = sorted(k for (k,) in s.execute(select(r.c.kind).distinct().join(rr, rr.c.record_version_id == r.c.id)
                                               .where(rr.c.run_id == run_id)).all())
        counties: set[str] = set()
        for (vj,) in s.execute(select(r.c.values_json).join(rr, rr.c.record_version_id == r.c.id)
                               .where(rr.c.run_id == run_id).execution_options(yield_per=5000)):
            if '"county"' in vj:
                c = json.loads(vj).get("county")
                if isinstance(c, str) and c:
                    counties.add(c)
    seen: dict[int, str] = {}
    for m, t in measures:
        seen.setdefault(m, t)
    out = Choices(measures=sorted(seen.items()), kinds=kinds, counties=sorted(counties))
    if finished:
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
        rows = [Message(category=x.category, file=x.file, sheet=x.sheet, row=x.row, record_id=x.record_id,
                        field=x.field, message=x.message)
                for x in s.execute(select(m).where(cond).order_by(m.c.id).limit(limit)).all()]
    return rows, total
