"""Test support: a fresh, empty store per test on SQLite or PostgreSQL.

PostgreSQL comes from $COMPLIANCE_TEST_POSTGRES_URL (``.ci/run`` starts one). Each test gets its own
throwaway database on that server. When the variable is unset or the server unreachable the
PostgreSQL tests are skipped with the reason printed as a warning, except under CI=true, where
that is a failure: CI must exercise PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "COMPLIANCE_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


@cache
def postgres_problem() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return f"PostgreSQL store tests skipped: {POSTGRES_ENV} is not set (.ci/run sets it)"
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect is the reason to report
        return f"PostgreSQL store tests skipped: cannot connect to {make_url(url).render_as_string()}: {exc}"
    return None


def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield a URL of an empty database; for pytest fixtures (`yield from store_url(...)`)."""
    import pytest

    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    problem = postgres_problem()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem.replace("skipped", "cannot run under CI=true"))
        warnings.warn(problem, stacklevel=2)
        pytest.skip(problem)
    server = make_url(os.environ[POSTGRES_ENV])
    name = f"compliance_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
