"""Records/s of reading and validating one file, as the parent process of `compliance evaluate` does.

Runs engine.pipeline.stream.read_chunks (intake only, no evaluation) over the file with the built-in
packs and prints the median of a few runs; `--digest` also prints a hash of every chunk's records,
errors and warnings, to compare outcomes before and after a change.

    .venv/bin/python bench/read_speed.py /tmp/fastread-100k.csv --runs 5
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.pipeline.stream import read_chunks  # noqa: E402
from engine.policy.cache import load_policy_cached  # noqa: E402
from engine.policy.config import pack_dirs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--digest", action="store_true", help="print a hash of everything read")
    args = ap.parse_args()
    policy = load_policy_cached([*pack_dirs(())])
    rates, cpu_rates = [], []
    for _ in range(args.runs):
        h = hashlib.sha256()
        n = 0
        t, c = time.perf_counter(), time.process_time()
        for chunk in read_chunks(args.files, policy):
            n += len(chunk.records)
            if args.digest:
                for part in (chunk.records, chunk.errors, chunk.file_problems, chunk.warnings, chunk.tallies):
                    for x in part:
                        h.update(repr(x).encode("utf-8", "surrogatepass"))
                        if hasattr(x, "model_fields_set"):
                            h.update(repr(sorted(x.model_fields_set)).encode())
        dt, dc = time.perf_counter() - t, time.process_time() - c
        rates.append(n / dt)
        cpu_rates.append(n / dc)
        digest = f" digest {h.hexdigest()[:16]}" if args.digest else ""
        print(f"{n} records in {dt:.2f}s ({dc:.2f}s of CPU): {n / dt:,.0f} records/s{digest}")
    # CPU time counts only this process: on a shared machine it varies less than the wall clock.
    print(
        f"median {statistics.median(rates):,.0f} records/s, "
        f"{statistics.median(cpu_rates):,.0f} records per CPU second"
    )


if __name__ == "__main__":
    main()
