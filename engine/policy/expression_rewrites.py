"""Expressions the compiler writes from a check's own: the threshold with ``param`` substituted and
constant arithmetic folded, a formula read over the subject's figures of an earlier year, the soft
band around a line and the review condition of a segment.
"""

from __future__ import annotations

from decimal import Decimal

from engine.policy.check_schema import Check
from engine.policy.compiled import Choice
from engine.policy.expression_tree import PRIOR_SEP, And, Arith, Compare, Const, Expr, FieldRef, Neg, Or
from engine.policy.three_valued import _Compiler


def _substitute(e: Expr, name: str, value: Expr) -> Expr:
    if isinstance(e, FieldRef):
        return value if e.name == name else e
    if isinstance(e, Arith):
        return Arith(e.op, _substitute(e.left, name, value), _substitute(e.right, name, value))
    if isinstance(e, Neg):
        return Neg(_substitute(e.operand, name, value))
    return e


def _fold(e: Expr) -> Expr:
    """Fold constant arithmetic (200 * 1.5 -> 300) so constants stay constants."""
    from engine.policy.formulas import evaluate_number

    if isinstance(e, Arith):
        left, right = _fold(e.left), _fold(e.right)
        if isinstance(left, Const) and isinstance(right, Const):
            v = evaluate_number(Arith(e.op, left, right), {})
            if v is not None:
                return Const(v)
        return Arith(e.op, left, right)
    if isinstance(e, Neg):
        inner = _fold(e.operand)
        if isinstance(inner, Const) and isinstance(inner.value, Decimal):
            return Const(-inner.value)
        return Neg(inner)
    return e


def _prior_of(e: Expr, year: int) -> Expr:
    """The same formula over the subject's figures of `year` (every field read as prior(field, year))."""
    if isinstance(e, FieldRef):
        return e if PRIOR_SEP in e.name or e.name == "report_year" else FieldRef(f"{e.name}{PRIOR_SEP}{year}")
    if isinstance(e, Arith):
        return Arith(e.op, _prior_of(e.left, year), _prior_of(e.right, year))
    if isinstance(e, Neg):
        return Neg(_prior_of(e.operand, year))
    return e


def _choice(comp: _Compiler, primary: Expr, secondary: Expr) -> Expr:
    return FieldRef(comp.derived_key(Choice(primary, secondary), "_q"))


def _band(q: Expr, around: Expr | None, check: Check) -> Expr | None:
    """Within the soft band around `around`: around - band <= q <= around + band."""
    if around is None or check.soft_on is None:
        return None
    band = check.soft_on.band
    if band.endswith("%"):
        width: Expr = Arith("*", around, Const(Decimal(band[:-1]) / 100))
        if isinstance(around, Const) and isinstance(around.value, Decimal):
            width = Const(abs(around.value) * Decimal(band[:-1]) / 100)
    else:
        width = Const(Decimal(band))
    return And(
        (
            Compare(">=", q, _fold(Arith("-", around, width))),
            Compare("<=", q, _fold(Arith("+", around, width))),
        )
    )


def _review(disagree: Expr | None, band: Expr | None) -> Expr | None:
    parts = tuple(p for p in (disagree, band) if p is not None)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Or(parts)
