"""The tree of a rule expression: the typed nodes the parser builds, and walks over them.

``engine/policy/expressions.py`` parses rule text into these nodes; ``expression_text.py`` renders
them back to readable text. A field reference ``x@2023`` stands for ``prior(x, 2023)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Union


@dataclass(frozen=True)
class FieldRef:
    name: str


@dataclass(frozen=True)
class Const:
    value: Decimal | bool | str


@dataclass(frozen=True)
class Arith:
    op: str  # + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class Compare:
    op: str  # == != < <= > >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class In:
    operand: Expr
    values: tuple[Decimal | str, ...]
    negated: bool


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


@dataclass(frozen=True)
class Missing:
    field: str
    negated: bool  # present(x)


Expr = Union[FieldRef, Const, Arith, Neg, Compare, In, And, Or, Not, Missing]  # noqa: UP007

# prior(x, 2023): the subject's own value of field x in its report of 2023 (from the batch or the
# store), written as the field reference "x@2023"; the evaluator supplies it, a record never does.
PRIOR_SEP = "@"


def prior_parts(name: str) -> tuple[str, int] | None:
    """'rate@2023' -> ('rate', 2023); a plain field name -> None."""
    if PRIOR_SEP not in name:
        return None
    field, year = name.rsplit(PRIOR_SEP, 1)
    return field, int(year)


def fields_of(expr: Expr) -> set[str]:
    if isinstance(expr, FieldRef):
        return {expr.name}
    if isinstance(expr, Missing):
        return {expr.field}
    out: set[str] = set()
    for child in children(expr):
        out |= fields_of(child)
    return out


def children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, Arith):
        return (expr.left, expr.right)
    if isinstance(expr, Compare):
        return (expr.left, expr.right)
    if isinstance(expr, Neg):
        return (expr.operand,)
    if isinstance(expr, In):
        return (expr.operand,)
    if isinstance(expr, (And, Or)):
        return expr.items
    if isinstance(expr, Not):
        return (expr.item,)
    return ()
