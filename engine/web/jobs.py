"""Evaluating an uploaded file, wherever it runs: a thread of the server (SQLite) or a worker (PostgreSQL).

``run_job`` is the one place that turns a stored ``web_jobs`` row into a stored run: it loads the
policy, reads, evaluates and stores the files chunk by chunk, writing the progress to the job after
each chunk (the page's progress bar reads it back), and records who evaluated which file.

The evaluation itself is the pipeline's batch (engine.pipeline.batch.Batch), as for `compliance
evaluate`: the web and the command line begin, count, store and finish runs the same way.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.policy.policy import Policy
from engine.store import Store
from engine.store.accounts import Job, get_job, record_event, update_job

log = logging.getLogger("engine.web.jobs")
MAX_LISTED_ERRORS = 200  # row errors kept on the job for the page (all are in the run's messages)


@dataclass
class Progress:
    run_id: int | None = None
    n_valid: int = 0
    n_rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _error_row(e: Any) -> dict[str, Any]:
    src = e.source
    return {
        "file": getattr(src, "file", None),
        "sheet": getattr(src, "sheet", None),
        "row": getattr(src, "row", None),
        "field": getattr(e, "field", None),
        "message": getattr(e, "message", str(e)),
    }


def _evaluate(
    policy: Policy,
    paths: list[str],
    store: Store,
    *,
    reviewer: str,
    options: dict[str, Any],
    on_chunk: Callable[[Progress], None],
) -> int | None:
    """Evaluate and store; return the run id, or None when nothing was readable (no run stored)."""
    import datetime as dt

    from engine.pipeline.batch import Batch, BatchOptions

    as_of = dt.date.fromisoformat(options["as_of"]) if options.get("as_of") else None
    batch = Batch(
        policy,
        paths,
        store=store,
        options=BatchOptions(
            reviewer=reviewer,
            as_of=as_of,
            kind=options.get("kind"),
            jobs=1,
            keep_findings=False,
            rules_dirs=tuple(options.get("rules_dirs") or ()),
        ),
    )
    p = Progress()
    for _chunk in batch.chunks():
        t = batch.tally
        p.run_id = batch.run_id
        p.n_valid = t.n_valid
        p.n_rejected = t.rejected_rows
        p.errors = [_error_row(e) for e in list(t.errors)[:MAX_LISTED_ERRORS]] + [
            {"file": None, "sheet": None, "row": None, "field": None, "message": str(fp)}
            for fp in list(t.file_problems)[:20]
        ]
        on_chunk(p)
    summary = batch.finish()
    if summary is None:
        return None
    return summary.id


PolicyLoader = Callable[[list[str]], Policy]


def run_job(store: Store, job_id: int, load_policy: PolicyLoader) -> Job | None:
    """Run one queued job to its end; the job row says how it went (done or failed, with the reason)."""
    job = get_job(store, job_id)
    if job is None or job.status not in ("queued", "running"):
        return job
    update_job(store, job_id, status="running")
    last: dict[str, Any] = {}

    def on_chunk(p: Progress) -> None:
        last.update(
            run_id=p.run_id,
            n_valid=p.n_valid,
            n_rejected=p.n_rejected,
            error=json.dumps(p.errors, ensure_ascii=False) if p.errors else None,
        )
        update_job(store, job_id, n_read=p.n_valid + p.n_rejected, **last)

    try:
        policy = load_policy(list(job.options.get("rules_dirs") or []))
        run_id = _evaluate(
            policy, job.paths, store, reviewer=job.user_name, options=job.options, on_chunk=on_chunk
        )
    except Exception as exc:  # a failed evaluation is shown on its page, never kills the server or worker
        log.error("job %s failed: %s", job_id, traceback.format_exc())
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        update_job(
            store,
            job_id,
            status="failed",
            run_id=last.get("run_id"),
            error=json.dumps([{"message": f"评价失败:{message}"}], ensure_ascii=False),
        )
        record_event(
            store, job.user_name, "evaluate_failed", job.filename, detail=message, run_id=last.get("run_id")
        )
        return get_job(store, job_id)
    if run_id is None:
        errors = json.loads(last.get("error") or "[]") or [{"message": "文件中没有可读取的记录"}]
        update_job(store, job_id, status="failed", error=json.dumps(errors, ensure_ascii=False))
        record_event(store, job.user_name, "evaluate_failed", job.filename, detail="没有可读取的记录")
    else:
        update_job(store, job_id, status="done", run_id=run_id)
        record_event(
            store,
            job.user_name,
            "evaluate",
            job.filename,
            run_id=run_id,
            detail={"files": job.paths, "rules_dirs": job.options.get("rules_dirs") or []},
        )
    return get_job(store, job_id)


class ThreadRunner:
    """Runs jobs in threads of this process (the embedded SQLite store: one machine)."""

    name = "thread"

    def __init__(self, store: Store, load_policy: PolicyLoader):
        self.store, self.load_policy = store, load_policy
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()  # one evaluation at a time: SQLite takes one writer anyway

    def submit(self, job_id: int) -> None:
        def work() -> None:
            with self._lock:
                run_job(self.store, job_id, self.load_policy)

        t = threading.Thread(target=work, name=f"web-job-{job_id}", daemon=True)
        self.threads = [x for x in self.threads if x.is_alive()] + [t]
        t.start()

    def wait(self, timeout: float | None = None) -> None:
        for t in list(self.threads):
            t.join(timeout)
