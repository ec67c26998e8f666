"""Faults around the store: read-only and full storage, a broken rule pack, Ctrl-C mid-run.

Each test runs the real command (`compliance evaluate`) in a subprocess and then inspects the SQLite
store directly: every chunk the store lists as committed holds exactly its records and findings, no
record or finding belongs to an uncommitted chunk, and `PRAGMA integrity_check` is ok. Read-only and
full storage use a tmpfs mounted for the test (root only); without permission to mount, those tests
are skipped with the reason shown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPLIANCE = str(Path(sys.executable).parent / "compliance")
SAMPLES = ROOT / "samples"
HEADER = "项目编号,项目名称,类型,所在县区,项目类别,总投资(万元),用地面积(亩),年税收(万元),申报日期\n"


def _projects(path: Path, n: int) -> Path:
    rows = [
        f"FLT-{i},项目{i},项目,曹县,技改项目,{400 + i % 300},{10 + i % 7},{i % 50},2024-06-18\n"
        for i in range(n)
    ]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _run(*args: str, db: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMPLIANCE_DB": str(db)}
    return subprocess.run(
        [COMPLIANCE, "evaluate", "--format", "json", "--jobs", "1", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def _consistent(db: Path) -> dict[int, list[int]]:
    """Assert the store holds only whole chunks; return run id -> committed chunk numbers."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        committed: dict[int, list[int]] = {}
        for run_id, chunk, n_records, n_findings in con.execute(
            "SELECT run_id, chunk, n_records, n_findings FROM run_chunks ORDER BY run_id, chunk"
        ):
            committed.setdefault(run_id, []).append(chunk)
            got_records = con.execute(
                "SELECT count(*) FROM run_records WHERE run_id=? AND chunk=?", (run_id, chunk)
            ).fetchone()[0]
            got_findings = con.execute(
                "SELECT count(*) FROM finding_rows WHERE run_id=? AND chunk=?", (run_id, chunk)
            ).fetchone()[0]
            assert (got_records, got_findings) == (n_records, n_findings), (run_id, chunk)
        for table in ("run_records", "findings", "run_messages"):
            orphans = con.execute(
                f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM run_chunks c "
                "WHERE c.run_id = t.run_id AND c.chunk = t.chunk)"
            ).fetchone()[0]
            assert orphans == 0, f"{table} holds rows of an uncommitted chunk"
        return committed
    finally:
        con.close()


def _interrupt_after_two_chunks(proc: subprocess.Popen, db: Path) -> None:
    """Send Ctrl-C to a running evaluation once it has committed two chunks."""
    deadline = time.monotonic() + 240
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            with contextlib.suppress(sqlite3.Error):
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                committed = con.execute("SELECT count(*) FROM run_chunks").fetchone()[0]
                con.close()
        if committed >= 2:
            break
    assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.stderr.read()[-2000:]}"
    proc.send_signal(signal.SIGINT)


def _runs(db: Path) -> list[tuple[int, str | None, int]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(con.execute("SELECT id, finished_at, n_records FROM runs ORDER BY id"))
    finally:
        con.close()


@contextlib.contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; read-only / full-disk behaviour not exercised here")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); read-only / full-disk not exercised")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _remount(path: Path, opts: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{opts}", str(path)], check=True, capture_output=True)


def test_a_rule_pack_that_fails_to_load_stops_the_run_before_anything_is_stored(tmp_path: Path) -> None:
    pack = tmp_path / "broken-pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        "id: broken\ntitle: 坏的包\nnumber: x\nissuer: x\nissued_on: 2024-01-01\n"
        "period: {from: 2024-01-01, to: 2025-12-31}\n",
        encoding="utf-8",
    )
    (pack / "m01-broken.yaml").write_text(
        "measure: 1\ntitle: t\nsection: s\nsource: s\nchecks:\n"
        "  - id: b.1\n    title: t\n    subject: project\n    nature: standard\n"
        "    source: s\n    applies_when: __import__('os')\n",
        encoding="utf-8",
    )
    db = tmp_path / "store.db"
    done = _run(str(SAMPLES), "--rules", str(pack), db=db)
    assert done.returncode not in (0, 1), done.stderr  # 1 = partial success
    assert "m01-broken.yaml" in done.stderr
    assert not db.exists() or _runs(db) == []
    assert done.stdout == ""


