"""Exact scaled integers: the derived values a record's fact needs, in millionths, where that is exact.

A number with at most 6 decimal places is an integer count of millionths (``1234.56`` is
``1_234_560_000``); sums, differences, products and quotients of such counts are exact integer
arithmetic as long as the result again has at most 6 decimal places. ``compile_scaled`` turns a
formula into a function of those counts that gives the formula's value in millionths, ``None`` where
the Decimal formula (formulas.py) has no value (a missing input, x / 0), or ``INEXACT`` where the
value is not a whole number of millionths or leaves the bound below: the caller then computes it in
``Decimal`` as before. So the scaled path never decides a value the Decimal path would decide
otherwise; it only skips the decimal arithmetic where the result is known to be the same.

The bound keeps every count under 27 digits: within it the Decimal path is exact too (60 digits for
formulas, the default context's 28 for a difference of two judged figures), so both give one value.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.policy.compiled import AggregateRef
from engine.policy.expression_tree import Arith, Const, Expr, FieldRef, Neg

MILLION = 1_000_000
BOUND = 10**26  # |millionths| below this: at most 26 digits, exact in every Decimal path used here


class _Inexact:
    """A value that is not a whole number of millionths within the bound (or not read exactly)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INEXACT"


INEXACT: Any = _Inexact()
Scaled = Callable[[dict[str, Any]], Any]  # millionths -> int | None | INEXACT


def millionths(v: Any) -> Any:
    """A record or derived value as formulas read it (formulas._num), in millionths: an int; None for
    what formulas treat as no number (missing, yes/no, text, dates); INEXACT otherwise."""
    t = type(v)
    if t is Decimal:
        try:
            n, d = v.as_integer_ratio()
        except (ValueError, OverflowError):  # NaN, infinity
            return INEXACT
        if MILLION % d:
            return INEXACT
        m = n * (MILLION // d)
        return m if -BOUND < m < BOUND else INEXACT
    if t is int:
        m = v * MILLION
        return m if -BOUND < m < BOUND else INEXACT
    if v is None or t is bool or t is str:
        return None
    if isinstance(v, (int, Decimal)):  # a subclass: not worth a fast path
        return INEXACT
    return None


def compile_scaled(e: Expr) -> Scaled | None:
    """compile_number(e) (formulas.py) on millionths: a function of the millionths of the fields it
    reads; None if the formula has a node this path does not know (then it is computed in Decimal)."""
    if isinstance(e, AggregateRef):  # prepare._compiled_figure: no figure
        return lambda ints: None
    if isinstance(e, Const):
        const = millionths(e.value) if isinstance(e.value, Decimal) else None
        return lambda ints: const
    if isinstance(e, FieldRef):
        name = e.name
        return lambda ints: ints.get(name)
    if isinstance(e, Neg):
        operand = compile_scaled(e.operand)
        if operand is None:
            return None

        def negated(ints: dict[str, Any]) -> Any:
            v = operand(ints)
            return v if v is None or v is INEXACT else -v

        return negated
    if isinstance(e, Arith) and e.op in ("+", "-", "*", "/"):
        left, right = compile_scaled(e.left), compile_scaled(e.right)
        if left is None or right is None:
            return None
        return _ARITH[e.op](left, right)
    return None


def _add(left: Scaled, right: Scaled) -> Scaled:
    def add(ints: dict[str, Any]) -> Any:
        a, b = left(ints), right(ints)
        if a is None or b is None:
            return None
        if a is INEXACT or b is INEXACT:
            return INEXACT
        m = a + b
        return m if -BOUND < m < BOUND else INEXACT

    return add


def _subtract(left: Scaled, right: Scaled) -> Scaled:
    def subtract(ints: dict[str, Any]) -> Any:
        a, b = left(ints), right(ints)
        if a is None or b is None:
            return None
        if a is INEXACT or b is INEXACT:
            return INEXACT
        m = a - b
        return m if -BOUND < m < BOUND else INEXACT

    return subtract


def _multiply(left: Scaled, right: Scaled) -> Scaled:
    def multiply(ints: dict[str, Any]) -> Any:
        a, b = left(ints), right(ints)
        if a is None or b is None:
            return None
        if a is INEXACT or b is INEXACT:
            return INEXACT
        m, rest = divmod(a * b, MILLION)
        return m if not rest and -BOUND < m < BOUND else INEXACT

    return multiply


def _divide(left: Scaled, right: Scaled) -> Scaled:
    def divide(ints: dict[str, Any]) -> Any:
        a, b = left(ints), right(ints)
        if a is None or b is None:
            return None
        if a is INEXACT or b is INEXACT:
            return INEXACT
        if b == 0:  # the Decimal formula has no value either
            return None
        m, rest = divmod(a * MILLION, b)
        return m if not rest and -BOUND < m < BOUND else INEXACT

    return divide


_ARITH: dict[str, Callable[[Scaled, Scaled], Scaled]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
}


def scaled_difference(left: Expr, right: Expr) -> Scaled | None:
    """Difference(left, right) (judged(left) - judged(right)) in millionths: figures that are whole
    millionths are their own judged values, so the difference is the integers'. None if a side is
    a formula this path does not know.

    A zero is left to the Decimal path (INEXACT): it may be Decimal's -0 (a figure of -0, 0 x -5),
    which the integers do not tell from 0 but the value shown does."""
    lhs, rhs = compile_scaled(left), compile_scaled(right)
    if lhs is None or rhs is None:
        return None

    def difference(ints: dict[str, Any]) -> Any:
        a, b = lhs(ints), rhs(ints)
        if a is None or b is None:
            return None
        if a is INEXACT or b is INEXACT:
            return INEXACT
        m = a - b  # each under the bound: at most 27 digits
        return m if m else INEXACT

    return difference


def multiple_of(left: Expr, right: Expr) -> tuple[str, str, int, int] | None:
    """The usual shape of a difference, a figure against a multiple of another (quantity >=
    land_mu * 200), as (x, y, how, c) for x - y * c or x - y / c, computed inline by prepare.py:
    how 0: y * c with c a whole number; 1: y * c with c in millionths; 2: y / c with c in millionths
    (not 0). None for any other shape (then scaled_difference)."""
    if not (
        isinstance(left, FieldRef)
        and isinstance(right, Arith)
        and right.op in ("*", "/")
        and isinstance(right.left, FieldRef)
        and isinstance(right.right, Const)
        and isinstance(right.right.value, Decimal)
    ):
        return None
    c = millionths(right.right.value)
    if type(c) is not int or (right.op == "/" and c == 0):
        return None
    if right.op == "/":
        return (left.name, right.left.name, 2, c)
    return (
        (left.name, right.left.name, 0, c // MILLION)
        if c % MILLION == 0
        else (left.name, right.left.name, 1, c)
    )


def scaled_names(e: Expr) -> set[str]:
    """The fields a scaled formula reads (the keys its millionths must hold)."""
    if isinstance(e, FieldRef):
        return {e.name}
    if isinstance(e, Neg):
        return scaled_names(e.operand)
    if isinstance(e, Arith):
        return scaled_names(e.left) | scaled_names(e.right)
    return set()
