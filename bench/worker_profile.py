"""What one worker does per chunk of an end-to-end run, alone and profiled: evaluate as compact
findings, expand them to rows, store them in SQLite (the records are read and validated first and not
profiled: that is the parent's part).

    .venv/bin/python bench/worker_profile.py --records 30000 [--profile out.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import write_projects_csv  # noqa: E402

from engine.evaluation.evaluate import Evaluator, finding_parts  # noqa: E402
from engine.pipeline.stream import collect_history, read_chunks  # noqa: E402
from engine.policy.policy import load_policy  # noqa: E402
from engine.store import Store  # noqa: E402
from engine.store.runs import begin_run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=30_000)
    ap.add_argument("--profile", type=Path, default=None, help="write a cProfile of the worker part here")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="worker-"))
    csv_path = write_projects_csv(work / "p.csv", args.records)
    policy = load_policy()
    history = collect_history([csv_path], policy)
    chunks = list(read_chunks([csv_path], policy, chunk_size=2000))
    evaluator = Evaluator(policy, "durable")
    with Store(f"sqlite:///{work / 's.db'}") as store:
        writer = begin_run(store, policy, inputs=[str(csv_path)], kind=None, chunk_size=2000)
        prof = cProfile.Profile() if args.profile else None
        gc.freeze()
        t = time.perf_counter()
        if prof:
            prof.enable()
        times = {"evaluate": 0.0, "parts": 0.0, "store": 0.0}
        for chunk in chunks:
            a = time.perf_counter()
            result = evaluator.evaluate(chunk.records, history=history, parts=True)
            b = time.perf_counter()
            gc.disable()
            chunk.parts = finding_parts(result.parts)
            c = time.perf_counter()
            writer.save_chunk(chunk)
            gc.enable()
            chunk.parts = None
            d = time.perf_counter()
            times["evaluate"] += b - a
            times["parts"] += c - b
            times["store"] += d - c
        if prof:
            prof.disable()
            prof.dump_stats(args.profile)
        total = time.perf_counter() - t
        writer.finish()
    n = sum(len(c.records) for c in chunks)
    print(
        f"{n:,} records: {total:.2f} s, {n / total:,.0f} records/s; "
        + ", ".join(f"{k} {v:.2f} s ({v / n * 1e6:.0f} µs/record)" for k, v in times.items())
    )


if __name__ == "__main__":
    main()
