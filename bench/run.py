"""The benchmark: records/s for each stage, end to end, peak RSS, and durable vs the project's own general path vs zen-engine.

For where the project stands against independent peers and a real plain-Python limit (the 20-check
spec, zen-engine through evaluate_batch, polars, duckdb, durable-rules driven directly, and an
end-to-end plain limit), run bench/limits.py; docs/performance.md records its figures. The
``engine="python"`` rows here are the project's own general path: they share validation, exact-decimal
preparation and finding construction with the durable path, so they are no limit; and the zen-engine
rows here call ``ZenDecision.evaluate`` once per record on the project's prepared facts (an engine-swap
test of the same compiled checks), not zen-engine at its best (``evaluate_batch``, as bench/peers.py).

    .venv/bin/pip install -e '.[bench]'          # zen-engine, the peer (optional)
    .venv/bin/python bench/run.py                 # 100,000 records, --jobs 2
    .venv/bin/python bench/run.py --million       # also 1,000,000 records through the CLI

Not a test: figures depend on the machine and its load; docs/performance.md records them.

Checks: the built-in Heze pack plus ``bench/pack`` (24 project checks of every shape the compiler
handles), so the figure does not depend on how many measures the Heze pack has encoded so far.

zen-engine gets the *same compiled checks*: every durable rule (a conjunction of literal tests,
mutually exclusive per check) becomes a clause of one ZEN expression per check,
``(c1) ? "status1" : (c2) ? "status2" : ... : "none"``, all checks of a kind in one expression node
of one decision. It receives the same prepared facts (derived values computed in exact decimal,
numbers as integer millionths), and its statuses go through the same finding builder, so the
"evaluate" rows differ only in the engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen import write_other_jsonl, write_projects_csv  # noqa: E402

from engine.evaluation.evaluate import Evaluator, History, _collect, _Prepared, reference_outcomes  # noqa: E402
from engine.policy.compiler import CODE_STATUS, CompiledKind  # noqa: E402
from engine.policy.policy import CompiledPack, Policy, load_policy  # noqa: E402

BENCH_PACK = HERE / "pack"
CHUNK = 2000


def digest(findings: list[Any]) -> str:
    """A fingerprint of findings in order: every field that a reader or the store sees (the same in
    every process: no salted hash())."""
    return hashlib.blake2b(
        repr(
            [
                (
                    f.record_id,
                    f.check,
                    f.status,
                    f.value,
                    f.threshold,
                    f.target,
                    f.message,
                    f.check_version,
                    f.missing_fields,
                )
                for f in findings
            ]
        ).encode()
    ).hexdigest()


def _evaluate_in_worker(ev: Evaluator, history: History | None, records: list[Any]) -> tuple[int, str]:
    """Runs in a WorkerPool process: evaluate a chunk there and send back only its count and digest,
    so --jobs 2 is timed on evaluation, not on shipping 3.6 million findings to this process."""
    found = ev.evaluate(records, history=history).findings
    return len(found), digest(found)


# --- zen-engine: the same compiled checks as ZEN expressions ----------------------------------------


def _zen_literal(lit: tuple) -> str:
    tag = lit[0]
    if tag == "ex":
        return f"{lit[1]} != null"
    if tag == "nex":
        return f"{lit[1]} == null"
    if tag == "cmp":
        _, op, key, value = lit
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = repr(float(value))
        return f"{key} {op} {text}"
    _, op, key, other = lit
    return f"{key} {op} {other}"


def zen_decision_content(ck: CompiledKind) -> dict[str, Any]:
    """One decision per (pack, kind): an expression node with one status expression per check."""
    expressions = []
    for cc in ck.checks:
        clauses = []
        for seg in cc.segments:
            guard = [f"_d >= {float(seg.start.toordinal())}", f"_d <= {float(seg.end.toordinal())}"]
            for name, conj in seg.rules.items():
                # Existence tests first: ZEN's `and` short-circuits, and comparing null with a
                # number is an error there (durable simply does not match).
                ordered = sorted(conj, key=lambda lit: (lit[0] not in ("ex", "nex"), repr(lit)))
                tests = guard + [_zen_literal(lit) for lit in ordered]
                clauses.append((" and ".join(tests), name.split(".")[2]))
        expr = "".join(f'({cond}) ? "{code}" : ' for cond, code in clauses) + '"none"'
        expressions.append({"id": f"e{cc.index}", "key": f"c{cc.index}", "value": expr})
    pos = {"x": 0, "y": 0}
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "request", "position": pos},
            {
                "id": "checks",
                "type": "expressionNode",
                "name": "checks",
                "position": pos,
                "content": {"expressions": expressions},
            },
            {"id": "out", "type": "outputNode", "name": "response", "position": pos},
        ],
        "edges": [
            {"id": "a", "sourceId": "in", "targetId": "checks", "type": "edge"},
            {"id": "b", "sourceId": "checks", "targetId": "out", "type": "edge"},
        ],
    }


class ZenEvaluator(Evaluator):
    """Evaluator whose outcomes come from zen-engine; preparation and findings are shared."""

    def __init__(self, policy: Policy):
        import zen

        super().__init__(policy, "python")
        self._zen = zen.ZenEngine()
        self._decisions: dict[tuple[str, str], Any] = {}

    def decision(self, pack: CompiledPack, ck: CompiledKind) -> Any:
        key = (pack.id, ck.kind)
        if key not in self._decisions:
            self._decisions[key] = self._zen.create_decision(
                json.dumps(zen_decision_content(ck), ensure_ascii=False)
            )
        return self._decisions[key]

    def _outcomes(self, pack: CompiledPack, ck: CompiledKind, batch: list[_Prepared]) -> list[dict[int, str]]:
        decision = self.decision(pack, ck)
        out = []
        for prep in batch:
            result = decision.evaluate(prep.fact)["result"]
            out.append({ci: CODE_STATUS[result[f"c{ci}"]] for ci in prep.in_force})
        return out


# --- measuring --------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row(table: list[tuple[str, str, str, str]], stage: str, n: int, seconds: float, note: str = "") -> None:
    table.append((stage, f"{n:,}", f"{n / seconds:,.0f}" if seconds > 0 else "—", note))
    print(f"  {stage:<58} {n:>10,} {n / seconds:>12,.0f}/s  {seconds:8.2f}s  {note}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000, help="project records (default 100,000)")
    ap.add_argument("--others", type=int, default=5_000, help="records of the other kinds (default 5,000)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--million", action="store_true", help="also run 1,000,000 records through the CLI")
    ap.add_argument(
        "--keep", type=Path, default=None, help="folder for the generated files (default: temporary)"
    )
    ap.add_argument(
        "--end-to-end-only",
        action="store_true",
        help="only the CLI runs (CSV -> SQLite), not the stages and engines",
    )
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; Python {platform.python_version()}; files in {work}",
        flush=True,
    )
    csv_path = write_projects_csv(work / "projects.csv", args.records)
    other_path = write_other_jsonl(work / "others.jsonl", args.others)

    table: list[tuple[str, str, str, str]] = []
    db = work / "bench.db"
    if not args.end_to_end_only:
        stages(args, csv_path, other_path, table, db)
    run_end_to_end(args, work, csv_path, table, db)
    print(f"peak RSS of this process: {rss_mb():,.0f} MB")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


def stages(
    args: argparse.Namespace,
    csv_path: Path,
    other_path: Path,
    table: list[tuple[str, str, str, str]],
    db: Path,
) -> None:
    """Each stage alone in this process, and the engines side by side on the same records."""
    from engine.records.intake import load_records
    from engine.records.model import Normaliser
    from engine.records.readers import read_records

    policy, t_policy = timed(lambda: load_policy([BENCH_PACK]))
    n_checks = sum(len(ck.checks) for cp in policy.packs for k, ck in cp.kinds.items() if k == "project")
    print(
        f"policy: {len(policy.checks())} checks, {n_checks} on project records (compiled in {t_policy:.2f}s)"
    )
    print("stages (one process):")
    raws, t_read = timed(lambda: list(read_records(csv_path, policy.catalog, "project")))
    row(table, "read (CSV rows -> raw records)", len(raws), t_read)
    normaliser = Normaliser(policy.catalog)
    _, t_val = timed(lambda: [normaliser.normalise(r)[0] for r in raws])
    row(table, "validate (raw -> typed records)", len(raws), t_val)
    raws = []  # free memory
    intake = load_records([csv_path, other_path], policy.catalog)
    records = [r for r in intake.records if r.kind == "project"]
    others = [r for r in intake.records if r.kind != "project"]

    # Each engine over all records in chunks of CHUNK (as the CLI does), keeping only a digest of
    # every chunk's findings: holding 3.7 million findings of three engines at once would need GBs.
    chunks = [records[s : s + CHUNK] for s in range(0, len(records), CHUNK)]

    def run(ev: Evaluator) -> tuple[int, list[str]]:
        n, digests = 0, []
        for part in chunks:
            found = ev.evaluate(part).findings
            n += len(found)
            digests.append(digest(found))
        return n, digests

    durable = Evaluator(policy, "durable")
    (n_d, dig_d), t_d = timed(lambda: run(durable))
    row(table, f"evaluate durable, 1 process ({n_checks} checks)", len(records), t_d, f"{n_d:,} findings")
    python = Evaluator(policy, "python")
    (n_p, dig_p), t_p = timed(lambda: run(python))
    row(
        table,
        "evaluate, project general path (engine='python'), 1 process",
        len(records),
        t_p,
        f"{n_p:,} findings, {'identical to durable' if dig_p == dig_d else '!! differ from durable'}",
    )
    try:
        zen_ev: ZenEvaluator | None = ZenEvaluator(policy)
    except ImportError:
        zen_ev = None
        print("  zen-engine not installed (pip install -e '.[bench]'): skipped")
    if zen_ev is not None:
        (n_z, dig_z), t_z = timed(lambda: run(zen_ev))
        row(
            table,
            "evaluate zen-engine, 1 process",
            len(records),
            t_z,
            f"{n_z:,} findings, {'identical to durable' if dig_z == dig_d else '!! differ from durable'}",
        )

    from engine.pipeline.workers import WorkerPool

    history = History()
    history.add_all(records)

    def parallel() -> tuple[int, list[str]]:
        n, digests = 0, []
        with WorkerPool(policy, history, "durable", args.jobs) as pool:
            for count, dig in pool.map_in_workers(_evaluate_in_worker, chunks):
                n += count
                digests.append(dig)
        return n, digests

    (n_par, dig_par), t_par = timed(parallel)
    row(
        table,
        f"evaluate durable, --jobs {args.jobs}",
        len(records),
        t_par,
        f"{n_par:,} findings, {'identical to 1 process' if dig_par == dig_d else '!! differ from 1 process'}",
    )

    res_o, t_o = timed(lambda: durable.evaluate(others))
    row(
        table,
        "evaluate durable, other kinds (town, city, county, ...)",
        len(others),
        t_o,
        f"{len(res_o.findings):,} findings, {len(res_o.notices):,} notices",
    )

    # Statuses only, on identical prepared facts: the engines themselves.
    print("engines alone (statuses only, same prepared facts, one process):")
    cp = next(p for p in policy.packs if p.id == "bench")
    ck = cp.kinds["project"]
    hist = History()
    d = dt.date(2024, 9, 1)
    prepared = [durable._prepare(ck, r, d, i, hist) for i, r in enumerate(records)]
    handle = durable._handle(cp, ck)
    _, t_cd = timed(lambda: _collect(ck, handle.run([p.fact for p in prepared]), len(prepared)))
    row(table, f"statuses durable ({len(ck.checks)} checks)", len(prepared), t_cd)
    _, t_cp = timed(lambda: [reference_outcomes(ck, p) for p in prepared])
    row(table, "statuses, project general path (reference_outcomes)", len(prepared), t_cp)
    if zen_ev is not None:
        dec = zen_ev.decision(cp, ck)
        _, t_cz = timed(lambda: [dec.evaluate(p.fact) for p in prepared])
        row(table, "statuses zen-engine", len(prepared), t_cz)
    prepared = []

    # Store: the findings of the durable run, chunk by chunk, into a fresh SQLite file.
    try:
        from engine.cli.store import RunRecorder
        from engine.pipeline.stream import ChunkResult
    except ImportError:
        RunRecorder = None  # noqa: N806
        print("  store not available: store stage skipped")
    if RunRecorder is not None:
        db.unlink(missing_ok=True)

        def store() -> None:
            rec = RunRecorder.begin(
                f"sqlite:///{db}",
                policy,
                paths=[str(csv_path)],
                reviewer="bench",
                as_of=None,
                kind="project",
                chunk_size=CHUNK,
                engine_name="durable",
                rules_dirs=(str(BENCH_PACK),),
            )
            for i, part in enumerate(chunks):
                findings = durable.evaluate(part).findings  # not timed: only the saving is
                t = time.perf_counter()
                rec.save(ChunkResult(index=i, records=part, findings=findings))
                spent[0] += time.perf_counter() - t
            t = time.perf_counter()
            rec.finish()
            spent[0] += time.perf_counter() - t

        spent = [0.0]
        store()
        row(table, f"store (SQLite, chunks of {CHUNK:,})", len(records), spent[0], f"{n_d:,} findings")


def run_end_to_end(
    args: argparse.Namespace, work: Path, csv_path: Path, table: list[tuple[str, str, str, str]], db: Path
) -> None:
    """The CLI from a cold process, as a reviewer runs it."""
    print("end to end (CLI, cold process: read, validate, evaluate, store):")
    exe = shutil.which("compliance", path=str(Path(sys.executable).parent)) or "compliance"

    def cli(csv_file: Path, n: int, label: str, extra: list[str], fmt: str = "csv") -> None:
        # GNU time reports the peak RSS of the CLI's main process (workers are separate processes) and
        # the CPU time of all of them (the workers are waited for).
        cmd = [
            "/usr/bin/time",
            "-f",
            "maxrss_kb=%M cpu_s=%U+%S",
            exe,
            "evaluate",
            str(csv_file),
            "--kind",
            "project",
            "--format",
            fmt,
            "--quiet",
            "--jobs",
            str(args.jobs),
            *extra,
        ]
        t = time.perf_counter()
        # stdout (the findings as CSV, GBs for a million records) is written but not kept.
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - t
        err = proc.stderr.decode().strip().splitlines()
        usage = next((x for x in err if x.startswith("maxrss_kb=")), "maxrss_kb=0 cpu_s=0+0")
        peak = int(usage.split()[0].split("=")[1]) / 1024
        cpu = sum(float(x) for x in usage.split()[1].split("=")[1].split("+"))
        counts = [x for x in err if x.startswith("记录")][-1:]
        lines = sum(
            int(n) for part in counts for n in re.findall(r" (\d+)(?:,|$)", part.split("findings:")[-1])
        )
        summary = [x for x in err if x.startswith("记录")][-1:]
        row(
            table,
            label,
            n,
            seconds,
            f"exit {proc.returncode}, {lines:,} findings, peak RSS {peak:,.0f} MB, "
            f"CPU {cpu:,.1f} s (all processes); " + " ".join(summary),
        )

    # The target run: findings go to the store only (--format summary prints the counts).
    for attempt in (1, 2):
        db.unlink(missing_ok=True)
        cli(
            csv_path,
            args.records,
            f"CSV -> SQLite, Heze pack, --format summary, --jobs {args.jobs} (run {attempt})",
            ["--db", f"sqlite:///{db}"],
            fmt="summary",
        )
    db.unlink(missing_ok=True)
    cli(
        csv_path,
        args.records,
        f"CSV -> SQLite + CSV on stdout, Heze pack, --jobs {args.jobs}",
        ["--db", f"sqlite:///{db}"],
    )
    db.unlink(missing_ok=True)
    cli(
        csv_path,
        args.records,
        f"CSV -> SQLite + CSV on stdout, Heze + bench pack, --jobs {args.jobs}",
        ["--db", f"sqlite:///{db}", "--rules", str(BENCH_PACK)],
    )
    if args.million:
        big = write_projects_csv(work / "million.csv", 1_000_000)
        cli(
            big,
            1_000_000,
            f"1,000,000 records CSV, Heze pack, --no-store, --jobs {args.jobs}",
            ["--no-store"],
        )
        # And into the store, as the end-to-end target runs (the database file is ~5 GB; removed after).
        db.unlink(missing_ok=True)
        cli(
            big,
            1_000_000,
            f"1,000,000 records CSV -> SQLite, Heze pack, --format summary, --jobs {args.jobs}",
            ["--db", f"sqlite:///{db}"],
            fmt="summary",
        )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
