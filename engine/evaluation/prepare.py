"""Preparing a record for evaluation: its values, the derived values in exact decimal, and its fact.

Every arithmetic sub-expression of a check (a ratio, a difference of two figures, a trajectory, a
cumulative sum) is computed here, in Python, once per record; durable-rules only compares fields
with constants (docs/engine.md). ``Prepared`` is what the rest of the evaluation reads of a record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.evaluation.context import AggregateTable, History
from engine.evaluation.scaled import Scaled, scaled_difference, scaled_names
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
from engine.policy.expression_tree import PRIOR_SEP, Expr, fields_of
from engine.policy.formulas import compile_number, evaluate_number
from engine.policy.numbers import CONTEXT, NotJudgeable, judged, to_engine
from engine.policy.policy import Policy
from engine.records.model import Record


@dataclass
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
        # The differences computed in millionths where that is exact (scaled.py), each with the
        # fields it reads; the other derived values are computed in Decimal as before.
        # Every derived key in order, an aggregate's with no spec (its count is set before).
        formulas = {key: formula for key, _, formula in self.derived}
        self.steps: list[tuple[str, Any, Callable[[dict[str, Any]], Decimal | None] | None]] = [
            (key, None if isinstance(spec, AggregateRef) else spec, formulas.get(key))
            for key, spec in ck.derived.items()
        ]
        self.scaled: dict[str, Scaled] = {}
        reads: set[str] = set()
        for key, spec in ck.derived.items():
            if isinstance(spec, Difference):
                run = scaled_difference(spec.left, spec.right)
                if run is not None:
                    self.scaled[key] = run
                    reads |= scaled_names(spec.left) | scaled_names(spec.right)
        # The record's own fields (priors, aggregates among them) the fact holds or the scaled
        # differences read, each with whether the fact holds it, in the fact's order.
        computed = {key for key, _, _ in self.derived}
        fact_fields = set(ck.fact_fields)
        self.fields = [(name, True) for name in ck.fact_fields] + [
            (name, False) for name in sorted(reads - computed - fact_fields)
        ]


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
