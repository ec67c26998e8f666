"""Conditions in three-valued logic as lists of mutually exclusive conjunctions of literal tests,
and those conjunctions as durable-rules rule JSON (see compiler.py and docs/engine.md)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from engine.policy.compiled import _DURABLE_OP, _FLIP, _NEG, Conj, Difference, Dnf, Literal_, Segment
from engine.policy.expression_tree import PRIOR_SEP, And, Compare, Const, Expr, FieldRef, In, Missing, Not, Or
from engine.policy.expressions import ExpressionError
from engine.policy.numbers import to_engine
from engine.policy.schema import Aggregate
from engine.records.catalog import Catalog


class _Compiler:
    def __init__(self, kind: str, catalog: Catalog, aggregates: dict[str, Aggregate] | None = None):
        self.kind = kind
        self.catalog = catalog
        self.aggregates = aggregates or {}
        self.derived: dict[str, Any] = {}
        self._derived_keys: dict[Any, str] = {}

    def derived_key(self, expr: Any, prefix: str = "_x") -> str:
        if expr not in self._derived_keys:
            key = f"{prefix}{len(self._derived_keys)}"
            self._derived_keys[expr] = key
            self.derived[key] = expr
        return self._derived_keys[expr]

    def operand_key(self, expr: Expr) -> str:
        if isinstance(expr, FieldRef) and PRIOR_SEP not in expr.name:
            return expr.name
        return self.derived_key(expr, "_p" if isinstance(expr, FieldRef) else "_x")

    def type_of_operand(self, e: Expr) -> str:
        """'number' for arithmetic, derived figures and number fields; else the field's type."""
        if isinstance(e, FieldRef) and not e.name.startswith("_"):
            name = e.name.split(PRIOR_SEP, 1)[0]
            f = self.catalog.field(self.kind, name)
            if f is None:
                return "number"
            return "number" if f.type in ("number", "integer") else f.type
        return "number"

    def encode(self, value: Decimal | bool | str) -> Any:
        if isinstance(value, bool) or isinstance(value, str):
            return value
        return to_engine(value)

    # Each returns an exclusive DNF.
    def T(self, e: Expr) -> Dnf:
        return self._tfu(e)[0]

    def _tfu(self, e: Expr) -> tuple[Dnf, Dnf, Dnf]:
        if isinstance(e, Const):
            if not isinstance(e.value, bool):
                raise ExpressionError(f"constant {e.value!r} is not a condition")
            return ([Conj()], [], []) if e.value else ([], [Conj()], [])
        if isinstance(e, FieldRef):  # a boolean field used as a condition
            return self._tfu(Compare("==", e, Const(True)))
        if isinstance(e, Missing):
            t, f = [Conj({("nex", e.field)})], [Conj({("ex", e.field)})]
            return (f, t, []) if e.negated else (t, f, [])
        if isinstance(e, Not):
            t, f, u = self._tfu(e.item)
            return f, t, u
        if isinstance(e, And):
            t, f, u = self._tfu(e.items[0])
            for item in e.items[1:]:
                bt, bf, bu = self._tfu(item)
                t, f, u = (
                    _prod(t, bt),
                    f + _prod(t, bf) + _prod(u, bf),
                    _prod(t, bu) + _prod(u, bt) + _prod(u, bu),
                )
            return t, f, u
        if isinstance(e, Or):
            t, f, u = self._tfu(e.items[0])
            for item in e.items[1:]:
                bt, bf, bu = self._tfu(item)
                t, f, u = (
                    t + _prod(f, bt) + _prod(u, bt),
                    _prod(f, bf),
                    _prod(f, bu) + _prod(u, bf) + _prod(u, bu),
                )
            return t, f, u
        if isinstance(e, Compare):
            return self._compare(e)
        if isinstance(e, In):
            key = self.operand_key(e.operand)
            ex = ("ex", key)
            eqs = [Conj({ex, ("cmp", "==", key, self.encode(v))}) for v in e.values]
            none = Conj({ex} | {("cmp", "!=", key, self.encode(v)) for v in e.values})
            u = self._unknown([key])
            return ([none], eqs, u) if e.negated else (eqs, [none], u)
        raise ExpressionError(f"not a condition: {e!r}")

    def _unknown(self, keys: list[str]) -> Dnf:
        """Some field missing, as exclusive branches: k0 missing; k0 present and k1 missing; ..."""
        out = []
        for i, k in enumerate(keys):
            out.append(Conj({("ex", p) for p in keys[:i]} | {("nex", k)}))
        return out

    def _compare(self, e: Compare) -> tuple[Dnf, Dnf, Dnf]:
        left, right, op = e.left, e.right, e.op
        if isinstance(left, Const) and isinstance(right, Const):
            truth = _const_compare(op, left.value, right.value)
            return self._tfu(Const(truth))
        if isinstance(left, Const):
            left, right, op = right, left, _FLIP[op]
        lkey = self.operand_key(left)
        keys = [lkey]
        if isinstance(right, Const):
            pos: Literal_ = ("cmp", op, lkey, self.encode(right.value))
            neg: Literal_ = ("cmp", _NEG[op], lkey, self.encode(right.value))
        elif self.type_of_operand(left) == "number":
            # a op b  <=>  judged(a) - judged(b) op 0, computed exactly by the evaluator
            keys = [self.derived_key(Difference(left, right), "_d")]
            pos, neg = ("cmp", op, keys[0], 0.0), ("cmp", _NEG[op], keys[0], 0.0)
        else:
            rkey = self.operand_key(right)
            keys.append(rkey)
            pos, neg = ("ref", op, lkey, rkey), ("ref", _NEG[op], lkey, rkey)
        keys = sorted(set(keys))
        ex = {("ex", k) for k in keys}
        return [Conj(ex | {pos})], [Conj(ex | {neg})], self._unknown(keys)


