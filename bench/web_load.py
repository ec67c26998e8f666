"""Load on the web workbench: N concurrent sessions browsing one large run for a while, on loopback.

Not a unit test (it takes minutes): run it by hand and copy its table into docs/performance.md
("Web workbench load").

    python bench/web_load.py --db /tmp/load/store.db                 # 20 sessions, 120 s, the latest run
    python bench/web_load.py --db URL --sessions 5 --duration 20      # a quick look

The store must hold a finished run (see docs/performance.md for making a 100,000-record one). The
script adds a reviewer account `load-test` if missing, starts `compliance serve` in a separate process
on a free port, logs every session in and then has each one browse as a reviewer does: the results page
at random pages, filtered by status, county, measure and review flag, record details opened from the
listed findings, the run list and the policy pages. It reports p50/p95/max latency per kind of page and
the errors (any status other than 200, or no answer), which must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "load-test", "load-test-password"
STATUSES = ["non_compliant", "compliant", "not_applicable", "insufficient_data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(db: str, run: int | None) -> tuple[int, int, list[str], list[int]]:
    """The run to browse, its number of records, its counties and measures; the load account."""
    sys.path.insert(0, str(ROOT))
    from engine.store import Store, StoreError
    from engine.store.accounts import create_user, get_user
    from engine.web.queries import filter_choices

    store = Store(db, create=False)
    if get_user(store, USER) is None:
        create_user(store, USER, "reviewer", PASSWORD)
    from engine.store import list_runs

    runs = [r for r in list_runs(store) if r.finished_at]
    if not runs:
        raise SystemExit("no finished run in the store")
    chosen = next((r for r in runs if r.id == run), None) if run else max(runs, key=lambda r: r.n_records)
    if chosen is None:
        raise StoreError(f"no finished run {run}")
    choices = filter_choices(store, chosen.id, finished=True)
    store.close()
    return chosen.id, chosen.n_records, choices.counties, [m for m, _ in choices.measures]


class Stats:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def table(self) -> list[dict[str, object]]:
        rows = []
        everything = [t for ts in self.times.values() for t in ts]
        for name, ts in sorted(self.times.items()) + [("all", everything)]:
            if not ts:
                continue
            q = statistics.quantiles(ts, n=100, method="inclusive") if len(ts) > 1 else [ts[0]] * 99
            rows.append(
                {
                    "page": name,
                    "requests": len(ts),
                    "p50_ms": round(q[49] * 1000, 1),
                    "p95_ms": round(q[94] * 1000, 1),
                    "max_ms": round(max(ts) * 1000, 1),
                }
            )
        return rows


async def session(
    i: int,
    base: str,
    run: int,
    pages: int,
    counties: list[str],
    measures: list[int],
    stop: float,
    stats: Stats,
) -> None:
    rng = random.Random(i)
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as c:
        r = await c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        r = await c.post(
            "/login", data={"username": USER, "password": PASSWORD, "csrf": token, "next": "/runs"}
        )
        if r.status_code != 303:
            stats.errors.append(f"login {r.status_code}")
            return
        records: list[str] = []

        async def get(kind: str, url: str, **params: object) -> str | None:
            t = time.perf_counter()
            try:
                resp = await c.get(url, params={k: v for k, v in params.items() if v is not None})
            except httpx.HTTPError as exc:
                stats.errors.append(f"{kind} {url}: {type(exc).__name__}")
                return None
            stats.times[kind].append(time.perf_counter() - t)
            if resp.status_code != 200:
                stats.errors.append(f"{kind} {url} {params}: {resp.status_code}")
                return None
            return resp.text

        while time.monotonic() < stop:
            roll = rng.random()
            if roll < 0.30:
                html = await get("results page", f"/runs/{run}", page=rng.randint(1, pages))
            elif roll < 0.55:
                f = rng.choice(["status", "county", "measure", "review"])
                value = {
                    "status": lambda: rng.choice(STATUSES),
                    "county": lambda: rng.choice(counties or [None]),
                    "measure": lambda: rng.choice(measures or [None]),
                    "review": lambda: rng.choice([0, 1]),
                }[f]()
                html = await get("filtered results", f"/runs/{run}", **{f: value}, page=rng.randint(1, 20))
            elif roll < 0.85 and records:
                html = await get("record detail", f"/records/{rng.choice(records)}", run=run)
            elif roll < 0.93:
                html = await get("run list", "/runs")
            else:
                html = await get(
                    "policy", rng.choice(["/policy", f"/policy/heze-2024/{rng.choice([2, 9, 24])}"])
                )
            if html and "/records/" in html:
                found = re.findall(r'href="/records/([^"?/]+)\?run=', html)
                if found:
                    records = (records + found[:5])[-200:]
            await asyncio.sleep(rng.uniform(0.0, 0.2))  # a person reads a little between clicks


async def load(
    base: str,
    run: int,
    n_records: int,
    counties: list[str],
    measures: list[int],
    sessions: int,
    duration: float,
    stats: Stats,
) -> None:
    pages = max(1, n_records * 9 // 50)
    stop = time.monotonic() + duration
    await asyncio.gather(
        *(session(i, base, run, pages, counties, measures, stop, stats) for i in range(sessions))
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--run", type=int, default=None)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--workers", type=int, default=1, help="server processes (compliance serve --workers)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    db = args.db if "://" in args.db else f"sqlite:///{Path(args.db).resolve()}"
    run, n_records, counties, measures = prepare(db, args.run)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            str(Path(sys.executable).parent / "compliance"),
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--data-dir",
            str(Path(tmp) / "data"),
            "--workers",
            str(args.workers),
        ]
        env = {**os.environ, "COMPLIANCE_SECRET_KEY": "load-test-" + "k" * 40}
        server = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/login", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(
                        "the server did not start: "
                        + (server.stderr.read().decode()[-2000:] if server.poll() is not None else "")
                    )
                time.sleep(0.2)
            # warm-up: the run's filter choices and counts are computed once, then cached
            warm = httpx.Client(base_url=base, timeout=300)
            r = warm.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
            warm.post("/login", data={"username": USER, "password": PASSWORD, "csrf": token})
            t = time.perf_counter()
            warm.get(f"/runs/{run}")
            first = time.perf_counter() - t
            warm.close()
            stats = Stats()
            started = time.monotonic()
            asyncio.run(load(base, run, n_records, counties, measures, args.sessions, args.duration, stats))
            elapsed = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(20)
    rows = stats.table()
    total = sum(r["requests"] for r in rows if r["page"] != "all")
    result = {
        "run": run,
        "records": n_records,
        "sessions": args.sessions,
        "server_processes": args.workers,
        "duration_s": round(elapsed, 1),
        "requests": total,
        "throughput_per_s": round(total / elapsed, 1),
        "errors": len(stats.errors),
        "first_results_page_s": round(first, 2),
        "pages": rows,
        "error_samples": stats.errors[:10],
    }
    print(
        f"run {run} ({n_records} records), {args.sessions} sessions, {args.workers} server process(es), "
        f"{elapsed:.0f} s: {total} requests "
        f"({total / elapsed:.1f}/s), errors {len(stats.errors)}; first results page (cold) {first:.2f} s"
    )
    print("| page | requests | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['page']} | {r['requests']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")
    for e in stats.errors[:10]:
        print("error:", e)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    raise SystemExit(1 if stats.errors else 0)


if __name__ == "__main__":
    main()
