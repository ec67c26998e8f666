"""Resuming an interrupted run: how it was started, whether its inputs and rules are unchanged."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlmodel import col

import engine
from engine.policy.policy import Policy
from engine.store.database import StoreError
from engine.store.models import Run, RunChunk
from engine.store.run_inputs import InputFile, describe_inputs
from engine.store.store import Store

if TYPE_CHECKING:
    from engine.store.runs import RunWriter


class ResumePlan(BaseModel):
    """What an interrupted run needs to be continued exactly as it started."""

    run_id: int
    paths: list[str]
    as_of: dt.date | None
    kind: str | None
    chunk_size: int
    engine: str
    rules_dirs: list[str]
    reviewer: str
    committed: frozenset[int]


def resume_plan(store: Store, run_id: int) -> ResumePlan:
    """Read back how a run was started; refuse if it is finished or its input files changed."""
    with store.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            raise StoreError(f"no run {run_id} in {store.display}")
        if run.finished_at is not None:
            raise StoreError(f"run {run_id} is already complete; nothing to resume")
        if run.engine_version != engine.__version__:
            raise StoreError(
                f"run {run_id} was started by engine {run.engine_version}, this is "
                f"{engine.__version__}; start a new evaluation instead"
            )
        committed = frozenset(
            s.execute(select(col(RunChunk.chunk)).where(col(RunChunk.run_id) == run_id)).scalars().all()
        )
        files = [InputFile.model_validate(f) for f in json.loads(run.inputs)]
        now = {f.abs_path: f for f in describe_inputs([f.abs_path for f in files])}
        changed = [f.path for f in files if now[f.abs_path].sha256 != f.sha256]
        if changed:
            raise StoreError(
                f"run {run_id} cannot be resumed: input changed since it started: {', '.join(changed)}"
            )
        # Keep the file names as first given when resumed from the same folder, so sources read the same.
        paths = [f.path if Path(f.path).resolve() == Path(f.abs_path) else f.abs_path for f in files]
        return ResumePlan(
            run_id=run_id,
            paths=paths,
            as_of=run.as_of,
            kind=run.kind,
            chunk_size=run.chunk_size,
            engine=run.engine,
            rules_dirs=json.loads(run.rules_dirs),
            reviewer=run.reviewer,
            committed=committed,
        )


def resume_run(store: Store, plan: ResumePlan, policy: Policy) -> RunWriter:
    """A writer that continues the run; the policy must be exactly the one the run started with."""
    with store.write() as conn:
        t = Run.__table__
        fp = conn.execute(select(t.c.policy_fingerprint).where(t.c.id == plan.run_id)).scalar_one()
        if fp != policy.fingerprint:
            raise StoreError(
                f"run {plan.run_id} cannot be resumed: the rule packs changed since it started "
                f"(fingerprint {fp[:12]}…, now {policy.fingerprint[:12]}…); start a new evaluation"
            )
        conn.execute(update(t).where(t.c.id == plan.run_id).values(resumed=t.c.resumed + 1))
    from engine.store.runs import RunWriter  # runs.py re-exports this module's names

    return RunWriter(store, plan.run_id, policy, plan.committed)
