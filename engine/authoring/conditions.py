"""What a rule's expressions can be: whether a condition can ever be true, enum values no record can
have, and the unit a computed quantity yields."""

from __future__ import annotations

from typing import Any

from engine.policy.compiler import _Compiler
from engine.policy.expression_tree import Arith, Compare, Const, Expr, FieldRef, In, children
from engine.records.catalog import Catalog


def _satisfiable(conj: frozenset, catalog: Catalog, kind: str) -> bool:
    """Can some record make every literal of this conjunction true? (fields are independent)."""
    present = {lit[1] for lit in conj if lit[0] == "ex"}
    absent = {lit[1] for lit in conj if lit[0] == "nex"}
    if present & absent:
        return False
    by_key: dict[str, list[tuple[str, Any]]] = {}
    for lit in conj:
        if lit[0] == "cmp":
            by_key.setdefault(lit[2], []).append((lit[1], lit[3]))
    for key, tests in by_key.items():
        spec = catalog.field(kind, key) if not key.startswith("_") else None
        eq = {v for op, v in tests if op == "=="}
        ne = {v for op, v in tests if op == "!="}
        if len(eq) > 1 or eq & ne:
            return False
        if spec is not None and spec.type == "enum":
            allowed = set(spec.choices) - ne
            if eq and not eq <= set(spec.choices) or not allowed:
                return False
        if spec is not None and spec.type == "boolean" and {True, False} <= (eq | ne):
            return False
        nums = [(op, v) for op, v in tests if isinstance(v, (int, float)) and not isinstance(v, bool)]
        lo, lo_strict, hi, hi_strict = None, False, None, False
        for op, v in nums:
            if op in (">", ">=") and (lo is None or v > lo or (v == lo and op == ">")):
                lo, lo_strict = v, op == ">"
            if op in ("<", "<=") and (hi is None or v < hi or (v == hi and op == "<")):
                hi, hi_strict = v, op == "<"
        for v in eq:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if (lo is not None and (v < lo or (v == lo and lo_strict))) or (
                    hi is not None and (v > hi or (v == hi and hi_strict))
                ):
                    return False
        if (
            lo is not None
            and hi is not None
            and (lo > hi or (lo == hi and (lo_strict or hi_strict or lo in ne)))
        ):
            return False
    return True


def _can_be_true(comp: _Compiler, exprs: list[Expr | None], catalog: Catalog, kind: str) -> bool:
    dnf: list[frozenset] = [frozenset()]
    for e in exprs:
        if e is None:
            continue
        dnf = [a | b for a in dnf for b in comp.T(e)]
    return any(_satisfiable(c, catalog, kind) for c in dnf)


def _enum_values(e: Expr, catalog: Catalog, kind: str) -> list[tuple[str, str, list[str]]]:
    """(field, value, choices) for every enum comparison with a value not among its choices."""
    out = []
    if isinstance(e, Compare):
        for a, b in ((e.left, e.right), (e.right, e.left)):
            if isinstance(a, FieldRef) and isinstance(b, Const) and isinstance(b.value, str):
                spec = catalog.field(kind, a.name)
                if spec is not None and spec.type == "enum" and b.value not in spec.choices:
                    out.append((a.name, b.value, spec.choices))
    if isinstance(e, In) and isinstance(e.operand, FieldRef):
        spec = catalog.field(kind, e.operand.name)
        if spec is not None and spec.type == "enum":
            out += [(e.operand.name, str(v), spec.choices) for v in e.values if v not in spec.choices]
    for c in children(e):
        out += _enum_values(c, catalog, kind)
    return out


# --- units of a computed quantity -----------------------------------------------------------------


def _unit_of(e: Expr, catalog: Catalog, kind: str) -> str | None:
    """The unit a quantity expression yields, when it can be told (fields, + - and one division)."""
    if isinstance(e, FieldRef):
        spec = catalog.field(kind, e.name)
        return spec.unit if spec else None
    if isinstance(e, Arith):
        lu, ru = _unit_of(e.left, catalog, kind), _unit_of(e.right, catalog, kind)
        if e.op in "+-" and lu and ru and lu == ru:
            return lu
        if e.op == "/" and lu and ru and "/" not in lu + ru and lu != ru:
            return f"{lu}/{ru}"
    return None
