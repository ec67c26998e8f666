"""Reading a record from the store: its history across runs, and the latest versions a new run starts from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import col

from engine.store.database import StoreError
from engine.store.finding_reads import FindingChange, FindingRow, _finding_query, _row, changed_fields
from engine.store.finding_view import FINDING_VIEW
from engine.store.models import CheckKey, CheckVersion, RecordVersion, Run
from engine.store.run_reads import _summary
from engine.store.runs import RunSummary
from engine.store.store import Store


class VersionInfo(BaseModel):
    id: int
    version: int
    content_hash: str
    name: str | None
    values: dict[str, Any]
    previous_id: int | None
    first_run_id: int


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any


class RunJudgement(BaseModel):
    """One run that judged the record: which version it saw and each check's finding."""

    run: RunSummary
    version: int
    source: str | None
    findings: list[FindingRow]
    field_changes: list[FieldChange]  # record values changed since the previous run that judged it
    finding_changes: list[FindingChange]  # findings changed since the previous run that judged it


class RecordHistory(BaseModel):
    kind: str
    record_id: str
    period: str
    versions: list[VersionInfo]
    runs: list[RunJudgement]


def _field_changes(a: dict[str, Any], b: dict[str, Any]) -> list[FieldChange]:
    return [
        FieldChange(field=k, before=a.get(k), after=b.get(k))
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


def record_history(store: Store, record_id: str) -> list[RecordHistory]:
    """Every run that judged the record (each kind and period of that id), oldest first, with the changes."""
    f = FINDING_VIEW
    with store.session() as s:
        versions = (
            s.execute(
                select(RecordVersion)
                .where(col(RecordVersion.record_id) == record_id)
                .order_by(col(RecordVersion.kind), col(RecordVersion.period), col(RecordVersion.version))
            )
            .scalars()
            .all()
        )
        if not versions:
            raise StoreError(f"record {record_id} is not in the store {store.display}")
        rows = [
            _row(m)
            for m in s.execute(
                _finding_query()
                # on the view's own column: SQLite then narrows both of its parts by index
                .where(f.c.record_version_id.in_([v.id for v in versions]))
                .order_by(f.c.run_id, CheckVersion.__table__.c.measure, CheckKey.__table__.c.check_id)
            ).mappings()
        ]
        run_ids = sorted({row.run_id for row in rows})
        runs = {
            run.id: _summary(run) for run in s.execute(select(Run).where(col(Run.id).in_(run_ids))).scalars()
        }
    out = []
    for ident in sorted({(v.kind, v.period) for v in versions}):
        vs = [
            VersionInfo(
                id=v.id or 0,
                version=v.version,
                content_hash=v.content_hash,
                name=v.name,
                values=json.loads(v.values_json),
                previous_id=v.previous_id,
                first_run_id=v.first_run_id,
            )
            for v in versions
            if (v.kind, v.period) == ident
        ]
        by_version = {v.id: v for v in vs}
        mine = [row for row in rows if (row.kind, row.period) == ident]
        judgements: list[RunJudgement] = []
        prev_findings: dict[str, FindingRow] = {}
        prev_values: dict[str, Any] | None = None
        for run_id in sorted({row.run_id for row in mine}):
            fs = [row for row in mine if row.run_id == run_id]
            v = by_version[fs[0].record_version_id]
            changes: list[FindingChange] = []
            if prev_values is not None:
                cur = {row.check_id: row for row in fs}
                for cid in sorted(set(cur) | set(prev_findings)):
                    a, b = prev_findings.get(cid), cur.get(cid)
                    fields = changed_fields(a, b) if a and b else []
                    if a and b and not fields:
                        continue
                    ref = b or a
                    assert ref is not None
                    changes.append(
                        FindingChange(
                            change="changed" if a and b else ("added" if b else "removed"),
                            kind=ref.kind,
                            record_id=ref.record_id,
                            period=ref.period,
                            record_name=ref.record_name,
                            check_id=cid,
                            check_title=ref.check_title,
                            before=a,
                            after=b,
                            fields=fields,
                        )
                    )
            src = fs[0]
            judgements.append(
                RunJudgement(
                    run=runs[run_id],
                    version=v.version,
                    source=None
                    if src.file is None
                    else f"{src.file}"
                    + (f"[{src.sheet}]" if src.sheet else "")
                    + (f" 第{src.row}行" if src.row is not None else ""),
                    findings=fs,
                    field_changes=[] if prev_values is None else _field_changes(prev_values, v.values),
                    finding_changes=changes,
                )
            )
            prev_findings = {row.check_id: row for row in fs}
            prev_values = v.values
        out.append(
            RecordHistory(kind=ident[0], record_id=record_id, period=ident[1], versions=vs, runs=judgements)
        )
    return out


# --- context for a new run -------------------------------------------------------------------------


class StoredVersion(BaseModel):
    """The latest stored version of a record: what a new run counts and reads earlier years from."""

    kind: str
    record_id: str
    period: str
    name: str | None
    values: dict[str, Any]  # as stored (JSON): decode with the record vocabulary
    first_run_id: int


def latest_versions(store: Store, kinds: set[str] | frozenset[str]) -> Iterator[StoredVersion]:
    """The latest version of every stored record of these kinds (one per kind, id and period)."""
    if not kinds:
        return
    r = RecordVersion.__table__
    latest = (
        select(r.c.kind, r.c.record_id, r.c.period, func.max(r.c.version).label("v"))
        .where(r.c.kind.in_(sorted(kinds)))
        .group_by(r.c.kind, r.c.record_id, r.c.period)
        .subquery()
    )
    q = (
        select(r.c.kind, r.c.record_id, r.c.period, r.c.name, r.c.values_json, r.c.first_run_id)
        .join(
            latest,
            (latest.c.kind == r.c.kind)
            & (latest.c.record_id == r.c.record_id)
            & (latest.c.period == r.c.period)
            & (latest.c.v == r.c.version),
        )
        .order_by(r.c.kind, r.c.record_id, r.c.period)
    )
    with store.session() as s:
        for m in s.execute(q.execution_options(yield_per=2000)).mappings():
            yield StoredVersion(
                kind=m["kind"],
                record_id=m["record_id"],
                period=m["period"],
                name=m["name"],
                values=json.loads(m["values_json"]),
                first_run_id=m["first_run_id"],
            )
