"""Background evaluations on PostgreSQL run in separate worker processes through procrastinate (issue 17
point 4): the server only queues the job; `compliance worker` (another process, possibly another
machine) evaluates it against the same database. Skipped with a warning when no PostgreSQL server is
given ($COMPLIANCE_TEST_POSTGRES_URL, which .ci/run sets)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "long-enough-password"
pytest.importorskip("httpx")


@pytest.fixture
def pg_url(tmp_path):
    from engine.store.testing import store_url

    yield from store_url("postgresql", tmp_path)


def test_a_worker_process_evaluates_what_the_server_queued(pg_url, tmp_path):
    from starlette.testclient import TestClient

    from engine.store import Store, list_runs
    from engine.store.accounts import create_user, get_job, list_events
    from engine.web.app import create_app
    from engine.web.settings import WebSettings
    from engine.web.testing import log_in

    store = Store(pg_url)
    create_user(store, "审查员甲", "reviewer", PASSWORD)
    app = create_app(WebSettings(secret_key="w" * 48, data_dir=tmp_path / "data"), store)
    assert app.state.web.runner.name == "procrastinate"
    with TestClient(app) as client:
        token = log_in(client, "审查员甲", PASSWORD)
        r = client.post(
            "/upload",
            data={"csrf": token},
            files={"file": ("projects-2025.xlsx", (ROOT / "samples" / "projects-2025.xlsx").read_bytes())},
            follow_redirects=False,
        )
        assert r.status_code == 303
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
        time.sleep(0.5)
        page = client.get(f"/jobs/{job_id}").text
        assert "排队中" in page  # the server evaluates nothing itself
        assert get_job(store, job_id).status == "queued" and not list_runs(store)

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [str(Path(sys.executable).parent / "compliance"), "worker", "--db", pg_url, "--once"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env=env,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        job = get_job(store, job_id)
        assert job.status == "done" and job.run_id, job
        runs = list_runs(store)
        assert [r.id for r in runs] == [job.run_id] and runs[0].reviewer == "审查员甲"
        assert runs[0].n_records == 6 and runs[0].finished_at is not None
        page = client.get(f"/jobs/{job_id}").text
        assert "已完成" in page and f'href="/runs/{job.run_id}"' in page
        results = client.get(f"/runs/{job.run_id}").text
        assert re.search(r'data-status="non_compliant"><span class="n">[1-9]', results)
        assert any(e.action == "evaluate" and e.user_name == "审查员甲" for e in list_events(store))
    app.state.web.runner.close()
    store.close()
