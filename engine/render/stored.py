"""Judgements read back from the store, as the Finding models the renderer takes.

The store keeps each finding's verdict and numbers; the wording a letter quotes (the source
sentence, interpretation, lead departments, 左右/力争) comes from the loaded rule packs by check id.
When the packs changed since the run (fingerprint differs) the caller is told, so it can warn.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from engine.evaluation.findings import Finding
from engine.policy.compiler import CompiledCheck
from engine.policy.policy import Policy
from engine.store import Store, StoreError
from engine.store.codec import decode_values  # noqa: F401 (re-exported for render callers)
from engine.store.finding_reads import FindingRow, run_findings
from engine.store.models import RecordVersion, Run, RunRecord
from engine.store.record_reads import record_history


class Judgement(BaseModel):
    """One record as one run judged it."""

    run_id: int
    run_date: dt.date
    fingerprint: str
    record_id: str
    kind: str
    period: str
    name: str | None
    values: dict[str, Any]
    findings: list[Finding]


class _Checks:
    def __init__(self, policy: Policy):
        self.by_id: dict[str, CompiledCheck] = {}
        for c in policy.checks():
            self.by_id.setdefault(c.full_id, c)

    def finding(self, row: FindingRow) -> Finding:
        cc = self.by_id.get(row.check_id)
        if cc is None:
            raise StoreError(
                f"check {row.check_id} (run {row.run_id}) is not in the loaded rule packs; "
                "load the packs that run used (--rules)"
            )
        check, measure = cc.check, cc.measure
        missing = [m for m in (row.missing_fields or "").split("、") if m]
        return Finding(
            record_id=row.record_id,
            kind=row.kind,
            record_name=row.record_name,
            pack=row.pack,
            document=cc.pack_number,
            measure=row.measure,
            measure_title=row.measure_title,
            section=measure.section,
            check=row.check_id,
            check_title=row.check_title,
            check_version=row.check_version,
            nature=row.nature,
            status=row.status,  # type: ignore[arg-type]
            value=row.value,
            threshold=row.threshold,
            target=row.target,
            due=row.due,
            unit=row.unit,
            op=row.op,
            message=row.message,
            source_text=check.source,
            interpretation=check.interpretation,
            lead_departments=measure.lead_departments,
            missing_fields=missing,
            approx=check.approx,
            aspirational=check.aspirational,
            as_of=row.as_of,
            review=row.review,
            **row.details,
        )


def _run(store: Store, run_id: int) -> Run:
    with store.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise StoreError(f"no run {run_id} in {store.display}")
        return run


def latest_run_id(store: Store) -> int:
    with store.session() as s:
        rid = s.execute(
            select(col(Run.id)).where(col(Run.finished_at).is_not(None)).order_by(col(Run.id).desc()).limit(1)
        ).scalar()
    if rid is None:
        raise StoreError(
            f"no finished evaluation run in {store.display}; run `compliance evaluate FILES` first"
        )
    return int(rid)


def latest_judgement(
    store: Store, policy: Policy, record_id: str, *, run_id: int | None = None, kind: str | None = None
) -> Judgement:
    """The record as the given run (default: the latest run that judged it) saw and judged it."""
    histories = [h for h in record_history(store, record_id) if kind is None or h.kind == kind]
    candidates = []
    unfinished = False
    for h in histories:
        for j in h.runs:
            if run_id is None or j.run.id == run_id:
                if j.run.finished_at is None:  # a run still being written (or interrupted) is never cited
                    unfinished = True
                    continue
                candidates.append((j.run.id, h, j))
    if not candidates and unfinished:
        which = f"run {run_id}" if run_id is not None else "the only run that judged it"
        raise StoreError(
            f"record {record_id}: {which} is not finished (评价批次尚未完成); letters cite finished "
            "runs only — wait for it or finish it with `compliance evaluate --resume`"
        )
    if not candidates:
        where = f"run {run_id}" if run_id is not None else "any run"
        raise StoreError(f"record {record_id} was not judged by {where} in {store.display}")
    best = max(c[0] for c in candidates)
    chosen = [c for c in candidates if c[0] == best]
    if len(chosen) > 1:
        kinds = ", ".join(f"{h.kind} {h.period}".strip() for _, h, _ in chosen)
        raise StoreError(f"record {record_id} is ambiguous in run {best} ({kinds}): give --kind")
    _, h, j = chosen[0]
    checks = _Checks(policy)
    version = next(v for v in h.versions if v.id == j.findings[0].record_version_id)
    run = _run(store, best)
    return Judgement(
        run_id=best,
        run_date=_local_date(run.started_at),
        fingerprint=run.policy_fingerprint,
        record_id=record_id,
        kind=h.kind,
        period=h.period,
        name=version.name,
        values=decode_values(version.values, h.kind, policy.catalog),
        findings=[checks.finding(r) for r in j.findings],
    )


def run_judgements(
    store: Store, policy: Policy, run_id: int, kinds: set[str] | None = None
) -> Iterator[Judgement]:
    """Every record of a finished run with its findings, in record order (kind, id, period)."""
    run = _run(store, run_id)
    if run.finished_at is None:
        raise StoreError(
            f"run {run_id} is not finished (评价批次尚未完成); documents cite finished runs only"
        )
    with store.session() as s:
        versions = {
            v.id: v
            for v in s.execute(
                select(RecordVersion)
                .join(RunRecord, col(RunRecord.record_version_id) == col(RecordVersion.id))
                .where(col(RunRecord.run_id) == run_id)
            ).scalars()
        }
    checks = _Checks(policy)
    group: list[FindingRow] = []

    def emit(rows: list[FindingRow]) -> Judgement:
        v = versions[rows[0].record_version_id]
        return Judgement(
            run_id=run_id,
            run_date=_local_date(run.started_at),
            fingerprint=run.policy_fingerprint,
            record_id=v.record_id,
            kind=v.kind,
            period=v.period,
            name=v.name,
            values=decode_values(json.loads(v.values_json), v.kind, policy.catalog),
            findings=[checks.finding(r) for r in rows],
        )

    for row in run_findings(store, run_id):
        if kinds is not None and row.kind not in kinds:
            continue
        if group and group[0].record_version_id != row.record_version_id:
            yield emit(group)
            group = []
        group.append(row)
    if group:
        yield emit(group)


def _local_date(t: dt.datetime) -> dt.date:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone().date()
