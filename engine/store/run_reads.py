"""Reading the store's runs: the list, one run's detail and its messages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import col

from engine.store.database import StoreError
from engine.store.finding_view import run_status_counts
from engine.store.models import Run, RunChunk, RunMessage, RunPack, RunRecord
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
        counts = run_status_counts(s.connection(), run_id)
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
