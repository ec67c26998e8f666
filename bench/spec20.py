"""The 20-check workload of the peer benchmark, reimplemented for bench/limits.py.

Same semantics as the reference peers' spec (``/work/shared/bench/peers/spec.py``, a yardstick kept
outside the project): the same seeded generator (same fields, value ranges, missing rates and
boundary records, so the same seed gives the same records), the same 20 checks as small expression
trees, and the same outcome rule per check and record:

1. ``applies`` given and a field it uses is missing -> ``missing_data``
2. ``applies`` given and false                    -> ``not_applicable``
3. a field the test uses is missing               -> ``missing_data``
4. the test true -> ``pass``, else ``fail``

A missing field is an absent key. Trees: ``(op, field, rvalue)`` with op a comparison,
``("and"|"or", e1, e2, ...)``; an rvalue is a number, a bool, ``("$", field)`` or
``(arith, rvalue, rvalue)``.

``plain_limit`` turns the trees into straight-line Python (the practical limit of one process:
no project code in its loop). The project's own version of the checks is the rule pack
``bench/spec20-pack``; ``project_records`` and ``raw_records`` give it the same records.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

OUTCOMES = ("pass", "fail", "not_applicable", "missing_data")

FIELDS = (
    "investment_wan",
    "land_mu",
    "annual_tax_wan",
    "employees",
    "output_value_wan",
    "floor_area_ratio",
    "green_area_pct",
    "energy_tce",
    "is_industrial",
    "in_special_town",
    "town_population",
)
TYPES = {
    "investment_wan": float,
    "land_mu": float,
    "annual_tax_wan": float,
    "employees": int,
    "output_value_wan": float,
    "floor_area_ratio": float,
    "green_area_pct": float,
    "energy_tce": float,
    "is_industrial": bool,
    "in_special_town": bool,
    "town_population": int,
}
MISSING = {
    "investment_wan": 0.03,
    "land_mu": 0.03,
    "annual_tax_wan": 0.05,
    "employees": 0.02,
    "output_value_wan": 0.04,
    "floor_area_ratio": 0.03,
    "green_area_pct": 0.03,
    "energy_tce": 0.05,
    "is_industrial": 0.02,
    "in_special_town": 0.02,
    "town_population": 0.02,
}
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
OPPOSITE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _f(name: str) -> tuple[str, str]:
    return ("$", name)


IND = ("==", "is_industrial", True)
TOWN = ("==", "in_special_town", True)

# (check id, description, applies or None, test)
CHECKS: list[tuple[str, str, Any, Any]] = [
    ("C01", "investment >= 200 x land", None, (">=", "investment_wan", ("*", _f("land_mu"), 200))),
    ("C02", "industrial: tax >= 15 x land", IND, (">=", "annual_tax_wan", ("*", _f("land_mu"), 15))),
    ("C03", "investment >= 1000", None, (">=", "investment_wan", 1000)),
    ("C04", "land <= 300", None, ("<=", "land_mu", 300)),
    ("C05", "industrial: floor area ratio >= 1.0", IND, (">=", "floor_area_ratio", 1.0)),
    (
        "C06",
        "floor area ratio in [0.5, 3.5]",
        None,
        ("and", (">=", "floor_area_ratio", 0.5), ("<=", "floor_area_ratio", 3.5)),
    ),
    ("C07", "industrial: green <= 20", IND, ("<=", "green_area_pct", 20)),
    ("C08", "non-industrial: green >= 10", ("==", "is_industrial", False), (">=", "green_area_pct", 10)),
    ("C09", "industrial: output >= 300 x land", IND, (">=", "output_value_wan", ("*", _f("land_mu"), 300))),
    ("C10", "energy <= 0.5 x output", None, ("<=", "energy_tce", ("*", _f("output_value_wan"), 0.5))),
    ("C11", "industrial: employees >= 50", IND, (">=", "employees", 50)),
    (
        "C12",
        "employees > 0: tax >= 2 x employees",
        (">", "employees", 0),
        (">=", "annual_tax_wan", ("*", _f("employees"), 2)),
    ),
    ("C13", "special town: investment >= 5000", TOWN, (">=", "investment_wan", 5000)),
    ("C14", "special town: population >= 30000", TOWN, (">=", "town_population", 30000)),
    ("C15", "small town: land <= 100", ("<", "town_population", 10000), ("<=", "land_mu", 100)),
    ("C16", "output >= 0.8 x investment", None, (">=", "output_value_wan", ("*", _f("investment_wan"), 0.8))),
    ("C17", "tax <= output / 4", None, ("<=", "annual_tax_wan", ("/", _f("output_value_wan"), 4))),
    (
        "C18",
        "non-industrial: energy <= 5000 or green >= 30",
        ("==", "is_industrial", False),
        ("or", ("<=", "energy_tce", 5000), (">=", "green_area_pct", 30)),
    ),
    ("C19", "employees <= 20 x land", None, ("<=", "employees", ("*", _f("land_mu"), 20))),
    (
        "C20",
        "special-town industrial: investment >= 3000 and tax >= 100",
        ("and", TOWN, IND),
        ("and", (">=", "investment_wan", 3000), (">=", "annual_tax_wan", 100)),
    ),
]
CHECK_IDS = tuple(c[0] for c in CHECKS)
SEED = 20240601


def generate(n: int, seed: int = SEED, boundary_rate: float = 0.005) -> tuple[list[dict[str, Any]], set[int]]:
    """n seeded records (dicts, key ``rid`` and the fields present) and the ids of those put exactly
    on the C01 or C16 threshold in decimal terms, where binary doubles may judge otherwise.

    The draws are made in the reference spec's order, so a seed gives the same records there."""
    rnd = random.Random(seed)
    records: list[dict[str, Any]] = []
    boundary: set[int] = set()
    for rid in range(n):
        r: dict[str, Any] = {
            "rid": rid,
            "investment_wan": round(rnd.uniform(100, 60000), 2),
            "land_mu": round(rnd.uniform(1, 400), 2),
            "annual_tax_wan": round(rnd.uniform(0, 3000), 2),
            "employees": rnd.randint(0, 1500),
            "output_value_wan": round(rnd.uniform(10, 100000), 2),
            "floor_area_ratio": round(rnd.uniform(0.3, 4.0), 2),
            "green_area_pct": round(rnd.uniform(0, 40), 1),
            "energy_tce": round(rnd.uniform(0, 8000), 1),
            "is_industrial": rnd.random() < 0.6,
            "in_special_town": rnd.random() < 0.25,
            "town_population": rnd.randint(2000, 120000),
        }
        u = rnd.random()
        if u < boundary_rate / 2:  # investment = land x 200 exactly (C01)
            r["investment_wan"] = float(Decimal(repr(r["land_mu"])) * 200)
            boundary.add(rid)
        elif u < boundary_rate:  # output = investment x 0.8 exactly (C16); investment a multiple of 0.05
            inv = Decimal(int(r["investment_wan"] * 20)) / 20
            r["investment_wan"] = float(inv)
            r["output_value_wan"] = float(inv * Decimal("0.8"))
            boundary.add(rid)
        for name in FIELDS:
            if rnd.random() < MISSING[name]:
                del r[name]
        records.append(r)
    return records, boundary