def test_ctrl_c_during_a_batch_leaves_only_whole_chunks_and_the_run_resumes(tmp_path: Path) -> None:
    data = _projects(tmp_path / "many-projects.csv", 4000)
    db = tmp_path / "store.db"
    env = {**os.environ, "COMPLIANCE_DB": str(db)}
    proc = subprocess.Popen(
        [COMPLIANCE, "evaluate", "--format", "json", "--jobs", "1", "--chunk-size", "100", str(data)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _interrupt_after_two_chunks(proc, db)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in err, err[-3000:]
    chunks = _consistent(db)
    ((run_id, finished, _),) = _runs(db)
    assert finished is None and 2 <= len(chunks[run_id]) < 40

    resumed = _run("--resume", str(run_id), db=db)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    chunks = _consistent(db)
    assert chunks[run_id] == list(range(40))
    ((_, finished, n_records),) = _runs(db)
    assert finished is not None and n_records == 4000


def test_a_read_only_store_gives_a_clear_error_and_stays_consistent(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "64m") as folder:
        db = folder / "store.db"
        first = _run(str(SAMPLES), db=db)
        assert first.returncode in (0, 1), first.stderr[-3000:]
        before = _runs(db)
        _remount(folder, "ro")
        try:
            again = _run(str(SAMPLES), db=db)
        finally:
            _remount(folder, "rw")
        assert again.returncode not in (0, 1)
        assert "Traceback" not in again.stderr, again.stderr[-3000:]
        assert "store" in again.stderr and (
            "read-only" in again.stderr or "readonly" in again.stderr or "unable to open" in again.stderr
        ), again.stderr[-2000:]
        assert again.stdout == ""  # nothing was evaluated into a store that cannot keep it
        assert _runs(db) == before
        _consistent(db)


def test_a_full_disk_gives_a_clear_error_keeps_whole_chunks_and_the_run_resumes(tmp_path: Path) -> None:
    data = _projects(tmp_path / "many-projects.csv", 3000)
    with _tmpfs(tmp_path / "small", "1m") as folder:
        db = folder / "store.db"
        done = _run("--chunk-size", "100", str(data), db=db)
        assert done.returncode not in (0, 1), done.stderr[-2000:]
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        assert "full" in done.stderr and "--resume" in done.stderr, done.stderr[-2000:]
        chunks = _consistent(db)
        ((run_id, finished, _),) = _runs(db)
        assert finished is None and len(chunks.get(run_id, [])) < 30
        _remount(folder, "size=256m")
        resumed = _run("--resume", str(run_id), db=db)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert _consistent(db)[run_id] == list(range(30))


HOSTILE = [
    ROOT / "tests" / "corpus" / "files" / f
    for f in (
        "csv/overflow-projects.csv",
        "csv/impossible-dates-projects.csv",
        "yaml/tags-projects.yaml",
        "yaml/big-numbers-projects.yaml",
    )
]


def test_a_run_stopped_in_a_batch_with_hostile_files_resumes_and_evaluates_the_rest(tmp_path: Path) -> None:
    """Overflowing numbers, impossible dates and YAML tags are errors, not tracebacks: a run that
    meets them and is then interrupted resumes to the end, the good records of those files evaluated."""
    data = _projects(tmp_path / "many-projects.csv", 3000)
    db = tmp_path / "store.db"
    env = {**os.environ, "COMPLIANCE_DB": str(db)}
    proc = subprocess.Popen(
        [
            COMPLIANCE,
            "evaluate",
            "--format",
            "json",
            "--jobs",
            "1",
            "--chunk-size",
            "100",
            *map(str, HOSTILE),
            str(data),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _interrupt_after_two_chunks(proc, db)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err[-3000:]
    ((run_id, finished, _),) = _runs(db)
    assert finished is None
    resumed = _run("--resume", str(run_id), db=db)
    assert "Traceback" not in resumed.stderr, resumed.stderr[-3000:]
    assert resumed.returncode == 1, resumed.stderr[-3000:]  # some rows rejected, the rest evaluated
    ((_, finished, n_records),) = _runs(db)
    assert finished is not None and n_records > 3000
