"""Reading the store: runs, a record's history, the difference between two runs, a run's findings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlmodel import col

from engine.store.codec import STATIC_COLUMNS, decode_details, decode_value
from engine.store.database import StoreError
from engine.store.models import (
    CheckKey,
    CheckVersion,
    RecordVersion,
    Run,
    RunChunk,
    RunMessage,
    RunPack,
    RunRecord,
    SharedMessage,
    StoredFinding,
)
from engine.store.runs import InputFile, RunSummary
from engine.store.store import Store


def _utc(v: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    if v is not None and v.tzinfo is None:
        return v.replace(tzinfo=dt.UTC)
    return v


def _utc_at(v: dt.datetime) -> dt.datetime:
    return v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC)


def _summary(run: Run, counts: dict[str, int] | None = None) -> RunSummary:
    return RunSummary(
        id=run.id or 0,
        started_at=_utc_at(run.started_at),
        finished_at=_utc(run.finished_at),
        reviewer=run.reviewer,
        as_of=run.as_of,
        n_records=run.n_records,
        n_rejected=run.n_rejected,
        n_file_problems=run.n_file_problems,
        n_findings=run.n_findings,
        counts=counts if counts is not None else json.loads(run.counts),
    )


def _get_run(s: Any, run_id: int, store: Store) -> Run:
    run = s.get(Run, run_id)
    if run is None:
        raise StoreError(f"no run {run_id} in {store.display}")
    return run


def run_summary(store: Store, run_id: int) -> RunSummary:
    with store.session() as s:
        return _summary(_get_run(s, run_id, store))


def list_runs(store: Store) -> list[RunSummary]:
    with store.session() as s:
        return [_summary(r) for r in s.execute(select(Run).order_by(col(Run.id))).scalars()]


class PackUsed(BaseModel):
    pack_id: str
    title: str
    number: str
    fingerprint: str


class RunDetail(BaseModel):
    summary: RunSummary
    kind: str | None
    chunk_size: int
    engine: str
    engine_version: str
    policy_fingerprint: str
    rules_dirs: list[str]
    inputs: list[InputFile]
    packs: list[PackUsed]
    chunks_committed: int
    resumed: int
    messages: dict[str, int]  # category -> count


def run_detail(store: Store, run_id: int) -> RunDetail:
    """Everything about one run; counts come from the stored findings, so an unfinished run shows its progress."""
    with store.session() as s:
        run = _get_run(s, run_id, store)
        f = StoredFinding.__table__
        counts = dict(
            s.execute(select(f.c.status, func.count()).where(f.c.run_id == run_id).group_by(f.c.status)).all()
        )
        m = RunMessage.__table__
        messages = dict(
            s.execute(
                select(m.c.category, func.count()).where(m.c.run_id == run_id).group_by(m.c.category)
            ).all()
        )
        n_records = s.execute(
            select(func.count())
            .select_from(RunRecord.__table__)
            .where(RunRecord.__table__.c.run_id == run_id)
        ).scalar_one()
        chunks = s.execute(
            select(func.count()).select_from(RunChunk.__table__).where(RunChunk.__table__.c.run_id == run_id)
        ).scalar_one()
        packs = [
            PackUsed(pack_id=p.pack_id, title=p.title, number=p.number, fingerprint=p.fingerprint)
            for p in s.execute(
                select(RunPack).where(col(RunPack.run_id) == run_id).order_by(col(RunPack.pack_id))
            ).scalars()
        ]
        summary = _summary(run, counts).model_copy(
            update={
                "n_records": n_records,
                "n_findings": sum(counts.values()),
                "n_rejected": messages.get("rejected", 0),
                "n_file_problems": messages.get("file_problem", 0),
            }
        )
        return RunDetail(
            summary=summary,
            kind=run.kind,
            chunk_size=run.chunk_size,
            engine=run.engine,
            engine_version=run.engine_version,
            policy_fingerprint=run.policy_fingerprint,
            rules_dirs=json.loads(run.rules_dirs),
            inputs=[InputFile.model_validate(i) for i in json.loads(run.inputs)],
            packs=packs,
            chunks_committed=chunks,
            resumed=run.resumed,
            messages=messages,
        )


def run_messages(store: Store, run_id: int, category: str | None = None) -> list[RunMessage]:
    with store.session() as s:
        q = select(RunMessage).where(col(RunMessage.run_id) == run_id)
        if category:
            q = q.where(col(RunMessage.category) == category)
        return list(s.execute(q.order_by(col(RunMessage.id))).scalars())


# --- findings -------------------------------------------------------------------------------------


class FindingRow(BaseModel):
    """A stored finding with the record it judged and where that record was read from."""

    run_id: int
    kind: str
    record_id: str
    period: str
    record_name: str | None
    record_version: int
    record_version_id: int
    file: str | None
    sheet: str | None
    row: int | None
    check_id: str
    check_version: str
    pack: str
    measure: int
    measure_title: str
    check_title: str
    nature: str
    status: str
    value: bool | Decimal | None
    threshold: bool | Decimal | None
    target: Decimal | None
    unit: str | None
    op: str
    due: dt.date | None
    as_of: dt.date
    message: str
    missing_fields: str | None
    review: bool = False
    details: dict[str, Any] = {}  # review_reasons, basis, reported, counted, baseline… (codec.decode_details)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What a finding is about, across runs and record versions."""
        return (self.kind, self.record_id, self.period, self.check_id)