# --- trees ------------------------------------------------------------------------------------------


def fields_of(e: Any, acc: list[str] | None = None) -> list[str]:
    """The fields a condition reads, in order of first use."""
    acc = [] if acc is None else acc
    if e is None:
        return acc
    if e[0] in ("and", "or"):
        for sub in e[1:]:
            fields_of(sub, acc)
        return acc
    if e[1] not in acc:
        acc.append(e[1])
    _value_fields(e[2], acc)
    return acc


def _value_fields(v: Any, acc: list[str]) -> None:
    if isinstance(v, tuple):
        if v[0] == "$":
            if v[1] not in acc:
                acc.append(v[1])
        else:
            _value_fields(v[1], acc)
            _value_fields(v[2], acc)


def negation(e: Any) -> Any:
    """not e, for records where every field e reads is present."""
    if e[0] == "and":
        return ("or", *(negation(s) for s in e[1:]))
    if e[0] == "or":
        return ("and", *(negation(s) for s in e[1:]))
    return (OPPOSITE[e[0]], e[1], e[2])


# --- the plain-Python limit -------------------------------------------------------------------------


def plain_source(checks: Iterable[tuple[str, str, Any, Any]] = CHECKS) -> str:
    """Straight-line Python for the checks: one function, every field read once per record, each check
    an if/elif chain appending (rid, check id, outcome)."""

    def name(f: str) -> str:
        return "f_" + f

    def value(v: Any) -> str:
        if isinstance(v, tuple):
            return name(v[1]) if v[0] == "$" else f"({value(v[1])} {v[0]} {value(v[2])})"
        return repr(v)

    def cond(e: Any) -> str:
        if e[0] in ("and", "or"):
            return "(" + f" {e[0]} ".join(cond(s) for s in e[1:]) + ")"
        return f"{name(e[1])} {e[0]} {value(e[2])}"

    def absent(fs: list[str]) -> str:
        return " or ".join(f"{name(f)} is None" for f in fs)

    body = [
        "def run(records, out):",
        "    add = out.append",
        "    for rec in records:",
        "        get = rec.get",
        "        rid = rec['rid']",
    ]
    body += [f"        {name(f)} = get({f!r})" for f in FIELDS]
    for cid, _desc, applies, test in checks:
        first = "if"
        if applies is not None:
            body.append(f"        if {absent(fields_of(applies))}: add((rid, {cid!r}, 'missing_data'))")
            body.append(f"        elif not ({cond(applies)}): add((rid, {cid!r}, 'not_applicable'))")
            first = "elif"
        body.append(f"        {first} {absent(fields_of(test))}: add((rid, {cid!r}, 'missing_data'))")
        body.append(f"        elif {cond(test)}: add((rid, {cid!r}, 'pass'))")
        body.append(f"        else: add((rid, {cid!r}, 'fail'))")
    return "\n".join(body) + "\n"


