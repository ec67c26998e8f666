"""What the results page filters a run's findings by, as SQL conditions on the finding_rows view, and the
small thread-safe caches the workbench keeps of a finished run (it never changes)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.store.finding_view import FINDING_VIEW
from engine.store.models import CheckVersion, RecordVersion, RunRecord


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


_locks: dict[Any, threading.Lock] = {}
_locks_guard = threading.Lock()


def _choice_lock(key: Any) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())