def _finding_query() -> Select[Any]:
    f, r, rr = StoredFinding.__table__, RecordVersion.__table__, RunRecord.__table__
    ck, cv, sm = CheckKey.__table__, CheckVersion.__table__, SharedMessage.__table__
    return (
        select(
            f,
            ck.c.check_id,
            *(cv.c[k] for k in STATIC_COLUMNS),
            r.c.kind,
            r.c.record_id.label("rec_id"),
            r.c.period,
            r.c.name.label("record_name"),
            r.c.version.label("record_version"),
            rr.c.file,
            rr.c.sheet,
            rr.c.row,
            sm.c.text.label("shared_message"),
        )
        .join(ck, ck.c.id == f.c.check_ref)
        .join(cv, cv.c.id == f.c.version_ref)
        .outerjoin(sm, sm.c.id == f.c.message_ref)
        .join(r, r.c.id == f.c.record_version_id)
        .outerjoin(rr, (rr.c.run_id == f.c.run_id) & (rr.c.record_version_id == f.c.record_version_id))
    )


def _row(m: Any) -> FindingRow:
    target = decode_value(m["target"])
    return FindingRow(
        run_id=m["run_id"],
        kind=m["kind"],
        record_id=m["rec_id"],
        period=m["period"],
        record_name=m["record_name"],
        record_version=m["record_version"],
        record_version_id=m["record_version_id"],
        file=m["file"],
        sheet=m["sheet"],
        row=m["row"],
        check_id=m["check_id"],
        check_version=m["check_version"],
        pack=m["pack"],
        measure=m["measure"],
        measure_title=m["measure_title"],
        check_title=m["check_title"],
        nature=m["nature"],
        status=m["status"],
        value=decode_value(m["value"]),
        threshold=decode_value(m["threshold"]),
        target=target if isinstance(target, Decimal) else None,
        unit=m["unit"],
        op=m["op"],
        due=m["due"],
        as_of=m["as_of"],
        message=m["message"] if m["message"] is not None else m["shared_message"],
        missing_fields=m["missing_fields"],
        review=bool(m["review"]),
        details=decode_details(m["details"]),
    )


def run_findings(store: Store, run_id: int, batch: int = 5000) -> Iterator[FindingRow]:
    """A run's findings in record order, streamed."""
    with store.session() as s:
        _get_run(s, run_id, store)
        f, r = StoredFinding.__table__, RecordVersion.__table__
        cv, ck = CheckVersion.__table__, CheckKey.__table__
        q = (
            _finding_query()
            .where(f.c.run_id == run_id)
            .order_by(r.c.kind, r.c.record_id, r.c.period, cv.c.measure, ck.c.check_id)
        )
        for m in s.execute(q.execution_options(yield_per=batch)).mappings():
            yield _row(m)


# --- diff -----------------------------------------------------------------------------------------


class FindingChange(BaseModel):
    change: Literal["added", "removed", "changed"]
    kind: str
    record_id: str
    period: str
    record_name: str | None
    check_id: str
    check_title: str
    before: FindingRow | None
    after: FindingRow | None
    fields: list[str]  # what changed: status, value, threshold, check_version


COMPARED = ("status", "value", "threshold", "check_version")


def changed_fields(a: FindingRow, b: FindingRow) -> list[str]:
    return [k for k in COMPARED if getattr(a, k) != getattr(b, k)]


# --- history --------------------------------------------------------------------------------------


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
    r, f = RecordVersion.__table__, StoredFinding.__table__
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
                .where(r.c.record_id == record_id)
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
