"""durable-rules and the plain-Python reference agree on every generated record.

The compiled checks are evaluated twice: by durable-rules (the real path) and by a plain-Python
three-valued evaluation in exact decimal. Records are generated with missing fields, values on,
just off and far from every threshold, extremes and undated/out-of-period dates. Any difference in
any finding fails.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal
from typing import Any

from engine.evaluation.evaluate import Evaluator
from engine.policy.expression_tree import Arith, Const, FieldRef
from engine.policy.policy import Policy
from engine.records.catalog import MAX_MAGNITUDE
from engine.records.model import Record, SourceRef

N_RECORDS = 10_000
EPS = [
    Decimal(0),
    Decimal("0.000001"),
    Decimal("-0.000001"),
    Decimal("0.01"),
    Decimal("-0.01"),
    Decimal("0.0000004"),
    Decimal("-0.0000006"),
]


def _constants(policy: Policy) -> list[Decimal]:
    out: set[Decimal] = {Decimal(0), Decimal(1)}
    for cc in policy.checks():
        for seg in cc.segments:
            if isinstance(seg.threshold, Const) and isinstance(seg.threshold.value, Decimal):
                out.add(seg.threshold.value)
    return sorted(out)


def _ratio_checks(policy: Policy) -> list[tuple[str, str, str, Decimal]]:
    """(kind, numerator field, denominator field, threshold) of checks whose quantity is a / b."""
    out = []
    for cc in policy.checks():
        q = cc.quantity
        if (
            isinstance(q, Arith)
            and q.op == "/"
            and isinstance(q.left, FieldRef)
            and isinstance(q.right, FieldRef)
        ):
            for seg in cc.segments:
                if isinstance(seg.threshold, Const) and isinstance(seg.threshold.value, Decimal):
                    out.append((cc.check.subject, q.left.name, q.right.name, seg.threshold.value))
    return out


def generate(policy: Policy, n: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    consts = _constants(policy)
    ratios = _ratio_checks(policy)
    kinds = [k for k in policy.catalog.kinds if any(k in p.kinds for p in policy.packs)]
    records = []
    for i in range(n):
        kind = rng.choice(kinds)
        spec = policy.catalog.kind(kind)
        values: dict[str, Any] = {}
        for name, f in spec.fields.items():
            if rng.random() < 0.25:
                continue  # missing
            if f.type == "number":
                r = rng.random()
                if r < 0.55:
                    v = rng.choice(consts) * rng.choice([1, 1, 1, 2, 10]) + rng.choice(EPS)
                elif r < 0.75:
                    v = Decimal(rng.randint(0, 10**7)) / Decimal(10 ** rng.randint(0, 4))
                elif r < 0.85:
                    v = rng.choice([Decimal(0), Decimal("0.000001"), MAX_MAGNITUDE, Decimal("1e-12")])
                else:
                    v = Decimal(rng.randint(0, 1000))
                lo = f.exclusive_min if f.exclusive_min is not None else f.min
                if lo is not None and (v < lo or (f.exclusive_min is not None and v <= lo)):
                    v = abs(v) + Decimal("0.5")
                if f.max is not None and v > f.max:
                    v = f.max
                values[name] = v
            elif f.type == "integer":
                if name.endswith("year"):
                    values[name] = rng.choice([2020, 2021, 2022, 2023, 2024, 2025, 2025, 2026])
                else:
                    values[name] = rng.choice([0, 1, 2, 3, 5, 10, 15, 100, 150, 299, 300, 301, 8000, 10**6])
            elif f.type == "boolean":
                values[name] = rng.random() < 0.5
            elif f.type == "enum":
                values[name] = rng.choice(f.choices)
            elif f.type == "text":
                values[name] = rng.choice(["甲", "乙", "项目", ""]) or "x"
            elif f.type == "date":
                values[name] = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(-200, 900))
        if ratios and rng.random() < 0.4:
            k, num, den, t = rng.choice([r for r in ratios if r[0] == kind] or [(None, None, None, None)])
            if k is not None:
                d = rng.choice(
                    [Decimal(1), Decimal(3), Decimal(7), Decimal(100), Decimal("0.5"), Decimal("66.7")]
                )
                values[den] = d
                values[num] = max(Decimal(0), t * d + rng.choice(EPS) * rng.choice([1, 100]))
        # Yearly reports of a few subjects, so prior-year figures, baselines and aggregates have data.
        name = rng.choice(["甲", "乙", "丙"]) if spec.date_field == "report_year" else None
        records.append(
            Record(kind=kind, id=f"G{i}", name=name, values=values, source=SourceRef(file="gen", row=i + 1))
        )
    return records


def _key(f):
    return (
        f.record_id,
        f.check,
        f.check_version,
        f.status,
        f.value,
        f.threshold,
        f.target,
        f.message,
        f.review,
        tuple(f.review_reasons),
        f.basis,
        f.reported,
        f.counted,
        f.baseline,
    )


def _compare(
    policy: Policy, records: list[Record], as_of: dt.date | None = None, review_date: dt.date | None = None
) -> Counter:
    durable = Evaluator(policy, "durable").evaluate(records, as_of=review_date, rules_date=as_of)
    python = Evaluator(policy, "python").evaluate(records, as_of=review_date, rules_date=as_of)
    direct = Evaluator(policy, "durable-direct").evaluate(records, as_of=review_date, rules_date=as_of)
    d = sorted(map(_key, durable.findings))
    p = sorted(map(_key, python.findings))
    assert len(d) == len(p)
    diff = [(a, b) for a, b in zip(d, p, strict=True) if a != b]
    assert not diff, diff[:5]
    # durable-rules asked once per situation gives what it gives asked with every record's own fact
    assert sorted(map(_key, direct.findings)) == d
    assert [n.record_id for n in durable.notices] == [n.record_id for n in python.notices]
    # exactly one finding per record and check
    pairs = Counter((f.record_id, f.check) for f in durable.findings)
    assert all(v == 1 for v in pairs.values())
    out = Counter(f.status for f in durable.findings)
    out["review"] = sum(f.review for f in durable.findings)
    return out


def test_durable_equals_plain_python_on_10000_generated_records(policy):
    records = generate(policy, N_RECORDS, seed=20240506)
    statuses = _compare(policy, records)
    # The generator reaches every status, so the comparison is not vacuous.
    for s in (
        "compliant",
        "non_compliant",
        "not_applicable",
        "insufficient_data",
        "on_track",
        "behind_schedule",
        "review",
    ):
        assert statuses[s] > 0, statuses


def test_durable_equals_plain_python_with_an_open_year_at_review(policy):
    """Reviewed on 2025-06-30, 2025 reports are judged on pace: both engines agree on that too."""
    records = generate(policy, 3000, seed=99)
    statuses = _compare(policy, records, review_date=dt.date(2025, 6, 30))
    assert statuses["on_track"] + statuses["behind_schedule"] > 0


def test_durable_equals_plain_python_on_logic_pack(logic_policy):
    records = generate(logic_policy, 4000, seed=7)
    statuses = _compare(logic_policy, records)
    assert statuses["compliant"] and statuses["non_compliant"] and statuses["insufficient_data"]


def test_durable_equals_plain_python_with_as_of(logic_policy):
    records = generate(logic_policy, 1500, seed=11)
    _compare(logic_policy, records, as_of=dt.date(2025, 3, 1))


def test_records_answered_again_from_their_places_get_the_same_findings(policy, monkeypatch):
    """A record whose places were seen before takes that record's outcomes (situations.Plan.records):
    evaluated again, and with the kept records emptied every few hundred, the findings are the
    plain-Python reference's."""
    from engine.evaluation import situations

    monkeypatch.setattr(situations, "MAX_RECORDS", 300)
    records = generate(policy, 3000, seed=5)
    python = sorted(map(_key, Evaluator(policy, "python").evaluate(records).findings))
    durable = Evaluator(policy, "durable")
    for _ in range(3):
        assert sorted(map(_key, durable.evaluate(records).findings)) == python
    kept = [len(p.records) for t in durable._situations.values() for p in t._plans.values()]
    assert 0 < sum(kept) <= 300 * len(durable._situations)
