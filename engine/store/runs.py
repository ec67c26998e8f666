"""Writing runs: begin, one transaction per chunk, finish; and resuming an interrupted run.

The writer of a begun run is engine/store/run_writer.py; resuming is engine/store/resume.py. Their
names stay importable from here.

A chunk's records, findings, messages and its ``run_chunks`` row are committed together, so after a
crash the committed chunks are whole and ``--resume`` skips exactly those. The unique constraint on
(run, record version, check) makes a duplicate finding impossible rather than merely unlikely.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import insert

import engine
from engine.policy.policy import Policy
from engine.store.chunk_rows import ChunkLike, PreparedChunk, prepare_chunk  # noqa: F401 (re-exported)
from engine.store.codec import clean_text
from engine.store.models import Run, RunPack
from engine.store.run_inputs import InputFile, default_reviewer, describe_inputs  # noqa: F401 (re-exported)
from engine.store.run_writer import FINDING_COLUMNS, RunWriter, StoreTarget, _now, yearly_kinds  # noqa: F401
from engine.store.store import Store


class RunSummary(BaseModel):
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    reviewer: str
    as_of: dt.date | None
    n_records: int
    n_rejected: int
    n_file_problems: int
    n_findings: int
    counts: dict[str, int]


def begin_run(
    store: Store,
    policy: Policy,
    *,
    inputs: Sequence[str],
    reviewer: str | None = None,
    as_of: dt.date | None = None,
    kind: str | None = None,
    chunk_size: int,
    engine_name: str = "durable",
    rules_dirs: Sequence[str] = (),
) -> RunWriter:
    """Record a new run (who, when, which rules, which files) and return its writer."""
    files = describe_inputs(inputs)
    with store.write() as conn:
        run_id = conn.execute(
            insert(Run.__table__).returning(Run.__table__.c.id),
            {
                "started_at": _now(),
                "reviewer": clean_text(reviewer or default_reviewer(), 200),
                "as_of": as_of,
                "kind": kind,
                "chunk_size": chunk_size,
                "engine": engine_name,
                "engine_version": engine.__version__,
                "policy_fingerprint": policy.fingerprint,
                "rules_dirs": json.dumps([str(Path(d).resolve()) for d in rules_dirs], ensure_ascii=False),
                "inputs": json.dumps([f.model_dump() for f in files], ensure_ascii=False),
                "n_records": 0,
                "n_rejected": 0,
                "n_file_problems": 0,
                "n_findings": 0,
                "counts": "{}",
                "resumed": 0,
            },
        ).scalar_one()
        conn.execute(
            insert(RunPack.__table__),
            [
                {
                    "run_id": run_id,
                    "pack_id": p.id,
                    "title": p.pack.meta.title,
                    "number": p.pack.meta.number,
                    "fingerprint": p.fingerprint,
                }
                for p in policy.packs
            ],
        )
    return RunWriter(store, run_id, policy)


def reopen_run(target: StoreTarget, policy: Policy) -> RunWriter:
    """A writer for a run another process began, on a connection of this process's own."""
    return RunWriter(Store(target.url, create=False), target.run_id, policy)


# Resuming lives in its own module; these names stay importable from here.
from engine.store.resume import ResumePlan, resume_plan, resume_run  # noqa: E402,F401,I001
