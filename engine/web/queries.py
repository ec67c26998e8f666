"""The results page's queries: a run's findings filtered and paginated in SQL, counted once per filter.

A finished run never changes, so the counts and filter choices of one are cached in memory; 100,000
records (a million findings) then page as fast as ten.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.policy.terms import STATUS_ZH
from engine.store import Store
from engine.store.finding_view import FINDING_VIEW, run_status_counts
from engine.store.models import CheckVersion, RecordVersion, RunMessage, RunRecord, StoredFinding
from engine.store.queries import FindingRow, _finding_query, _row
from engine.web.finding_filters import Filters, _choice_lock, _Lru, _where
from engine.web.record_index import _index_of, _indexes, quiet_index, record_index

__all__ = ["Filters", "count_findings", "filter_choices", "findings_all", "findings_page", "record_index"]


def _ordered(q: Any) -> Any:
    # Records as the run stored them, each record's findings in the store's check order.
    fi = FINDING_VIEW
    return q.order_by(fi.c.record_version_id, fi.c.check_ref)


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


def findings_page(
    store: Store, run_id: int, f: Filters, *, page: int, per_page: int, finished: bool = False
) -> list[FindingRow]:
    """One page: the records it spans from the record index, then their findings by index, in order."""
    fi = FINDING_VIEW
    offset = max(0, page - 1) * per_page
    records, skip = record_index(store, run_id, f, finished=finished).span(offset, per_page)
    if not records:
        return []
    # The records already passed the record filters (kind, county, record): only the findings' own
    # filters are left, and none may steer SQLite off the (run, record version, check) key: the
    # review flag is compared as an expression, so its index is not chosen.
    own = Filters(status=f.status, measure=f.measure)
    q = _where(_finding_query(), run_id, own).where(fi.c.record_version_id.in_(records))
    if f.review is not None:
        q = q.where((fi.c.review + 0) == int(f.review))
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


def _filter_choices(store: Store, run_id: int, finished: bool, key: Any) -> Choices:

    r, cv, rr = (RecordVersion.__table__, CheckVersion.__table__, RunRecord.__table__)
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

        # The stored rows grouped in SQL; the summarised findings off the run's QuietIndex (all not
        # applicable and unflagged): nothing expands the view.
        quiet = quiet_index(s, store, run_id, finished)
        starts = quiet.starts
        quiet_of = {rv: starts[i + 1] - starts[i] for i, rv in enumerate(quiet.records)}
        for status, n in run_status_counts(s.connection(), run_id).items():
            add(Filters(status=status), n)
        for review, n in grouped(sf, sf.c.review):
            add(Filters(review=bool(review)), n)
        add(Filters(review=False), len(quiet.versions))
        for vref, n in Counter(quiet.versions).items():
            add(Filters(measure=titles.get(vref)), n)
        for vref, n in grouped(sf, sf.c.version_ref):
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
