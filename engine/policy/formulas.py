"""Exact evaluation of the expression tree in Python.

``evaluate_number`` computes formulas (the derived values the engine receives) in ``Decimal``.
``evaluate_condition`` is the plain-Python reference semantics of conditions — three-valued, with
``None`` for unknown — used by the differential test against durable-rules and by explanations.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.policy.expression_tree import (
    And,
    Arith,
    Compare,
    Const,
    Expr,
    FieldRef,
    In,
    Missing,
    Neg,
    Not,
    Or,
)
from engine.policy.numbers import CONTEXT, NotJudgeable, judged

Values = dict[str, Any]


def _num(v: Any) -> Decimal | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, Decimal):
        return v
    return None


def evaluate_number(e: Expr, values: Values) -> Decimal | None:
    """The exact value of a formula, or None if an input is missing or it has no value (x / 0)."""
    if isinstance(e, Const):
        return e.value if isinstance(e.value, Decimal) else None
    if isinstance(e, FieldRef):
        return _num(values.get(e.name))
    if isinstance(e, Neg):
        v = evaluate_number(e.operand, values)
        return None if v is None else -v
    if isinstance(e, Arith):
        a, b = evaluate_number(e.left, values), evaluate_number(e.right, values)
        if a is None or b is None:
            return None
        try:
            if e.op == "+":
                return CONTEXT.add(a, b)
            if e.op == "-":
                return CONTEXT.subtract(a, b)
            if e.op == "*":
                return CONTEXT.multiply(a, b)
            if b == 0:
                return None
            return CONTEXT.divide(a, b)
        except (decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero):
            return None
    raise TypeError(f"not a number expression: {e!r}")


_ARITH = {"+": CONTEXT.add, "-": CONTEXT.subtract, "*": CONTEXT.multiply}


def compile_number(e: Expr) -> Callable[[Values], Decimal | None]:
    """evaluate_number(e, values) as a function of values, built once for a formula used per record."""
    if isinstance(e, Const):
        const = e.value if isinstance(e.value, Decimal) else None
        return lambda values: const
    if isinstance(e, FieldRef):
        name = e.name

        def field_number(values: Values) -> Decimal | None:  # _num(values.get(name)), by exact type first
            v: Any = values.get(name)  # narrowed by exact type through `t`, which mypy does not follow
            t = type(v)
            if t is Decimal:
                return v
            if t is int:
                return Decimal(v)
            return None if v is None or t is bool else _num(v)

        return field_number
    if isinstance(e, Neg):
        operand = compile_number(e.operand)

        def negated(values: Values) -> Decimal | None:
            v = operand(values)
            return None if v is None else -v

        return negated
    if isinstance(e, Arith):
        left, right, op = compile_number(e.left), compile_number(e.right), e.op
        apply = _ARITH.get(op)

        def arith(values: Values) -> Decimal | None:
            a, b = left(values), right(values)
            if a is None or b is None:
                return None
            try:
                if apply is not None:
                    return apply(a, b)
                if b == 0:
                    return None
                return CONTEXT.divide(a, b)
            except (decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero):
                return None

        return arith
    return lambda values: evaluate_number(e, values)  # raises for a non-number, as evaluate_number does


def value_of(e: Expr, values: Values) -> Any:
    """Value of a comparison operand: a number (Decimal), text, bool; None when missing."""
    if isinstance(e, Const):
        return e.value
    if isinstance(e, FieldRef):
        v = values.get(e.name)
        if isinstance(v, int) and not isinstance(v, bool):
            return Decimal(v)
        if isinstance(v, dt.date):
            return None
        return v
    return evaluate_number(e, values)


def _cmp(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        a, b = judged(a), judged(b)
    elif type(a) is not type(b):
        # Types are checked at load; a mismatch here means bad data, never a silent match.
        raise TypeError(f"cannot compare {a!r} with {b!r}")
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def evaluate_condition(e: Expr, values: Values) -> bool | None:
    """Kleene three-valued logic: True, False, or None (unknown: a needed field is missing)."""
    if isinstance(e, Const):
        return bool(e.value)
    if isinstance(e, FieldRef):
        v = values.get(e.name)
        return None if v is None else v is True
    if isinstance(e, Missing):
        absent = values.get(e.field) is None
        return (not absent) if e.negated else absent
    if isinstance(e, Not):
        v = evaluate_condition(e.item, values)
        return None if v is None else not v
    if isinstance(e, And):
        result: bool | None = True
        for item in e.items:
            v = evaluate_condition(item, values)
            if v is False:
                return False
            if v is None:
                result = None
        return result
    if isinstance(e, Or):
        result = False
        for item in e.items:
            v = evaluate_condition(item, values)
            if v is True:
                return True
            if v is None:
                result = None
        return result
    if isinstance(e, Compare):
        a, b = value_of(e.left, values), value_of(e.right, values)
        if a is None or b is None:
            return None
        try:
            return _cmp(e.op, a, b)
        except NotJudgeable:
            return None
    if isinstance(e, In):
        a = value_of(e.operand, values)
        if a is None:
            return None
        if isinstance(a, Decimal):
            hit = any(isinstance(v, Decimal) and judged(a) == judged(v) for v in e.values)
        else:
            hit = a in e.values
        return (not hit) if e.negated else hit
    raise TypeError(f"not a condition: {e!r}")
