"""Background evaluations through procrastinate, a task queue kept in PostgreSQL itself.

With a PostgreSQL store, `compliance serve` only queues a job (``ProcrastinateRunner.submit``) and
`compliance worker` processes, on this machine or any other that reaches the same database, take the
jobs and evaluate them (``run_job``). Nothing but the database is shared: the uploaded file is read from
the path recorded with the job, so a worker on another machine needs the upload folder mounted at the
same path (docs/web.md). procrastinate's own tables are created on first use.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from procrastinate import App, PsycopgConnector, SyncPsycopgConnector
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from engine.store import Store

QUEUE = "evaluations"
TASK = "compliance.evaluate_upload"
_SCHEMA_LOCK = 7_316_042_025  # advisory lock: one process creates procrastinate's tables
log = logging.getLogger("engine.web.queue")

_worker_store: dict[str, Store] = {}
_policies: dict[tuple[str, ...], Any] = {}
_lock = threading.Lock()


def conninfo(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://…) as the libpq connection string procrastinate takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_schema(store: Store) -> None:
    """Create procrastinate's tables in the store's database unless they are there."""
    with store.engine.connect() as conn:
        if "procrastinate_jobs" in inspect(conn).get_table_names():
            return
    with store.write() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
        if "procrastinate_jobs" in inspect(conn).get_table_names():
            return
        from procrastinate.schema import SchemaManager

        # straight to psycopg, without parameters: the schema's own % signs are not placeholders
        conn.connection.dbapi_connection.cursor().execute(SchemaManager.get_schema())  # type: ignore[union-attr]


def _policy(dirs: list[str]) -> Any:
    from engine.policy.cache import load_policy_cached
    from engine.policy.config import pack_dirs

    key = tuple(sorted(dirs))
    with _lock:
        if key not in _policies:
            found: list[str | Path] = [*pack_dirs(key)]
            _policies[key] = load_policy_cached(found)
        return _policies[key]


def evaluate_upload(job_id: int, store_url: str) -> None:
    from engine.web.jobs import run_job

    with _lock:
        store = _worker_store.get(store_url)
        if store is None:
            store = _worker_store[store_url] = Store(store_url, create=False)
    job = run_job(store, job_id, _policy)
    log.info("job %s: %s (run %s)", job_id, job.status if job else "missing", job.run_id if job else None)


def make_app(connector: Any) -> App:
    """A procrastinate app on `connector` with the workbench's one task."""
    app = App(connector=connector)
    app.task(name=TASK, queue=QUEUE, pass_context=False)(evaluate_upload)
    return app


class ProcrastinateRunner:
    """Queues jobs for `compliance worker` processes (the server itself evaluates nothing)."""

    name = "procrastinate"

    def __init__(self, store_url: str):
        self.store_url = store_url
        self.app = make_app(SyncPsycopgConnector(conninfo=conninfo(store_url)))
        self._opened = False
        self._lock = threading.Lock()
        store = Store(store_url, create=True)
        try:
            ensure_schema(store)
        finally:
            store.close()

    def submit(self, job_id: int) -> None:
        with self._lock:
            if not self._opened:
                self.app.open()
                self._opened = True
        self.app.tasks[TASK].defer(job_id=job_id, store_url=self.store_url)

    def close(self) -> None:
        if self._opened:
            self.app.close()
            self._opened = False


def run_worker(store: Store, *, concurrency: int = 1, once: bool = False, name: str | None = None) -> None:
    """Take jobs from the queue until stopped (or, with ``once``, until the queue is empty)."""
    ensure_schema(store)
    _worker_store[store.url] = store
    worker_app = make_app(PsycopgConnector(conninfo=conninfo(store.url)))
    worker_app.run_worker(
        queues=[QUEUE], concurrency=concurrency, wait=not once, name=name, install_signal_handlers=not once
    )
