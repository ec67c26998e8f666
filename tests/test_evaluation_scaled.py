"""The scaled path (engine/evaluation/scaled.py) gives what the Decimal path gives, digit for digit.

Differences of figures are computed in exact millionths where every figure is a whole number of
millionths; elsewhere (more decimal places, beyond the bound, a zero that may be -0) the Decimal
path decides. Each test compares the two on the same values: the difference itself, and a whole
prepared record (values, exact values and the fact durable-rules receives, in order).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluation.context import AggregateTable, History
from engine.evaluation.evaluate import Evaluator
from engine.evaluation.prepare import _compile_special, _encode
from engine.evaluation.scaled import INEXACT, millionths, scaled_difference
from engine.policy.compiled import Difference
from engine.policy.expression_tree import Arith, Const, FieldRef, Neg
from engine.policy.numbers import to_engine
from engine.policy.policy import load_policy
from engine.records.model import Record, SourceRef
from tests.conftest import ROOT

SETTINGS = settings(max_examples=400, deadline=None)
MICRO = Decimal("1E-6")


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type, Decimals digit for digit (sign of zero and exponent included)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    return bool(a == b)


def _decimal(places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=-(10**9), max_value=10**9, places=places, allow_nan=False, allow_infinity=False
    )


# Figures as records hold them: up to 9 decimal places (beyond 6: not whole millionths), -0 and
# zeros with trailing places, huge magnitudes (beyond the bound), integers, yes/no, text, missing.
numbers = st.one_of(
    *(_decimal(p) for p in (0, 1, 2, 4, 6, 7, 9)),
    st.sampled_from([Decimal("-0"), Decimal("-0.00"), Decimal("0.000"), Decimal("1E+25"), Decimal("-3E+30")]),
    st.decimals(min_value=-(10**30), max_value=10**30, places=2, allow_nan=False, allow_infinity=False),
    st.integers(-(10**6), 10**6),
    st.integers(-(10**25), 10**25),
)
field_values = st.one_of(st.none(), st.booleans(), st.just("文字"), numbers)

FIELDS = ["a", "b", "c"]
constants = st.one_of(
    st.sampled_from(["0", "-0", "200", "0.5", "0.8", "4", "0.3", "3.5", "1E-7"]).map(Decimal), _decimal(3)
).map(Const)
leaves = st.one_of(st.sampled_from(FIELDS).map(FieldRef), constants)
formulas = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from("+-*/"), inner, inner).map(lambda t: Arith(t[0], t[1], t[2])),
        inner.map(Neg),
    ),
    max_leaves=5,
)
# The usual shape, a figure against a multiple of another (its own fast function in scaled.py)
multiples = st.tuples(st.sampled_from(FIELDS), st.sampled_from("*/"), st.sampled_from(FIELDS), constants).map(
    lambda t: (FieldRef(t[0]), Arith(t[1], FieldRef(t[2]), t[3]))
)


def _check_difference(left: Any, right: Any, values: dict[str, Any]) -> None:
    decimal_path = _compile_special(Difference(left, right))
    run = scaled_difference(left, right)
    assert decimal_path is not None and run is not None
    expected = decimal_path(values)
    m = run({k: millionths(v) for k, v in values.items()})
    if m is INEXACT:
        return  # the Decimal path decides
    assert _same(None if m is None else Decimal(m) * MICRO, expected), (m, expected)


@SETTINGS
@given(formulas, formulas, st.fixed_dictionaries({}, optional={f: field_values for f in FIELDS}))
def test_a_scaled_difference_is_the_decimal_difference(left, right, values):
    _check_difference(left, right, values)


@SETTINGS
@given(multiples, st.fixed_dictionaries({}, optional={f: field_values for f in FIELDS}))
def test_a_figure_against_a_multiple_is_the_decimal_difference(shape, values):
    _check_difference(shape[0], shape[1], values)


def test_the_scaled_path_decides_the_usual_figures_and_leaves_the_rest():
    run = scaled_difference(FieldRef("a"), Arith("*", FieldRef("b"), Const(Decimal(200))))
    assert run is not None
    ints = {"a": millionths(Decimal("26438.95")), "b": millionths(Decimal("105.75"))}
    assert run(ints) == 26438_950000 - 21150_000000
    assert run({"a": millionths(Decimal("1.0000001")), "b": 0}) is INEXACT  # 7 places
    assert run({"a": millionths(Decimal("200")), "b": millionths(Decimal(1))}) is INEXACT  # zero: maybe -0
    assert run({"b": 5}) is None  # a figure missing: no value, as in Decimal
    assert millionths(Decimal("-0.00")) == 0 and millionths(True) is None and millionths("1") is None


SPEC_PACK = ROOT / "bench" / "spec20-pack"
SPEC_FIELDS = (
    "investment_wan",
    "land_mu",
    "annual_tax_wan",
    "employees",
    "output_value_wan",
    "floor_area_ratio",
    "green_area_pct",
    "energy_tce",
    "town_population",
)


@pytest.fixture(scope="module")
def spec_policy():
    return load_policy([SPEC_PACK], with_builtin=False)


def _prepared(policy: Any, values: dict[str, Any], scaled: bool) -> Any:
    ev = Evaluator(policy)
    ck = policy.packs[0].kinds["project"]
    rec = Record(kind="project", id="P1", values=values, source=SourceRef(file="test"))
    ev._prepare(ck, rec, dt.date(2024, 9, 1), 0, History(), dt.date(2026, 1, 1), AggregateTable())
    if not scaled:
        plan = ev._kind_plans[id(ck)]
        plan.steps = plan.plain_steps  # every derived value in Decimal, as before scaled.py
    return ev._prepare(ck, rec, dt.date(2024, 9, 1), 0, History(), dt.date(2026, 1, 1), AggregateTable())


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"submitted_on": st.just(dt.date(2024, 9, 1))},
        optional={
            **{f: numbers for f in SPEC_FIELDS},
            "is_industrial": st.booleans(),
            "in_special_town": st.booleans(),
        },
    )
)
def test_a_prepared_record_is_the_same_on_the_scaled_path(spec_policy, values):
    fast, plain = _prepared(spec_policy, values, True), _prepared(spec_policy, values, False)
    for a, b in ((fast.values, plain.values), (fast.exact, plain.exact), (fast.fact, plain.fact)):
        assert list(a) == list(b)  # same keys, same order
        assert all(_same(a[k], b[k]) for k in a), (a, b)
    # and the fact is what the general encoding of every value gives
    ck = spec_policy.packs[0].kinds["project"]
    for name in ck.fact_fields:
        v = plain.values.get(name)
        if v is not None:
            assert _same(fast.fact[name], v if isinstance(v, (bool, str)) else _encode(v))
    for key in ck.derived:
        v = plain.values.get(key)
        if v is not None:
            assert _same(fast.fact[key], to_engine(v))
