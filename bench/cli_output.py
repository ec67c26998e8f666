"""What a reviewer waits for: `compliance evaluate` of 50,000 records, default output vs --format summary.

Issue 14: the default output streams (first lines within seconds, memory flat) and finishes in the
same order of time as --format summary. Each run is a fresh process; peak RSS is the largest of the
process and its workers (ru_maxrss of the children, measured per run in a wrapper process).

    .venv/bin/python bench/cli_output.py [--records 50000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen import write_projects_csv  # noqa: E402

# Runs the command, reports (seconds to the first stdout line, total seconds, peak RSS in MB).
_WRAPPER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter(); first = None
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
lines = 0
for line in p.stdout:
    if first is None:
        first = time.perf_counter() - t0
    lines += 1
p.wait()
total = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"first": first, "total": total, "rss_mb": rss, "lines": lines, "rc": p.returncode}))
"""


def measure(cmd: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("compliance"))
    with tempfile.TemporaryDirectory() as tmp:
        src = write_projects_csv(Path(tmp) / "projects.csv", args.records)
        base = [exe, "evaluate", str(src), "--kind", "project", "--jobs", str(args.jobs), "--quiet"]
        runs = {
            "default (digest), no store": base + ["--no-store"],
            "--format summary, no store": base + ["--no-store", "--format", "summary"],
            "default (digest), into SQLite": base + ["--db", str(Path(tmp) / "a.db")],
            "--format summary, into SQLite": base + ["--db", str(Path(tmp) / "b.db"), "--format", "summary"],
        }
        print(
            f"| {args.records:,} project records, --jobs {args.jobs} | first line s | total s | peak RSS MB | lines |"
        )
        print("|---|---:|---:|---:|---:|")
        for name, cmd in runs.items():
            r = measure(cmd)
            first = "—" if r["first"] is None else f"{r['first']:.1f}"
            print(f"| {name} | {first} | {r['total']:.1f} | {r['rss_mb']:.0f} | {r['lines']:,} |", flush=True)


if __name__ == "__main__":
    main()