def plain_limit(
    checks: Iterable[tuple[str, str, Any, Any]] = CHECKS,
) -> Callable[[list[dict[str, Any]]], list]:
    """records -> [(rid, check id, outcome)], record by record in check order."""
    namespace: dict[str, Any] = {}
    exec(compile(plain_source(checks), "<spec20 checks>", "exec"), namespace)
    run = namespace["run"]

    def evaluate(records: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
        out: list[tuple[int, str, str]] = []
        run(records, out)
        return out

    return evaluate


# --- the project's records --------------------------------------------------------------------------

RECORD_DATE = dt.date(2024, 9, 1)  # inside the spec20 pack's period: every check is in force
STATUS_OUTCOME = {
    "compliant": "pass",
    "non_compliant": "fail",
    "not_applicable": "not_applicable",
    "insufficient_data": "missing_data",
}


def record_id(rid: int) -> str:
    return f"S20-{rid:07d}"


def project_values(r: dict[str, Any]) -> dict[str, Any]:
    """A spec record's values as a validated project record holds them: numbers as exact decimals of
    the figure written (the shortest repr of the double), integers and yes/no as they are."""
    values: dict[str, Any] = {"submitted_on": RECORD_DATE}
    for f in FIELDS:
        v = r.get(f)
        if v is None:
            continue
        values[f] = Decimal(repr(v)) if TYPES[f] is float else v
    return values


def project_records(records: list[dict[str, Any]]) -> list[Any]:
    """Already-validated project ``Record``s of the spec records (what ``Normaliser`` would give)."""
    from engine.records.model import Record, SourceRef

    src = SourceRef(file="spec20")
    return [
        Record(kind="project", id=record_id(r["rid"]), values=project_values(r), source=src) for r in records
    ]


def raw_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The spec records as rows of a sheet: 编号, 类型, 申报日期 and the fields as text cells (blank when
    missing), the form a department's file takes before validation."""
    rows = []
    for r in records:
        row: dict[str, Any] = {
            "编号": record_id(r["rid"]),
            "类型": "project",
            "申报日期": RECORD_DATE.isoformat(),
        }
        for f in FIELDS:
            v = r.get(f)
            row[f] = "" if v is None else ("是" if v else "否") if TYPES[f] is bool else repr(v)
        rows.append(row)
    return rows


def outcome_digest(triples: Iterable[tuple[Any, str, str]]) -> str:
    """A fingerprint of (record, check, outcome) in order."""
    import hashlib

    h = hashlib.blake2b()
    for t in triples:
        h.update(f"{t[0]}|{t[1]}|{t[2]}\n".encode())
    return h.hexdigest()


def _join(a: str, b: str, want_both: bool) -> str:
    """A spec check's outcome from its two project checks (C18: either passes; C20: both pass)."""
    if a == "missing_data" or b == "missing_data":
        return "missing_data"
    if a == "not_applicable":  # both have the same condition
        return "not_applicable"
    if want_both:
        return "pass" if a == "pass" and b == "pass" else "fail"
    return "pass" if a == "pass" or b == "pass" else "fail"


def project_outcomes(parts: list[tuple[Any, ...]]) -> list[tuple[int, str, str]]:
    """The project's findings (the compact form of evaluate(parts=True) for the spec20 pack:
    (prepared record, check version, outcome code), 22 a record, in check order) as the spec's
    (rid, check id, outcome), 20 a record; c18a/c18b and c20a/c20b joined."""
    from engine.policy.compiler import CODE_STATUS

    out: list[tuple[int, str, str]] = []
    add = out.append
    held: dict[str, str] = {}
    for prep, version, code in parts:
        rid = int(prep.record.id[4:])
        check = version.cc.full_id.rsplit(":", 1)[-1]
        outcome = STATUS_OUTCOME[CODE_STATUS[code]]
        if len(check) == 3:
            add((rid, "C" + check[1:], outcome))
        elif check.endswith("a"):
            held[check[:3]] = outcome
        else:
            add((rid, "C" + check[1:3], _join(held.pop(check[:3]), outcome, check.startswith("c20"))))
    return out
