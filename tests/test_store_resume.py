"""Integrity under failure and concurrency: SIGKILL mid-run then --resume; two evaluations into one file."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine.store.finding_view import FINDING_VIEW
from engine.store.models import Run, RunChunk, RunRecord
from engine.store.testing import BACKENDS, store_url

CLI = [sys.executable, "-c", "from engine.cli import main; main()"]
HEADER = [
    "项目编号",
    "项目名称",
    "申报单位",
    "所在县区",
    "所在镇街",
    "项目类别",
    "总投资(万元)",
    "用地面积(亩)",
    "年税收(万元)",
    "是否位于省级特色小镇",
    "申报日期",
]
CATEGORIES = ["服务业", "制造业重点项目", "技改项目"]


def serial() -> list[str]:
    """Evaluate in the command's own process: SIGKILL must hit the whole evaluation, and two concurrent
    evaluations should not each start a worker per core on a shared machine."""
    from engine.cli.evaluate import evaluate

    return ["--jobs", "1"] if any(p.name == "jobs" for p in evaluate.params) else []


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    yield from store_url(request.param, tmp_path)


def write_projects(path: Path, n: int, prefix: str, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(n):
            w.writerow(
                [
                    f"{prefix}-{i:06d}",
                    f"生成项目{i}",
                    "测试单位",
                    "曹县",
                    "大集镇",
                    rng.choice(CATEGORIES),
                    rng.randint(100, 50_000),
                    rng.randint(10, 300),
                    rng.randint(10, 3000),
                    rng.choice(["是", "否"]),
                    f"2024-{rng.randint(6, 12):02d}-{rng.randint(1, 28):02d}",
                ]
            )


def scalar(url: str, sql: str, **params: object) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def committed_chunks(url: str) -> int:
    try:
        return scalar(url, "SELECT count(*) FROM run_chunks")
    except SQLAlchemyError:  # the store is still being created
        return 0


def assert_one_finding_per_record_and_check(url: str, run_id: int, n_records: int) -> None:
    engine = create_engine(url)
    f, rr = FINDING_VIEW, RunRecord.__table__
    with engine.connect() as conn:
        dupes = conn.execute(
            select(f.c.record_version_id, f.c.check_ref)
            .where(f.c.run_id == run_id)
            .group_by(f.c.record_version_id, f.c.check_ref)
            .having(func.count() > 1)
        ).all()
        per_record = conn.execute(
            select(f.c.record_version_id, func.count())
            .where(f.c.run_id == run_id)
            .group_by(f.c.record_version_id)
        ).all()
        checks = conn.execute(
            select(func.count(func.distinct(f.c.check_ref))).where(f.c.run_id == run_id)
        ).scalar_one()
        submitted = conn.execute(
            select(func.count()).select_from(rr).where(rr.c.run_id == run_id)
        ).scalar_one()
    engine.dispose()
    assert dupes == []
    assert submitted == n_records
    assert len(per_record) == n_records  # every record judged
    assert checks > 0 and {n for _, n in per_record} == {checks}  # each by every project check, once


def test_a_run_killed_mid_way_resumes_to_exactly_one_finding_per_record_and_check(db_url, tmp_path):
    n, chunk = 20_000, 1000
    data = tmp_path / "projects.csv"
    write_projects(data, n, "K", seed=7)
    args = [
        "evaluate",
        str(data),
        "--kind",
        "project",
        "--db",
        db_url,
        "--format",
        "json",
        "--chunk-size",
        str(chunk),
        *serial(),
    ]
    proc = subprocess.Popen(CLI + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while committed_chunks(db_url) < 3:
        assert proc.poll() is None, (
            f"evaluation ended before it could be killed: {proc.stderr.read().decode()}"
        )
        assert time.monotonic() < deadline, "no chunk committed in time"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    kept = committed_chunks(db_url)
    assert 3 <= kept < n // chunk
    assert scalar(db_url, "SELECT count(*) FROM runs WHERE finished_at IS NULL") == 1
    # Every committed chunk is whole: its records and findings are all there, nothing of a later chunk is.
    assert scalar(db_url, "SELECT count(*) FROM run_records") == kept * chunk
    assert scalar(db_url, "SELECT count(*) FROM finding_rows") == scalar(
        db_url, "SELECT sum(n_findings) FROM run_chunks"
    )
    assert scalar(db_url, "SELECT count(*) FROM finding_rows WHERE chunk >= :k", k=kept) == 0

    resumed = subprocess.run(
        CLI + ["evaluate", "--resume", "1", "--db", db_url, "--format", "json", *serial()],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "续评 resuming run 1" in resumed.stderr
    assert scalar(db_url, "SELECT count(*) FROM runs") == 1
    assert scalar(db_url, "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL AND resumed = 1") == 1
    assert scalar(db_url, "SELECT count(*) FROM run_chunks") == n // chunk
    assert_one_finding_per_record_and_check(db_url, 1, n)
    # Only the chunks not stored before the kill were evaluated again.
    printed = [line for line in resumed.stdout.splitlines() if line.strip()]
    assert len(printed) == scalar(db_url, "SELECT count(*) FROM finding_rows WHERE chunk >= :k", k=kept)


def test_two_concurrent_evaluations_into_one_sqlite_file_both_succeed_and_lose_nothing(tmp_path):
    db = tmp_path / "shared.db"  # not created yet: both processes race to create it, too
    url = f"sqlite:///{db}"
    procs = []
    for name, seed in (("A", 1), ("B", 2)):
        data = tmp_path / f"{name}.csv"
        write_projects(data, 5000, name, seed)
        procs.append(
            subprocess.Popen(
                CLI
                + [
                    "evaluate",
                    str(data),
                    "--kind",
                    "project",
                    "--db",
                    url,
                    "--format",
                    "json",
                    "--chunk-size",
                    "500",
                    "--reviewer",
                    f"审查员{name}",
                    *serial(),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path,
            )
        )
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    engine = create_engine(url)
    with engine.connect() as conn:
        runs = conn.execute(
            select(Run.__table__.c.id, Run.__table__.c.finished_at, Run.__table__.c.n_records)
        ).all()
        chunks = conn.execute(select(func.count()).select_from(RunChunk.__table__)).scalar_one()
        ids = conn.execute(
            text(
                "SELECT count(DISTINCT r.record_id) FROM record_versions r "
                "JOIN findings f ON f.record_version_id = r.id"
            )
        ).scalar_one()
    engine.dispose()
    assert len(runs) == 2 and all(r.finished_at is not None and r.n_records == 5000 for r in runs)
    assert chunks == 20
    assert ids == 10_000
    for run_id, _, _ in runs:
        assert_one_finding_per_record_and_check(url, run_id, 5000)
