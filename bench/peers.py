"""The peer engines on the 20-check workload (bench/spec20.py), each driven the way a competent user
would drive it, for bench/limits.py.

Each adapter is built from ``spec20.CHECKS`` (``__init__``) and turns spec records (dicts, a missing
field an absent key) into ``[(rid, check id, outcome)]`` (``run``):

* ``ZenBatch`` — zen-engine: one JDM graph, one decision table per check (hit policy ``first``, one
  input column whose cells are whole boolean expressions), ``ZenEngine.evaluate_batch`` in chunks of
  1,000 records.
* ``PolarsFrame`` — polars: one ``when/then`` chain per check over a frame of the records, then
  ``unpivot`` to one row per record and check.
* ``DuckSQL`` — duckdb: one ``CASE`` per check over an Arrow table, then ``UNPIVOT``.
* ``DurableBatches`` — durable-rules' C core called directly: four or five mutually exclusive rules per
  check, 250 facts per short-lived sid, every rule with ``cap`` 250 (one action call per rule and
  batch), no timer threads; every batch checked for exactly one outcome per record and check, and a
  record that falls short re-run alone in its own sid.

Binary doubles: polars, duckdb and durable-rules compare in doubles, as the plain-Python limit does;
zen-engine computes in decimals, as the project does. The order of the tuples is each engine's own
(bench/limits.py compares them sorted, outside the timing).
"""

from __future__ import annotations

import json
from typing import Any

from spec20 import CHECKS, FIELDS, TYPES, fields_of, negation

# --- zen-engine -------------------------------------------------------------------------------------


def _zen_value(v: Any) -> str:
    if isinstance(v, tuple):
        return v[1] if v[0] == "$" else f"({_zen_value(v[1])} {v[0]} {_zen_value(v[2])})"
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def _zen_cond(e: Any) -> str:
    if e[0] in ("and", "or"):
        return "(" + f" {e[0]} ".join(_zen_cond(s) for s in e[1:]) + ")"
    return f"{e[1]} {e[0]} {_zen_value(e[2])}"


def _zen_absent(fs: list[str]) -> str:
    return " or ".join(f"{f} == null" for f in fs)


def zen_graph(checks: list = CHECKS) -> dict[str, Any]:
    """The JDM graph: input -> one decision table per check -> output (each table writes its field)."""
    pos = {"x": 0, "y": 0}
    nodes: list[dict[str, Any]] = [{"id": "in", "type": "inputNode", "name": "record", "position": pos}]
    edges: list[dict[str, Any]] = []
    for cid, desc, applies, test in checks:
        rows: list[tuple[str, str]] = []
        if applies is not None:
            rows += [
                (_zen_absent(fields_of(applies)), "missing_data"),
                (_zen_cond(negation(applies)), "not_applicable"),
            ]
        rows += [(_zen_absent(fields_of(test)), "missing_data"), (_zen_cond(test), "pass"), ("", "fail")]
        nodes.append(
            {
                "id": cid,
                "type": "decisionTableNode",
                "name": desc,
                "position": pos,
                "content": {
                    "hitPolicy": "first",
                    "inputs": [{"id": "when", "name": "condition"}],
                    "outputs": [{"id": "out", "name": cid, "field": cid}],
                    "rules": [
                        {"_id": f"{cid}.{k}", "when": cond, "out": json.dumps(outcome)}
                        for k, (cond, outcome) in enumerate(rows)
                    ],
                },
            }
        )
        edges += [
            {"id": f"in-{cid}", "type": "edge", "sourceId": "in", "targetId": cid},
            {"id": f"{cid}-out", "type": "edge", "sourceId": cid, "targetId": "out"},
        ]
    nodes.append({"id": "out", "type": "outputNode", "name": "outcomes", "position": pos})
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


