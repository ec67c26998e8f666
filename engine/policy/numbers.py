"""How numbers are judged: exact decimal, to a millionth of the unit.

durable-rules compares C doubles, so ``21151.16 >= 0.8 * 26438.95`` is false there
(``0.8 * 26438.95`` is ``21151.160000000003``). We never let the engine do arithmetic. The rule:

1. every formula (``总投资 / 用地面积``, ``0.8 * base``) is computed in Python's ``Decimal`` with
   60 significant digits;
2. the result and every threshold are rounded half-even to 6 decimal places of their unit — the
   *judging precision* — and sent to durable-rules as the integer count of millionths, carried in a
   double. Integers below 2**53 are exact in a double, so durable's comparison of two such values is
   exactly the comparison of the two rounded decimals.

A value exactly on a threshold is therefore on it (21151.16 vs 0.8 × 26438.95 is equal), and a value
that differs from the threshold only beyond the sixth decimal place is judged equal to it.
Magnitudes are bounded by the record models (|x| ≤ 9e9 for inputs); a derived value beyond 2**53
millionths can only be compared with thresholds far below it, where ordering is still exact.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_EVEN, Decimal

PLACES = 6
_QUANTUM = Decimal(1).scaleb(-PLACES)
_SCALE = Decimal(10) ** PLACES
CONTEXT = decimal.Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    Emax=10_000,
    Emin=-10_000,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


class NotJudgeable(ArithmeticError):
    """A formula has no value (division by zero, out of range)."""


def judged(x: Decimal) -> Decimal:
    """The value at judging precision."""
    try:
        return x.quantize(_QUANTUM, context=CONTEXT)
    except decimal.InvalidOperation as exc:
        raise NotJudgeable(f"value {x} is out of the judgeable range") from exc


_MILLION = 10**PLACES
_EXACT_BOUND = 10**50  # far inside CONTEXT's 60 digits: judged(x) is x itself below it


def to_engine(x: Decimal) -> float:
    """What durable-rules receives for a number: millionths as an integral double.

    A value with at most 6 decimal places (nearly every one: record figures, most formulas) is
    already at judging precision; its millionths are read off its exact ratio n/d without decimal
    arithmetic. Anything else is rounded half-even by ``judged``, as before.
    """
    try:
        n, d = x.as_integer_ratio()
    except (ValueError, OverflowError):  # NaN, infinity: judged() says why
        n, d = 0, 0
    if d and _MILLION % d == 0:
        m = n * (_MILLION // d)
        if -_EXACT_BOUND < m < _EXACT_BOUND:
            return float(m)
    return float(int(judged(x) * _SCALE))


def display(x: Decimal | None) -> str:
    """A judged value as people write it: 200, 199.99, 66.666667."""
    if x is None:
        return ""
    v = judged(x).normalize(context=CONTEXT)
    s = format(v, "f")
    return s
