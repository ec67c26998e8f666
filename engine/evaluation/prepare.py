"""Preparing a record for evaluation: its values, the derived values in exact decimal, and its fact.

Every arithmetic sub-expression of a check (a ratio, a difference of two figures, a trajectory, a
cumulative sum) is computed here, in Python, once per record; durable-rules only compares fields
with constants (docs/engine.md). ``Prepared`` is what the rest of the evaluation reads of a record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, getcontext
from typing import Any

from engine.evaluation.context import AggregateTable, History
from engine.evaluation.scaled import (
    BOUND,
    INEXACT,
    MILLION,
    Scaled,
    millionths,
    multiple_of,
    scaled_difference,
    scaled_names,
)
from engine.policy.compiler import (
    AggregateRef,
    Choice,
    CompiledKind,
    Cumulative,
    Difference,
    Disagreement,
    Segment,
    Trajectory,
)
from engine.policy.expression_tree import PRIOR_SEP, Expr, FieldRef, fields_of
from engine.policy.formulas import compile_number, evaluate_number
from engine.policy.numbers import CONTEXT, NotJudgeable, judged, to_engine
from engine.policy.policy import Policy
from engine.records.model import Record


@dataclass(slots=True)  # no instance dict: one container less a record, and a faster __init__
class Prepared:
    record: Record
    date: dt.date
    values: dict[str, Any]  # record values + derived values (Decimal), by key
    in_force: dict[int, Segment]  # check index -> the segment in force
    fact: dict[str, Any]
    cum_missing: dict[int, list[int]] = field(default_factory=dict)  # check index -> years without data
    # derived key -> its exact value as computed, kept even where values[key] was set to None
    # because it is beyond the judging range (a finding reports the formula's exact value)
    exact: dict[str, Any] = field(default_factory=dict)
    history: History | None = None
    aggregates: AggregateTable | None = None


_Prepared = Prepared  # the name the tests and older callers use
_NONE_MISSING: dict[
    int, list[int]
] = {}  # shared by the records of kinds without cumulative checks (never written)
_MICRO = Decimal("1E-6")


class _KindPlan:
    """Per compiled kind, once: its derived values in order (formulas compiled), the prior-year
    figures and aggregates it reads, and its cumulative checks."""

    def __init__(self, ck: CompiledKind, policy: Policy):
        special = (Cumulative, Trajectory, Choice, Disagreement, AggregateRef, Difference)
        self.derived: list[tuple[str, Any, Callable[[dict[str, Any]], Decimal | None] | None]] = [
            (key, spec, _compile_special(spec) if isinstance(spec, special) else compile_number(spec))
            for key, spec in ck.derived.items()
            if not isinstance(spec, AggregateRef)
        ]
        names: set[str] = set()
        for spec in ck.derived.values():
            names |= _names_in(spec)
        for cc in ck.checks:
            for seg in cc.segments:
                for conj in seg.rules.values():
                    for lit in conj:
                        names |= (
                            {k for k in lit[2:4] if isinstance(k, str)}
                            if lit[0] in ("cmp", "ref")
                            else {lit[1]}
                        )
        self.priors = sorted(n for n in names if PRIOR_SEP in n)
        all_aggregates = policy.aggregates()
        self.aggregates = [
            (key, all_aggregates[spec.id])
            for key, spec in ck.derived.items()
            if isinstance(spec, AggregateRef)
        ]
        self.cumulative = [cc.index for cc in ck.checks if cc.check.nature == "cumulative"]
        # Every derived key in order, an aggregate's with no spec (its count is set before); a
        # difference with its scaled computation: inline for the usual shape (scaled.multiple_of),
        # else a function of millionths (scaled.scaled_difference); the rest in Decimal.
        formulas = {key: formula for key, _, formula in self.derived}
        self.steps: list[tuple[str, Any, Any, Scaled | None, tuple[str, str, int, int] | None]] = []
        self.plain_steps: list[tuple[str, Any, Any, Scaled | None, tuple[str, str, int, int] | None]] = []
        reads: set[str] = set()
        for key, spec in ck.derived.items():
            step = (key, None if isinstance(spec, AggregateRef) else spec, formulas.get(key))
            self.plain_steps.append((*step, None, None))
            multiple = run = None
            if isinstance(spec, Difference):
                multiple = multiple_of(spec.left, spec.right)
                run = scaled_difference(spec.left, spec.right) if multiple is None else None
                if multiple is not None or run is not None:
                    reads |= scaled_names(spec.left) | scaled_names(spec.right)
            self.steps.append((*step, run, multiple))
        # The record's own fields (priors, aggregates among them) the fact holds or the scaled
        # differences read, each with whether the fact holds it, in the fact's order.
        computed = {key for key, _, _ in self.derived}
        fact_fields = set(ck.fact_fields)
        self.fields = [(name, True) for name in ck.fact_fields] + [
            (name, False) for name in sorted(reads - computed - fact_fields)
        ]


def prepare(
    kp: _KindPlan,
    ck: CompiledKind,
    rec: Record,
    d: dt.date,
    i: int,
    history: History,
    review_date: dt.date,
    aggregates: AggregateTable,
    in_force: dict[int, Segment],
) -> Prepared:
    """A record prepared for evaluation by the checks of `in_force` (its versions on date `d`): its
    values with the derived values, each derived value's exact value, and its fact."""
    values: dict[str, Any] = dict(rec.values)
    year = values.get("report_year")
    for key in kp.priors:
        values[key] = history.prior_value(rec, key)
    for key, agg in kp.aggregates:
        values[key] = (
            aggregates.value(
                agg.id, year, values.get("county") if agg.by_county else None, agg.sum is not None
            )
            if isinstance(year, int)
            else None
        )
    fact: dict[str, Any] = {"_k": ck.kind, "_i": i, "_d": float(d.toordinal())}
    closed = None
    if isinstance(year, int):
        # Whether the year reported on has ended by the day of review: only then is a target final.
        closed = fact["_closed"] = (
            review_date.year > year if 0 < year < 10_000 else review_date > dt.date(year, 12, 31)
        )
    # The record's numbers in millionths where they are whole millionths (scaled.py): for the fact,
    # and for the differences computed in exact integers; `ints` mirrors `values`.
    ints: dict[str, Any] = {}
    for name, in_fact in kp.fields:
        v = values.get(name)
        if v is None:
            continue
        t = type(v)
        if t is Decimal:
            try:
                n, den = v.as_integer_ratio()
            except (ValueError, OverflowError):  # NaN, infinity: to_engine says why
                n, den = 0, 3  # not whole millionths
            if not MILLION % den and -BOUND < (m := n * (MILLION // den)) < BOUND:
                ints[name] = m
                if in_fact:
                    fact[name] = float(m)
            else:
                ints[name] = INEXACT
                if in_fact:
                    fact[name] = to_engine(v)
        elif t is bool or t is str:
            if in_fact:
                fact[name] = v
        elif t is int:
            m = ints[name] = v * MILLION if -BOUND < v * MILLION < BOUND else INEXACT  # millionths(v)
            if in_fact:
                fact[name] = float(m) if m is not INEXACT else _encode(v)
        else:
            ints[name] = millionths(v)
            if in_fact:
                fact[name] = _encode(v)
    # Derived values in the fact's order; a value not whole millionths is encoded after them all
    # (`later`), as a value beyond the judging range is dropped only once every formula has read it.
    # The scaled path needs the default context's 28 digits (judged(a) - judged(b) is computed in it).
    steps = kp.steps if getcontext().prec >= 28 else kp.plain_steps
    exact: dict[str, Any] = {}
    later: list[tuple[str, Any]] | None = None  # made only for a record that has one
    for key, spec, formula, run, multiple in steps:
        if multiple is not None:  # x - y * c or x - y / c (scaled.multiple_of), inline
            x, y, how, c = multiple
            a, b = ints.get(x), ints.get(y)
            if a is None or b is None:  # a figure missing: no value, as in Decimal
                ints[key] = values[key] = exact[key] = None
                continue
            if a is not INEXACT and b is not INEXACT:
                if how == 0:
                    q, rest = b * c, 0
                elif how == 1:
                    q, rest = divmod(b * c, MILLION)
                else:
                    q, rest = divmod(b * MILLION, c)
                # a zero difference may be Decimal's -0, shown as such: left to the Decimal path
                if not rest and -BOUND < q < BOUND and q != a:
                    m = ints[key] = a - q
                    # Decimal(m) * 1E-6 is judged(a) - judged(b) itself, exponent -6 included
                    values[key] = exact[key] = Decimal(m) * _MICRO
                    fact[key] = float(m)
                    continue
        elif run is not None:
            m = run(ints)
            if m is not INEXACT:
                ints[key] = m
                if m is None:
                    values[key] = exact[key] = None
                else:
                    values[key] = exact[key] = Decimal(m) * _MICRO
                    fact[key] = float(m)
                continue
        if spec is None:  # an aggregate's count, set above
            v = values.get(key)
        else:
            v = values[key] = exact[key] = (
                formula(values) if formula is not None else _derive(spec, values, rec, history)
            )
        if v is not None:
            m = ints[key] = millionths(v)
            if type(m) is int:  # whole millionths: what to_engine gives
                fact[key] = float(m)
            else:
                fact[key] = None  # its place in the fact, until encoded below
                if later is None:
                    later = []
                later.append((key, v))
    if later is not None:
        for key, v in later:
            try:
                fact[key] = to_engine(v)
            except NotJudgeable:
                values[key] = None
                del fact[key]
    if closed is not None:
        values["_closed"] = closed
    cum_missing: dict[int, list[int]] = {} if kp.cumulative else _NONE_MISSING
    for ci in kp.cumulative:
        if ci in in_force:
            left = in_force[ci].final.left
            spec = ck.derived.get(left.name) if isinstance(left, FieldRef) else None
            if isinstance(spec, Cumulative):
                cum_missing[ci] = history.total(rec, spec)[1]
    return Prepared(rec, d, values, in_force, fact, cum_missing, exact, history, aggregates)


def _compiled_figure(e: Expr) -> Callable[[dict[str, Any]], Decimal | None]:
    """_figure(e, values) as a function of values."""
    if isinstance(e, AggregateRef):
        return lambda values: None
    return compile_number(e)


def _compile_special(spec: Any) -> Callable[[dict[str, Any]], Decimal | None] | None:
    """_derive(spec, values, ...) as a function of values, for the specs that read only the record's
    values (a difference of two figures, a choice between two); None for the others."""
    if isinstance(spec, Difference):
        left, right = _compiled_figure(spec.left), _compiled_figure(spec.right)

        def difference(values: dict[str, Any]) -> Decimal | None:
            a, b = left(values), right(values)
            if a is None or b is None:
                return None
            try:
                return judged(a) - judged(b)
            except NotJudgeable:
                return None

        return difference
    if isinstance(spec, Choice):
        primary, secondary = _compiled_figure(spec.primary), _compiled_figure(spec.secondary)

        def choice(values: dict[str, Any]) -> Decimal | None:
            v = primary(values)
            return v if v is not None else secondary(values)

        return choice
    return None


def _names_in(spec: Any) -> set[str]:
    """Field names a derived spec reads (prior-year references among them)."""
    if isinstance(spec, Trajectory):
        return _names_in(spec.base) | _names_in(spec.target)
    if isinstance(spec, (Choice, Disagreement)):
        return _names_in(spec.primary) | _names_in(spec.secondary)
    if isinstance(spec, Difference):
        return fields_of(spec.left) | fields_of(spec.right)
    if isinstance(spec, (Cumulative, AggregateRef)):
        return set()
    return fields_of(spec)


_INT_BOUND = 10**40


def _encode(v: Any) -> Any:
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, int):
        if -_INT_BOUND < v < _INT_BOUND:  # v millionths, exactly (what to_engine(Decimal(v)) gives)
            return float(v * 1_000_000)
        return to_engine(Decimal(v))
    if isinstance(v, Decimal):
        return to_engine(v)
    return None  # dates are never tested by literals


def _derive(spec: Any, values: dict[str, Any], rec: Record, history: History) -> Decimal | None:
    if isinstance(spec, Cumulative):
        return history.total(rec, spec)[0]
    if isinstance(spec, Trajectory):
        return trajectory_value(spec, values)
    if isinstance(spec, Choice):
        v = _figure(spec.primary, values)
        return v if v is not None else _figure(spec.secondary, values)
    if isinstance(spec, Disagreement):
        return disagreement(spec, values)
    if isinstance(spec, Difference):
        a, b = _figure(spec.left, values), _figure(spec.right, values)
        if a is None or b is None:
            return None
        try:
            return judged(a) - judged(b)
        except NotJudgeable:
            return None
    return evaluate_number(spec, values)


def _figure(e: Expr, values: dict[str, Any]) -> Decimal | None:
    if isinstance(e, AggregateRef):
        return None
    return evaluate_number(e, values)


def disagreement(spec: Disagreement, values: dict[str, Any]) -> Decimal:
    """1 if both figures are known and differ beyond the rounding of the one written by hand, else 0.

    A figure written as 4.5 stands for anything from 4.45 to 4.55: half a unit of its last written
    place. Both sides are compared at judging precision.
    """
    a, b = _figure(spec.primary, values), _figure(spec.secondary, values)
    if a is None or b is None:
        return Decimal(0)
    written = a if spec.written == "primary" else b
    exponent = written.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    tolerance = Decimal(5).scaleb(-places - 1)
    try:
        return Decimal(1) if abs(judged(a) - judged(b)) > tolerance else Decimal(0)
    except NotJudgeable:
        return Decimal(1)


def trajectory_value(t: Trajectory, values: dict[str, Any]) -> Decimal | None:
    """Straight line from the baseline (value, year) to the target at the due year."""
    base = evaluate_number(t.base, values)
    base_year = evaluate_number(t.base_year, values)
    target = evaluate_number(t.target, values)
    year = values.get("report_year")
    if base is None or base_year is None or target is None or not isinstance(year, int):
        return None
    span = Decimal(t.due_year) - base_year
    if span <= 0:
        return None
    frac = (Decimal(year) - base_year) / span
    frac = min(max(frac, Decimal(0)), Decimal(1))
    return CONTEXT.add(base, CONTEXT.multiply(CONTEXT.subtract(target, base), frac))