class ZenBatch:
    name = "zen-engine (evaluate_batch, 20 decision tables)"

    def __init__(self, checks: list = CHECKS, chunk: int = 1000):
        import zen

        self.ids = [c[0] for c in checks]
        self.chunk = chunk
        self.engine = zen.ZenEngine({"loader": {"type": "static", "content": {"spec20": zen_graph(checks)}}})

    def run(self, records: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
        out: list[tuple[int, str, str]] = []
        add = out.append
        ids = self.ids
        for s in range(0, len(records), self.chunk):
            part = records[s : s + self.chunk]
            answers = self.engine.evaluate_batch([{"key": "spec20", "context": r} for r in part])
            for r, a in zip(part, answers, strict=True):
                if not a.get("success"):
                    raise RuntimeError(f"zen-engine failed on record {r['rid']}: {a.get('error')}")
                result = a["data"]["result"]
                rid = r["rid"]
                for cid in ids:
                    add((rid, cid, result[cid]))
        return out


# --- polars -----------------------------------------------------------------------------------------


class PolarsFrame:
    name = "polars (when/then per check, unpivot)"

    def __init__(self, checks: list = CHECKS):
        import polars as pl

        self.pl = pl
        ops = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
        arith = {"+": "add", "-": "sub", "*": "mul", "/": "truediv"}

        def value(v: Any) -> Any:
            if isinstance(v, tuple):
                if v[0] == "$":
                    return pl.col(v[1])
                return getattr(value(v[1]), arith[v[0]])(value(v[2]))
            return pl.lit(v)

        def cond(e: Any) -> Any:
            if e[0] in ("and", "or"):
                parts = [cond(s) for s in e[1:]]
                return pl.all_horizontal(parts) if e[0] == "and" else pl.any_horizontal(parts)
            return getattr(pl.col(e[1]), ops[e[0]])(value(e[2]))

        def absent(fs: list[str]) -> Any:
            return pl.any_horizontal([pl.col(f).is_null() for f in fs])

        self.exprs = []
        for cid, _d, applies, test in checks:
            chain = None
            if applies is not None:
                chain = (
                    pl.when(absent(fields_of(applies)))
                    .then(pl.lit("missing_data"))
                    .when(~cond(applies))
                    .then(pl.lit("not_applicable"))
                )
            start = pl.when if chain is None else chain.when
            chain = start(absent(fields_of(test))).then(pl.lit("missing_data"))
            self.exprs.append(
                chain.when(cond(test)).then(pl.lit("pass")).otherwise(pl.lit("fail")).alias(cid)
            )
        self.ids = [c[0] for c in checks]
        kinds = {float: pl.Float64, int: pl.Int64, bool: pl.Boolean}
        self.schema = {"rid": pl.Int64} | {f: kinds[TYPES[f]] for f in FIELDS}

    def run(self, records: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
        pl = self.pl
        columns = {"rid": [r["rid"] for r in records]} | {f: [r.get(f) for r in records] for f in FIELDS}
        frame = pl.DataFrame(columns, schema=self.schema)
        wide = frame.select(pl.col("rid"), *self.exprs)
        return wide.unpivot(index="rid", on=self.ids, variable_name="check", value_name="outcome").rows()


# --- duckdb -----------------------------------------------------------------------------------------


def _sql_value(v: Any) -> str:
    if isinstance(v, tuple):
        return v[1] if v[0] == "$" else f"({_sql_value(v[1])} {v[0]} {_sql_value(v[2])})"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    return repr(v) if isinstance(v, int) else f"{v!r}::DOUBLE"


def _sql_cond(e: Any) -> str:
    if e[0] in ("and", "or"):
        return "(" + f" {e[0].upper()} ".join(_sql_cond(s) for s in e[1:]) + ")"
    op = {"==": "=", "!=": "<>"}.get(e[0], e[0])
    return f"({e[1]} {op} {_sql_value(e[2])})"


class DuckSQL:
    name = "duckdb (CASE per check, UNPIVOT)"

    def __init__(self, checks: list = CHECKS, threads: int = 2):
        import duckdb

        self.con = duckdb.connect()
        self.con.execute(f"SET threads TO {threads}")
        cases = []
        for cid, _d, applies, test in checks:
            whens = []
            if applies is not None:
                whens.append(
                    f"WHEN {' OR '.join(f'{f} IS NULL' for f in fields_of(applies))} THEN 'missing_data'"
                )
                whens.append(f"WHEN NOT {_sql_cond(applies)} THEN 'not_applicable'")
            whens.append(f"WHEN {' OR '.join(f'{f} IS NULL' for f in fields_of(test))} THEN 'missing_data'")
            whens.append(f"WHEN {_sql_cond(test)} THEN 'pass'")
            cases.append(f"CASE {' '.join(whens)} ELSE 'fail' END AS {cid}")
        ids = ", ".join(c[0] for c in checks)
        self.sql = (
            f"SELECT rid, check_id, outcome FROM (SELECT rid, {', '.join(cases)} FROM spec20) "
            f"UNPIVOT (outcome FOR check_id IN ({ids}))"
        )

    def run(self, records: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
        import pyarrow as pa

        kinds = {float: pa.float64(), int: pa.int64(), bool: pa.bool_()}
        table = pa.table(
            {"rid": pa.array([r["rid"] for r in records], pa.int64())}
            | {f: pa.array([r.get(f) for r in records], kinds[TYPES[f]]) for f in FIELDS}
        )
        self.con.register("spec20", table)
        try:
            got = self.con.sql(self.sql).to_arrow_table()
        finally:
            self.con.unregister("spec20")
        return list(
            zip(
                got.column("rid").to_pylist(),
                got.column("check_id").to_pylist(),
                got.column("outcome").to_pylist(),
                strict=True,
            )
        )


# --- durable-rules, batched -------------------------------------------------------------------------

_DR_CMP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_DR_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}


def _dr_value(v: Any) -> Any:
    if isinstance(v, tuple):
        if v[0] == "$":
            return {"$m": v[1]}  # a field of the same fact
        return {_DR_ARITH[v[0]]: {"$l": _dr_value(v[1]), "$r": _dr_value(v[2])}}
    return v


def _dr_cond(e: Any) -> dict[str, Any]:
    """A condition for facts with every field it reads present. durable-rules fires a rule once per
    satisfied branch of an $or, so disjunctions are made exclusive: a | b -> a | (not a and b)."""
    if e[0] == "and":
        return {"$and": [_dr_cond(s) for s in e[1:]]}
    if e[0] == "or":
        branches, before = [], []
        for s in e[1:]:
            branches.append({"$and": [*before, _dr_cond(s)]} if before else _dr_cond(s))
            before.append(_dr_cond(negation(s)))
        return {"$or": branches}
    op, f, v = e
    return {f: _dr_value(v)} if op == "==" else {_DR_CMP[op]: {f: _dr_value(v)}}


def _dr_some_absent(fs: list[str]) -> dict[str, Any]:
    """Some field absent, as exclusive branches: f1 absent | (f1 present, f2 absent) | ..."""
    branches = []
    for i, f in enumerate(fs):
        terms = [{"$ex": {g: 1}} for g in fs[:i]] + [{"$nex": {f: 1}}]
        branches.append(terms[0] if len(terms) == 1 else {"$and": terms})
    return branches[0] if len(branches) == 1 else {"$or": branches}


def durable_rules(checks: list = CHECKS) -> tuple[dict[str, list], dict[str, tuple[str, str]]]:
    """rule name -> its conjunction, and rule name -> (check id, outcome): the rules of a check are
    mutually exclusive and cover every record. Each starts with `rid` present: a rule of only absence
    tests would also match the engine's own state fact of the sid."""
    rules: dict[str, list] = {}
    meta: dict[str, tuple[str, str]] = {}
    has_rid = {"$ex": {"rid": 1}}
    for cid, _d, applies, test in checks:
        given: list = []
        if applies is not None:
            af = fields_of(applies)
            present = [{"$ex": {f: 1}} for f in af]
            rules[f"{cid}_amiss"], meta[f"{cid}_amiss"] = (
                [has_rid, _dr_some_absent(af)],
                (cid, "missing_data"),
            )
            rules[f"{cid}_na"] = [has_rid, *present, _dr_cond(negation(applies))]
            meta[f"{cid}_na"] = (cid, "not_applicable")
            given = [*present, _dr_cond(applies)]
        tf = fields_of(test)
        present_t = [{"$ex": {f: 1}} for f in tf]
        rules[f"{cid}_tmiss"], meta[f"{cid}_tmiss"] = (
            [has_rid, *given, _dr_some_absent(tf)],
            (cid, "missing_data"),
        )
        rules[f"{cid}_pass"], meta[f"{cid}_pass"] = (
            [has_rid, *given, *present_t, _dr_cond(test)],
            (cid, "pass"),
        )
        rules[f"{cid}_fail"] = [has_rid, *given, *present_t, _dr_cond(negation(test))]
        meta[f"{cid}_fail"] = (cid, "fail")
    return rules, meta


class DurableBatches:
    name = "durable-rules (C core, 250 facts a sid, cap 250)"
    _serial = 0

    def __init__(self, checks: list = CHECKS, batch: int = 250):
        from durable import engine

        class Host(engine.Host):
            """No timer threads: actions run only in the caller (the timers would race delete_state)."""

            def _run(self) -> None:
                pass

        rules, meta = durable_rules(checks)
        self.batch, self.n_checks = batch, len(checks)
        self.out: list[tuple[int, str, str]] = []
        add = self.out.append

        def action(cid: str, outcome: str) -> Any:
            def act(c: Any) -> None:  # with cap, c.m is every message the rule matched in the batch
                for m in c.m:
                    add((m._d["rid"], cid, outcome))

            return act

        DurableBatches._serial += 1
        self.ruleset_name = f"spec20_{DurableBatches._serial}"
        definition = {
            name: {"all": [{"m": {"$and": conj}}], "cap": batch, "run": action(*meta[name])}
            for name, conj in rules.items()
        }
        self.host = Host()
        self.host.register_rulesets({self.ruleset_name: definition})
        self.ruleset = self.host.get_ruleset(self.ruleset_name)
        self.reruns = 0

    def _sid(self, sid: str, facts: list[dict[str, Any]]) -> None:
        import durable_rules_engine as core

        _, offset = core.assert_facts(self.ruleset._handle, json.dumps(facts, ensure_ascii=False))
        errors: list[Any] = []
        self.ruleset.do_actions(offset, lambda e, s: errors.append(e) if e else None)
        if errors:
            raise errors[0]
        self.ruleset.delete_state(sid)

    def run(self, records: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
        out = self.out
        del out[:]
        self.reruns = 0
        n, k = self.n_checks, self.batch
        for s in range(0, len(records), k):
            part = records[s : s + k]
            sid = f"b{s}"
            before = len(out)
            self._sid(sid, [{**r, "sid": sid} for r in part])
            if len(out) - before != n * len(part):  # completeness: one outcome per record and check
                counts: dict[int, int] = {}
                for rid, _c, _o in out[before:]:
                    counts[rid] = counts.get(rid, 0) + 1
                short = {r["rid"] for r in part if counts.get(r["rid"]) != n}
                out[before:] = [t for t in out[before:] if t[0] not in short]
                for r in part:
                    if r["rid"] in short:
                        self.reruns += 1
                        one = f"x{r['rid']}"
                        self._sid(one, [{**r, "sid": one}])
        return list(out)
