"""Where the project stands against its peers and against plain Python, in one interleaved run.

    .venv/bin/pip install -e '.[test,bench]'      # zen-engine, polars, duckdb, pyarrow
    .venv/bin/python bench/limits.py              # 100,000 records, 3 rounds (8-14 min on a shared 2-core machine)
    .venv/bin/python bench/limits.py --records 20000 --rounds 1 --profile 0 --cold 0   # a quick look
    .venv/bin/python bench/limits.py --million-only   # 1,000,000 records through the CLI into SQLite

Not a test: figures depend on the machine and its load; docs/performance.md records one run.

Evaluation, one process, on the 20-check workload of bench/spec20.py (seeded records, 11 fields, 2-5 %
missing per field, 0.5 % exactly on a decimal threshold). Every engine gets the same records; in each
round every engine runs once, the order rotating from round to round; the figure is the median of the
rounds. Outcomes of every engine are compared with the plain-Python limit, sorted by record and check
(records exactly on a decimal threshold, where binary doubles may judge otherwise, counted apart):

* plain Python, the limit: straight-line code generated from the 20 check trees (spec20.plain_limit);
* zen-engine, polars, duckdb, durable-rules driven directly (bench/peers.py);
* the project's library path (findings in their compact form, as evaluate(parts=True) gives them, and
  once more with every finding expanded into its values and message, as a worker does before storing): the same checks as the rule pack bench/spec20-pack (22 checks, see its
  measure file), ``Evaluator(policy).evaluate(records, as_of=..., parts=True)`` on already-validated
  ``Record``s in chunks of 2,000 (as the CLI evaluates); and the same with validation by
  ``Normaliser`` first (the time of validating the rows plus that of evaluating).

End to end, cold processes, on 100,000 project records of the Heze pack (bench/gen.py), also
interleaved: the CLI, ``compliance evaluate FILE.csv --jobs 2 --format summary --db sqlite:///...``, and a
plain limit: one generated script (csv module, the Heze pack's 13 project checks as straight-line
code, sqlite3 ``executemany`` into a findings table of one row per record and check: run id, record
id, check id, status, value, threshold, message), one process. Then the cold start of one record
(``compliance evaluate bench/one.json --no-store``) and a profile of the library path.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import os
import platform
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import peers  # noqa: E402
import spec20  # noqa: E402
from gen import write_projects_csv  # noqa: E402

SPEC_PACK = HERE / "spec20-pack"
AS_OF = dt.date(2026, 1, 1)  # the day of review: after the records' date, so nothing is "on pace"
CHUNK = 2000


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def in_spec_order(triples: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    order = {c: i for i, c in enumerate(spec20.CHECK_IDS)}
    return sorted(triples, key=lambda t: (t[0], order[t[1]]))


def compare(reference: list, ref_digest: str, out: list, boundary: set[int]) -> str:
    if len(out) != len(reference):
        return f"!! {len(out):,} outcomes, {len(reference):,} expected"
    if spec20.outcome_digest(out) == ref_digest:
        return "identical (digest)"
    diff = [a for a, b in zip(reference, out, strict=True) if a != b]
    on_line = sum(a[0] in boundary for a in diff)
    return (
        f"{'!! ' if len(diff) > on_line else ''}{len(diff) - on_line} differ off the threshold, "
        f"{on_line} on it (records exactly on a decimal threshold)"
    )


# --- the project's library path -------------------------------------------------------------------


class Library:
    """Evaluator(policy).evaluate(records, parts=True), chunk by chunk; only the evaluate calls are timed."""

    def __init__(self) -> None:
        from engine.evaluation.evaluate import Evaluator
        from engine.policy.policy import load_policy

        self.policy = load_policy([SPEC_PACK], with_builtin=False)
        self.evaluator = Evaluator(self.policy)
        self.n_checks = len(self.policy.checks())

    def run(
        self, records: list[Any], keep: bool, expand: bool = False
    ) -> tuple[float, list[tuple[int, str, str]] | None]:
        """With ``expand``, every finding's values and message are built too (finding_parts, what a
        worker does before storing), inside the timed part."""
        from engine.evaluation.evaluate import finding_parts

        spent = 0.0
        out: list[tuple[int, str, str]] | None = [] if keep else None
        # Each round is a first pass over these records: the outcomes the evaluator remembers per
        # record (for records repeating one already seen) are dropped; durable-rules' answers per
        # situation stay, as they would in a long-running worker.
        self.evaluator.forget_records()
        evaluate = self.evaluator.evaluate
        for s in range(0, len(records), CHUNK):
            part = records[s : s + CHUNK]
            t = time.perf_counter()
            result = evaluate(part, as_of=AS_OF, parts=True)
            if expand:
                expanded = finding_parts(result.parts)
            spent += time.perf_counter() - t
            if expand and len(expanded) != len(result.parts):
                raise RuntimeError("library: expanded findings differ in number from the compact ones")
            if len(result.parts) != self.n_checks * len(part) or result.notices:
                raise RuntimeError(
                    f"library: {len(result.parts)} findings and {len(result.notices)} notices "
                    f"for {len(part)} records x {self.n_checks} checks"
                )
            if out is not None:
                out.extend(spec20.project_outcomes(result.parts))
        return spent, out


class Validation:
    """Normaliser.normalise over the rows as a sheet gives them (RawRecords built beforehand)."""

    def __init__(self, library: Library, records: list[dict[str, Any]]):
        from engine.records.model import Normaliser, RawRecord, SourceRef

        self.normaliser = Normaliser(library.policy.catalog)
        self.raws = [
            RawRecord(source=SourceRef(file="spec20.csv", row=i + 2), data=row, default_kind="project")
            for i, row in enumerate(spec20.raw_rows(records))
        ]

    def run(self, expected: list[Any] | None) -> float:
        normalise = self.normaliser.normalise
        t = time.perf_counter()
        got = [normalise(r) for r in self.raws]
        spent = time.perf_counter() - t
        bad = [g for g in got if g[0] is None or g[1]]
        if bad:
            raise RuntimeError(f"validation rejected {len(bad)} rows, e.g. {bad[0][1]}")
        if expected is not None:
            differ = sum(g[0].values != e.values for g, e in zip(got, expected, strict=True))
            if differ:
                raise RuntimeError(f"validation: {differ} records differ from the ones given directly")
        return spent


# --- end to end: the plain limit as a generated script ---------------------------------------------


def plain_e2e_source() -> str:
    """A standalone script (no project import) for the Heze pack's project checks: csv module in,
    straight-line checks, sqlite3 executemany out. Generated from the compiled checks."""
    from gen import PROJECT_HEADER

    from engine.policy.expression_tree import Arith, Compare, Const, FieldRef, fields_of
    from engine.policy.policy import load_policy
    from engine.records.model import Normaliser

    policy = load_policy()
    pack = next(p for p in policy.packs if p.id == "heze-2024")
    ck = pack.kinds["project"]
    period = pack.pack.meta.period
    normaliser = Normaliser(policy.catalog)
    column = {}
    for i, header in enumerate(PROJECT_HEADER):
        hit = normaliser.resolve_header("project", header)
        if hit:
            column[hit[0]] = i
    types = {name: policy.catalog.kind("project").fields[name].type for name in column}

    def var(name: str) -> str:
        return "v_" + name

    def code(e: Any) -> str:
        if isinstance(e, FieldRef):
            return var(e.name)
        if isinstance(e, Const):
            return repr(float(e.value)) if not isinstance(e.value, (bool, str)) else repr(e.value)
        if isinstance(e, Arith):
            return f"({code(e.left)} {e.op} {code(e.right)})"
        if isinstance(e, Compare):
            return f"({code(e.left)} {e.op} {code(e.right)})"
        raise NotImplementedError(f"plain limit: no code for {e!r}")

    used: set[str] = set()
    lines: list[str] = []
    for cc in ck.checks:
        if len(cc.segments) != 1:
            raise NotImplementedError(f"{cc.full_id}: one version expected")
        seg = cc.segments[0]
        if not isinstance(seg.final, Compare) or (
            seg.applies is not None and not isinstance(seg.applies, Compare)
        ):
            raise NotImplementedError(f"{cc.full_id}: a single comparison expected")
        cid, title = cc.full_id, cc.check.title
        af = sorted(fields_of(seg.applies)) if seg.applies is not None else []
        q, thr = seg.final.left, seg.final.right
        qf = sorted(fields_of(q))
        used |= set(af) | set(qf)
        threshold = repr(str(thr.value).lower() if isinstance(thr.value, bool) else str(thr.value))
        ins = (
            f"add((1, rid, {cid!r}, 'insufficient_data', None, {threshold}, "
            f"{title + ':数据不足,无法判断'!r}))"
        )
        # a check judges only records dated within its period in force
        lines.append(f"            if not ({str(seg.start)!r} <= d <= {str(seg.end)!r}): pass")
        first = "elif"
        if af:
            lines.append(f"            elif {' or '.join(f'{var(f)} is None' for f in af)}: {ins}")
            lines.append(
                f"            elif not {code(seg.applies)}: add((1, rid, {cid!r}, 'not_applicable', None, None, "
                f"{title + ':不适用'!r}))"
            )
            first = "elif"
        guard = " or ".join(f"{var(f)} is None" for f in qf)
        if isinstance(q, Arith) and q.op == "/":
            guard += f" or not {code(q.right)}"
        lines.append(f"            {first} {guard}: {ins}")
        lines.append("            else:")
        lines.append(f"                q = {code(q)}")
        shown = "('true' if q else 'false')" if isinstance(thr.value, bool) else "repr(q)"
        lines.append(
            f"                if q {seg.final.op} {code(thr)}: add((1, rid, {cid!r}, 'compliant', {shown}, "
            f"{threshold}, f{title + ':实际值{q},达到要求'!r}))"
        )
        # an inclusion rule not met is not applicable (不计入), never non_compliant
        unmet = "not_applicable" if cc.check.role == "inclusion" else "non_compliant"
        lines.append(
            f"                else: add((1, rid, {cid!r}, {unmet!r}, {shown}, {threshold}, "
            f"f{title + ':实际值{q},未达到要求'!r}))"
        )
    reads = []
    for name in sorted(used):
        i = column[name]
        if types[name] == "boolean":
            reads.append(f"            {var(name)} = YES.get(row[{i}])")
        elif types[name] in ("number", "integer"):
            reads.append(f"            c = row[{i}]\n            {var(name)} = float(c) if c else None")
        else:
            reads.append(f"            {var(name)} = row[{i}] or None")
    id_col, date_col = PROJECT_HEADER.index("项目编号"), column["submitted_on"]
    return f'''"""Generated by bench/limits.py: the end-to-end plain limit (csv -> {len(ck.checks)} checks -> sqlite3)."""
import csv
import sqlite3
import sys
import time

YES = {{"是": True, "否": False}}
INSERT = "INSERT INTO findings (run_id, record_id, check_id, status, value, threshold, message) VALUES (?, ?, ?, ?, ?, ?, ?)"


def main(path, db):
    t = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE findings (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, record_id TEXT NOT NULL, "
                "check_id TEXT NOT NULL, status TEXT NOT NULL, value TEXT, threshold TEXT, message TEXT NOT NULL)")
    rows = []
    add = rows.append
    n = 0
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            n += 1
            d = row[{date_col}]
            if not ({str(period.start)!r} <= d <= {str(period.end)!r}):
                continue
            rid = row[{id_col}]
{chr(10).join(reads)}
{chr(10).join(lines)}
            if len(rows) >= 26000:
                con.executemany(INSERT, rows)
                rows.clear()
    con.executemany(INSERT, rows)
    con.commit()
    counts = dict(con.execute("SELECT status, count(*) FROM findings GROUP BY status"))
    con.close()
    print(n, sum(counts.values()), repr(counts), time.perf_counter() - t)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
'''


def timed_process(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, float, str, str, int]:
    """Wall seconds, CPU seconds of the process and its children, peak RSS (MB, main process), stdout,
    stderr, exit status."""
    full = ["/usr/bin/time", "-f", "@@maxrss_kb=%M cpu_s=%U+%S", *cmd]
    t = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, env=env)
    wall = time.perf_counter() - t
    err = proc.stderr.decode(errors="replace")
    m = re.search(r"@@maxrss_kb=(\d+) cpu_s=([\d.]+)\+([\d.]+)", err)
    rss, cpu = (int(m.group(1)) / 1024, float(m.group(2)) + float(m.group(3))) if m else (0.0, 0.0)
    return wall, cpu, rss, proc.stdout.decode(errors="replace"), err, proc.returncode


# --- the run --------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000, help="records of each part (default 100,000)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the figure is their median")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs of the CLI run")
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--no-e2e", action="store_true", help="skip the end-to-end part")
    ap.add_argument(
        "--profile", type=int, default=20_000, help="records profiled on the library path (0: none)"
    )
    ap.add_argument("--cold", type=int, default=10, help="cold starts of one record timed (0: none)")
    ap.add_argument("--million", action="store_true", help="also 1,000,000 records through the CLI (long)")
    ap.add_argument("--million-only", action="store_true", help="only the 1,000,000-record CLI run")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--keep", type=Path, default=None, help="folder for generated files (default: temporary)")
    args = ap.parse_args()

    import durable
    import zen  # noqa: F401

    versions = {"python": platform.python_version()}
    for mod in ("polars", "duckdb", "pyarrow"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            pass
    from importlib.metadata import version

    versions["zen-engine"] = version("zen-engine")
    versions["durable-rules"] = version("durable_rules")
    del durable
    work = args.keep or Path(tempfile.mkdtemp(prefix="limits-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.million_only:
        print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load {_load()}", flush=True)
        got = million(args, work)
        if args.json:
            args.json.write_text(json.dumps(got, ensure_ascii=False, indent=1), encoding="utf-8")
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
        return
    started = dt.datetime.now(dt.UTC)
    print(
        f"{started:%Y-%m-%d %H:%M} UTC; {platform.machine()}, {os.cpu_count()} cores; load {_load()}; "
        f"{', '.join(f'{k} {v}' for k, v in versions.items())}",
        flush=True,
    )

    # Same records for every engine.
    records, boundary = spec20.generate(args.records)
    library = Library()
    project_records = spec20.project_records(records)
    validation = Validation(library, records)
    limit = spec20.plain_limit()
    engines: dict[str, Callable[[bool], tuple[float, list | None]]] = {}

    def peer(run: Callable[[list], list]) -> Callable[[bool], tuple[float, list | None]]:
        def go(keep: bool) -> tuple[float, list | None]:
            t = time.perf_counter()
            out = run(records)
            return time.perf_counter() - t, (out if keep else None)

        return go

    engines["plain Python limit (generated straight-line code)"] = peer(limit)
    engines[peers.ZenBatch.name] = peer(peers.ZenBatch().run)
    engines[peers.PolarsFrame.name] = peer(peers.PolarsFrame().run)
    if not args.no_duckdb:
        engines[peers.DuckSQL.name] = peer(peers.DuckSQL().run)
    durable_peer = peers.DurableBatches()
    engines[peers.DurableBatches.name] = peer(durable_peer.run)
    lib_name = "project library: Evaluator.evaluate(Records, parts=True), compact findings"
    engines[lib_name] = lambda keep: library.run(project_records, keep)
    exp_name = "project library, findings expanded (values, messages: + finding_parts)"
    engines[exp_name] = lambda keep: library.run(project_records, keep, expand=True)
    val_name = "project: validation by Normaliser (rows -> Records)"
    engines[val_name] = lambda keep: (validation.run(project_records if keep else None), None)

    # Warm-up, not timed: first calls compile rulesets, JIT-free but cache-filling.
    few = records[:CHUNK]
    limit(few)
    library.run(project_records[:CHUNK], False)

    names = list(engines)
    times: dict[str, list[float]] = {n: [] for n in names}
    checks: dict[str, str] = {}
    reference: list[tuple[int, str, str]] | None = None
    ref_digest = ""
    print(f"evaluation, {args.records:,} records x 20 checks, {args.rounds} interleaved rounds:", flush=True)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            keep = r == 0
            # What the harness holds (the records, the reference outcomes, what earlier engines
            # returned) is frozen out of the cyclic collector before each timed call: every engine is
            # timed against a collector that sees only what it allocates itself, as in a process of
            # its own (the CLI and its workers freeze what they hold once loaded).
            gc.freeze()
            seconds, out = engines[name](keep)
            times[name].append(seconds)
            print(
                f"  round {r + 1}  {name:<62} {seconds:8.2f} s  {args.records / seconds:>10,.0f} records/s  "
                f"(load {_load()})",
                flush=True,
            )
            if out is not None:  # round 1, where the plain limit runs first: compare at once
                out = in_spec_order(out)
                if reference is None:
                    reference, ref_digest = out, spec20.outcome_digest(out)
                    checks[name] = f"{len(out):,} outcomes {dict(Counter(o for _, _, o in out))}"
                else:
                    checks[name] = compare(reference, ref_digest, out, boundary)
                del out
    print(f"{len(boundary)} records exactly on a decimal threshold")
    checks[peers.DurableBatches.name] += f"; {durable_peer.reruns} records re-run alone (completeness check)"
    del reference

    med = {n: statistics.median(ts) for n, ts in times.items()}
    rate = {n: args.records / s for n, s in med.items()}
    lib_val = args.records / (med[lib_name] + med[val_name])
    figures: dict[str, Any] = {
        "started": started.isoformat(),
        "records": args.records,
        "rounds": args.rounds,
        "versions": versions,
        "cores": os.cpu_count(),
        "rates": rate,
        "library_with_validation": lib_val,
        "checks": checks,
        "times": times,
    }
    print(
        "\n| engine (one process) | records/s | seconds (median) | outcomes vs plain limit |\n|---|---:|---:|---|"
    )
    for n in names:
        print(f"| {n} | {rate[n]:,.0f} | {med[n]:.2f} | {checks.get(n, '')} |")
    print(
        f"| project library incl. validation (sum of the two rows above) | {lib_val:,.0f} | "
        f"{med[lib_name] + med[val_name]:.2f} | |"
    )
    plain_name, zen_name = names[0], peers.ZenBatch.name
    print(
        f"\nproject library vs zen-engine: {rate[lib_name] / rate[zen_name]:.2f}x "
        f"({'faster' if rate[lib_name] >= rate[zen_name] else 'slower'}); "
        f"plain limit / project library: {rate[plain_name] / rate[lib_name]:,.0f}x; "
        f"plain limit / zen-engine: {rate[plain_name] / rate[zen_name]:,.1f}x; "
        f"durable-rules direct / project library: {rate[peers.DurableBatches.name] / rate[lib_name]:.2f}x",
        flush=True,
    )
    project_records.clear()  # free memory for the end-to-end part
    validation.raws = []
    engines.clear()

    if not args.no_e2e:
        figures["end_to_end"] = end_to_end(args, work)
    if args.million:
        figures["million"] = million(args, work)
    if args.cold:
        figures["cold_start"] = cold_start(args.cold)
    if args.profile:
        figures["profile"] = profile(library, records[: args.profile])
    figures["load_end"] = _load()
    figures["finished"] = dt.datetime.now(dt.UTC).isoformat()
    print(
        f"finished {dt.datetime.now(dt.UTC):%H:%M} UTC, load {_load()}; peak RSS of this process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


def end_to_end(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    csv_path = write_projects_csv(work / "projects.csv", args.records)
    script = work / "plain_e2e.py"
    script.write_text(plain_e2e_source(), encoding="utf-8")
    exe = shutil.which("compliance", path=str(Path(sys.executable).parent)) or "compliance"
    db = work / "cli.db"
    plain_db = work / "plain.db"

    def clear(path: Path) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    runs: dict[str, list[tuple[float, float, float]]] = {"cli": [], "plain": []}
    seen: dict[str, Any] = {}
    print(
        f"end to end, {args.records:,} Heze project records, CSV -> SQLite, cold processes, "
        f"{args.rounds} interleaved rounds:",
        flush=True,
    )
    for r in range(args.rounds):
        for which in ("cli", "plain") if r % 2 == 0 else ("plain", "cli"):
            if which == "cli":
                clear(db)
                cmd = [
                    exe,
                    "evaluate",
                    str(csv_path),
                    "--jobs",
                    str(args.jobs),
                    "--format",
                    "summary",
                    "--db",
                    f"sqlite:///{db}",
                ]
                wall, cpu, rss, out, err, rc = timed_process(cmd)
                last = [x for x in err.splitlines() if x.startswith("记录")][-1:] or ["?"]
                stored = [x for x in err.splitlines() if x.startswith("已保存")][-1:] or ["?"]
                if rc != 0:
                    raise RuntimeError(f"CLI exit {rc}: {err[-2000:]}")
                seen["cli_summary"] = last[0]
                seen["cli_stored"] = stored[0]
                from engine.policy.terms import STATUS_ZH

                status_of = {zh: key for key, zh in STATUS_ZH.items()}  # the summary line reads Chinese
                counts = dict(
                    (status_of.get(k, k), int(v))
                    for k, v in re.findall(r"(\w+) (\d+)", last[0].split("findings:")[-1])
                )
                seen["cli_counts"] = counts
            else:
                clear(plain_db)
                wall, cpu, rss, out, err, rc = timed_process(
                    [sys.executable, str(script), str(csv_path), str(plain_db)]
                )
                if rc != 0:
                    raise RuntimeError(f"plain e2e exit {rc}: {err[-2000:]}")
                fields = out.split(None, 2)
                counts = json.loads(fields[2].rsplit(" ", 1)[0].replace("'", '"'))
                seen["plain_counts"] = counts
            runs[which].append((wall, cpu, rss))
            print(
                f"  round {r + 1}  {which:<6} {wall:8.2f} s  {args.records / wall:>9,.0f} records/s  CPU {cpu:7.1f} s  "
                f"peak RSS {rss:5.0f} MB  (load {_load()})",
                flush=True,
            )
    clear(db)
    clear(plain_db)
    same = seen.get("cli_counts") == seen.get("plain_counts")
    result: dict[str, Any] = {"same_counts": same, **seen}
    for which, rs in runs.items():
        wall = statistics.median(x[0] for x in rs)
        result[which] = {
            "wall": wall,
            "rate": args.records / wall,
            "cpu": statistics.median(x[1] for x in rs),
            "rss": max(x[2] for x in rs),
            "walls": [x[0] for x in rs],
        }
    print(
        f"\n| end to end ({args.records:,} records CSV -> SQLite) | records/s | wall (median) | CPU | peak RSS |"
        "\n|---|---:|---:|---:|---:|"
    )
    for which, label in (
        ("cli", f"CLI --jobs {args.jobs} --format summary"),
        ("plain", "plain limit, 1 process"),
    ):
        x = result[which]
        print(f"| {label} | {x['rate']:,.0f} | {x['wall']:.2f} s | {x['cpu']:.1f} s | {x['rss']:.0f} MB |")
    print(
        f"plain limit / CLI: {result['plain']['rate'] / result['cli']['rate']:.1f}x; status counts "
        f"{'identical' if same else '!! differ'}: CLI {seen.get('cli_counts')}, plain {seen.get('plain_counts')}",
        flush=True,
    )
    return result


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (MB), from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(x.split()[1]) for x in f if x.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / 1024


def _tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process and its descendants (MB): shared pages counted once in all."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next((int(x.split()[1]) for x in f if x.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / 1024


def million(args: argparse.Namespace, work: Path, n: int = 1_000_000) -> dict[str, Any]:
    """The CLI on n records into SQLite: wall time, peak RSS of the main process (GNU time) and the
    peak of the sum over the main process and its workers (sampled from /proc every 0.5 s)."""
    big = write_projects_csv(work / "million.csv", n)
    db = work / "million.db"
    exe = shutil.which("compliance", path=str(Path(sys.executable).parent)) or "compliance"
    cmd = [
        "/usr/bin/time",
        "-f",
        "@@maxrss_kb=%M cpu_s=%U+%S",
        exe,
        "evaluate",
        str(big),
        "--jobs",
        str(args.jobs),
        "--format",
        "summary",
        "--db",
        f"sqlite:///{db}",
    ]
    err_path = work / "million.err"
    t = time.perf_counter()
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        peak_tree = peak_pss = 0.0
        while proc.poll() is None:
            peak_tree = max(peak_tree, _tree_rss_mb(proc.pid))
            peak_pss = max(peak_pss, _tree_pss_mb(proc.pid))
            time.sleep(0.5)
    wall = time.perf_counter() - t
    text = err_path.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"@@maxrss_kb=(\d+) cpu_s=([\d.]+)\+([\d.]+)", text)
    main_rss = int(m.group(1)) / 1024 if m else 0.0
    last = [x for x in text.splitlines() if x.startswith(("记录", "已保存"))]
    result = {
        "records": n,
        "wall": wall,
        "rate": n / wall,
        "main_rss": main_rss,
        "tree_rss": peak_tree,
        "tree_pss": peak_pss,
        "exit": proc.returncode,
        "summary": last,
    }
    print(
        f"{n:,} records CSV -> SQLite, --jobs {args.jobs}: exit {proc.returncode}, {wall:.1f} s, {n / wall:,.0f} "
        f"records/s, peak RSS main process {main_rss:.0f} MB, main + workers {peak_tree:.0f} MB (RSS summed), "
        f"{peak_pss:.0f} MB (PSS summed); {' '.join(last)}",
        flush=True,
    )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    big.unlink(missing_ok=True)
    return result


def cold_start(n: int) -> dict[str, Any]:
    exe = shutil.which("compliance", path=str(Path(sys.executable).parent)) or "compliance"
    one = HERE / "one.json"
    walls = []
    timed_process(
        [exe, "evaluate", str(one), "--no-store"]
    )  # warm the compiled-policy cache and the page cache
    for _ in range(n):
        wall, cpu, rss, out, err, rc = timed_process([exe, "evaluate", str(one), "--no-store"])
        if rc != 0:
            raise RuntimeError(f"cold start exit {rc}: {err[-1000:]}")
        walls.append(wall)
    result = {"median": statistics.median(walls), "min": min(walls), "max": max(walls), "runs": n}
    print(
        f"cold start, one record ({n} runs): median {result['median']:.2f} s, min {result['min']:.2f} s, "
        f"max {result['max']:.2f} s (load {_load()})",
        flush=True,
    )
    return result


def profile(library: Library, records: list[dict[str, Any]]) -> dict[str, Any]:
    """cProfile of the library path: where the time goes, by function and by module."""
    recs = spec20.project_records(records)
    prof = cProfile.Profile()
    prof.enable()
    library.run(recs, False)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    by_module: Counter[str] = Counter()
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = file.replace(str(ROOT) + "/", "")
        short = re.sub(r".*(site-packages|lib/python3\.\d+)/", "", short)
        short = "built-in (C: decimal, dict, str, durable core, ...)" if short == "~" else short
        by_module[short] += tt
        rows.append((tt, ct, nc, f"{short}:{line}({func})"))
    rows.sort(reverse=True)
    out = io.StringIO()
    print(
        f"\nprofile of the library path, {len(records):,} records (cProfile, {total:.2f} s of profiled time):",
        file=out,
    )
    print("| function | own time | share | calls |\n|---|---:|---:|---:|", file=out)
    for tt, _ct, nc, name in rows[:20]:
        print(f"| `{name}` | {tt:.2f} s | {tt / total:.0%} | {nc:,} |", file=out)
    print("\n| module | own time | share |\n|---|---:|---:|", file=out)
    for mod, tt in by_module.most_common(12):
        print(f"| `{mod}` | {tt:.2f} s | {tt / total:.0%} |", file=out)
    cum = sorted(((ct, name) for _tt, ct, _nc, name in rows if "engine/" in name), reverse=True)[:15]
    print("\n| project function (inclusive time) | time | share |\n|---|---:|---:|", file=out)
    for ct, name in cum:
        print(f"| `{name}` | {ct:.2f} s | {ct / total:.0%} |", file=out)
    text = out.getvalue()
    print(text, flush=True)
    return {"total": total, "text": text}


if __name__ == "__main__":
    main()
