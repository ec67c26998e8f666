"""A run killed with SIGKILL leaves no worker processes behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and prctl (Linux)")
def test_workers_end_when_the_parent_is_killed(tmp_path):
    rows = ["项目编号,项目类别,总投资(万元),用地面积(亩),申报日期"]
    rows += [f"K{i},技改项目,{500 + i % 7},{10 + i % 3},2024-07-01" for i in range(40_000)]
    f = tmp_path / "projects.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "compliance"),
            "evaluate",
            str(f),
            "--no-store",
            "--jobs",
            "2",
            "--chunk-size",
            "500",
            "--format",
            "csv",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
        time.sleep(0.2)
        workers = _children(proc.pid)
    assert len(workers) >= 2, "the run did not start its workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