def _const_compare(op: str, a: Any, b: Any) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _consistent(c: Conj) -> bool:
    present = {lit[1] for lit in c if lit[0] == "ex"}
    absent = {lit[1] for lit in c if lit[0] == "nex"}
    return not (present & absent)


def _prod(a: Dnf, b: Dnf) -> Dnf:
    out = []
    for x, y in itertools.product(a, b):
        c = Conj(x | y)
        if _consistent(c):
            out.append(c)
    return out


# durable-rules walks its alpha network with a fixed stack of 64 nodes (events.c MAX_STACK_SIZE) and
# fails the whole assert with error 303 when a fact matches more pending nodes than that. Rules share
# prefixes, so the worst case is the largest sum of fan-outs along one path of the prefix tree; a kind
# with many checks is split into several rulesets each below this bound (with a margin).
MAX_ALPHA_STACK = 48


def stack_bound(ruleset: dict[str, Any]) -> int:
    """Upper bound of durable's alpha-walk stack for any fact: max over paths of summed fan-outs."""
    trie: dict[str, Any] = {}
    for rule in ruleset.values():
        node = trie
        for lit in rule["all"][0]["m"]["$and"]:
            node = node.setdefault(repr(lit), {})

    def bound(node: dict[str, Any]) -> int:
        return len(node) + max((bound(c) for c in node.values()), default=0) if node else 0

    return bound(trie)


def literal_json(lit: Literal_) -> dict[str, Any]:
    tag = lit[0]
    if tag == "ex":
        return {"$ex": {lit[1]: 1}}
    if tag == "nex":
        return {"$nex": {lit[1]: 1}}
    if tag == "cmp":
        _, op, key, value = lit
        return {key: value} if op == "==" else {_DURABLE_OP[op]: {key: value}}
    _, op, key, other = lit
    if op == "==":
        return {key: {"$m": other}}
    return {_DURABLE_OP[op]: {key: {"$m": other}}}


def _sort_key(lit: Literal_) -> str:
    return repr(lit)


def _segment_rules(comp: _Compiler, index: int, si: int, seg: Segment) -> dict[str, Conj]:
    app_t: Dnf
    app_f: Dnf
    app_u: Dnf
    if seg.applies is None:
        app_t, app_f, app_u = [Conj()], [], []
    else:
        app_t, app_f, app_u = comp._tfu(seg.applies)
    fin_t, fin_f, fin_u = comp._tfu(seg.final)
    outcome: dict[str, Dnf] = {"a": app_f, "i": list(app_u)}

    def judged(dnf: Dnf, code: str, review: Expr | None) -> None:
        """Add `dnf` under `code`, split into its review variant (upper case) where review is true."""
        if seg.soft_duty and code == "n":
            outcome.setdefault("N", []).extend(dnf)
            return
        if review is None:
            outcome.setdefault(code, []).extend(dnf)
            return
        rv_t, rv_f, rv_u = comp._tfu(review)
        outcome.setdefault(code.upper(), []).extend(_prod(dnf, rv_t))
        outcome.setdefault(code, []).extend(_prod(dnf, rv_f) + _prod(dnf, rv_u))

    if seg.due is None:
        live, early = app_t, []
    else:
        due_t, due_f, due_u = comp._tfu(seg.due)
        live, early = _prod(app_t, due_t), _prod(app_t, due_f)
        outcome["i"] += _prod(app_t, due_u)
    outcome["i"] += _prod(live, fin_u)
    if seg.inclusion:
        outcome["c"] = _prod(live, fin_t)
        outcome["x"] = _prod(live, fin_f)
    else:
        judged(_prod(live, fin_t), "c", seg.review)
        judged(_prod(live, fin_f), "n", seg.review)
    if seg.due is not None:
        if seg.trajectory is None:
            outcome["i"] += early
        else:
            tr_t, tr_f, tr_u = comp._tfu(Compare(seg.final.op, seg.final.left, seg.trajectory))
            judged(_prod(early, tr_t), "o", seg.review_early)
            judged(_prod(early, tr_f), "b", seg.review_early)
            outcome["i"] += _prod(early, tr_u)
    rules: dict[str, Conj] = {}
    for code, dnf in outcome.items():
        for j, conj in enumerate(dnf):
            rules[f"{index}.{si}.{code}.{j}"] = conj
    return rules
