"""The rule expression language: parsed with ``ast``, never evaluated by Python.

Conditions and formulas in rule files are written like ``总投资 / 用地面积`` or
``category == "技改项目" and total_investment >= 500``. The text is parsed by ``ast.parse`` in
``eval`` mode and every node is checked against a whitelist; the result is our own small, typed
tree. Nothing here calls ``eval``/``exec``: attribute access, subscripts, lambdas, comprehensions
and calls other than ``missing(x)``/``present(x)`` are refused with the column where they start.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from decimal import Decimal

from engine.policy.expression_text import render
from engine.policy.expression_tree import (
    PRIOR_SEP,
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
    prior_parts,
)

MAX_LENGTH = 2000
MAX_DEPTH = 40


class ExpressionError(ValueError):
    def __init__(self, message: str, column: int | None = None, suggestion: str | None = None):
        self.message, self.column, self.suggestion = message, column, suggestion
        text = message if column is None else f"column {column}: {message}"
        if suggestion:
            text += f" (did you mean {suggestion}?)"
        super().__init__(text)


# Types of values: "number", "bool", "text", "date".
TypeOf = Callable[[str], str]

_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_FORBIDDEN = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.NamedExpr: "assignment",
    ast.Starred: "starred arguments",
    ast.IfExp: "conditional expressions",
    ast.JoinedStr: "f-strings",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.Await: "await",
    ast.Yield: "yield",
}
_TRANSLATE = str.maketrans(
    {
        "×": "*",
        "÷": "/",
        "≥": ">=",
        "≤": "<=",
        "≠": "!=",
        "（": "(",
        "）": ")",
        "，": ",",
        "＋": "+",
        "－": "-",
        "＝": "=",
    }
)
FUNCTIONS = ("missing", "present", "prior")


class Resolver:
    """Names in an expression: record fields (by identifier or Chinese label) and extra names."""

    def __init__(
        self,
        resolve: Callable[[str], str | None],
        type_of: TypeOf,
        suggest: Callable[[str], str | None] | None = None,
        extra: dict[str, str] | None = None,
    ):
        self.resolve, self.type_of, self.suggest, self.extra = resolve, type_of, suggest, extra or {}


def parse(text: str, resolver: Resolver, want: str | None = None) -> Expr:
    """Parse and type-check; `want` is the required result type ('bool' for a condition)."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    src = text.translate(_TRANSLATE).strip()
    if not src:
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", exc.offset) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; parser limits on hostile nesting
        raise ExpressionError(f"expression refused: {type(exc).__name__}") from None
    expr = _Builder(resolver, src).build(tree.body, 0)
    got = type_of(expr, resolver)
    if want == "bool" and got != "bool":
        raise ExpressionError(f"a condition must be true/false, this is a {got}")
    if want == "number" and got != "number":
        raise ExpressionError(f"a quantity must be a number, this is a {got}")
    return expr


MAX_CONSTANT = Decimal("9000000000")  # engine/records/catalog.py MAX_MAGNITUDE: judged exactly in millionths
MIN_CONSTANT = Decimal("0.000001")


class _Builder:
    def __init__(self, resolver: Resolver, source: str = ""):
        self.r = resolver
        self.source = source

    def build(self, node: ast.AST, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise ExpressionError("expression nested too deeply")
        col = getattr(node, "col_offset", None)
        col = col + 1 if col is not None else None
        for bad, what in _FORBIDDEN.items():
            if isinstance(node, bad):
                raise ExpressionError(f"{what} are not allowed in rule expressions", col)
        d = depth + 1
        if isinstance(node, ast.BoolOp):
            items = tuple(self.build(v, d) for v in node.values)
            return And(items) if isinstance(node.op, ast.And) else Or(items)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Not(self.build(node.operand, d))
            if isinstance(node.op, ast.USub):
                inner = self.build(node.operand, d)
                if isinstance(inner, Const) and isinstance(inner.value, Decimal):
                    return Const(-inner.value)
                return Neg(inner)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, d)
            raise ExpressionError("operator not allowed", col)
        if isinstance(node, ast.BinOp):
            op = _ARITH.get(type(node.op))
            if op is None:
                raise ExpressionError(f"operator {type(node.op).__name__} not allowed; use + - * /", col)
            right = self.build(node.right, d)
            if (
                op == "/"
                and isinstance(right, Const)
                and right.value == 0
                and not isinstance(right.value, bool)
            ):
                raise ExpressionError("division by zero: this formula never has a value", col)
            return Arith(op, self.build(node.left, d), right)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise ExpressionError("chained comparisons (a < b < c) are not allowed; use and", col)
            op_node, right_node = node.ops[0], node.comparators[0]
            if isinstance(op_node, (ast.In, ast.NotIn)):
                if not isinstance(right_node, (ast.List, ast.Tuple)):
                    raise ExpressionError('\'in\' needs a list of values: x in ["a", "b"]', col)
                values = []
                for elt in right_node.elts:
                    c = self.build(elt, d)
                    if not isinstance(c, Const) or isinstance(c.value, bool):
                        raise ExpressionError("a list after 'in' may hold only numbers or text", col)
                    values.append(c.value)
                if len(set(values)) != len(values):
                    raise ExpressionError("the list after 'in' repeats a value", col)
                if not values:
                    raise ExpressionError("the list after 'in' is empty", col)
                return In(self.build(node.left, d), tuple(values), isinstance(op_node, ast.NotIn))
            op = _CMP.get(type(op_node))
            if op is None:
                raise ExpressionError(f"comparison {type(op_node).__name__} not allowed", col)
            return Compare(op, self.build(node.left, d), self.build(right_node, d))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(
                    "function calls are not allowed except missing(x), present(x) and prior(x, year)", col
                )
            if node.func.id == "prior":
                args = node.args
                if (
                    node.keywords
                    or len(args) != 2
                    or not isinstance(args[0], ast.Name)
                    or not isinstance(args[1], ast.Constant)
                    or type(args[1].value) is not int
                ):
                    raise ExpressionError("prior() takes a field name and a year: prior(城镇化率, 2023)", col)
                year = args[1].value
                if not 1990 <= year <= 2100:
                    raise ExpressionError(f"prior(): year {year} outside 1990–2100", col)
                ref = self._name(args[0].id, col)
                if not isinstance(ref, FieldRef) or PRIOR_SEP in ref.name:
                    raise ExpressionError("prior() takes a record field", col)
                return FieldRef(f"{ref.name}{PRIOR_SEP}{year}")
            if node.keywords or len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
                raise ExpressionError(f"{node.func.id}() takes exactly one field name", col)
            ref = self._name(node.args[0].id, col)
            if not isinstance(ref, FieldRef):
                raise ExpressionError(f"{node.func.id}() takes a record field", col)
            return Missing(ref.name, negated=node.func.id == "present")
        if isinstance(node, ast.Name):
            return self._name(node.id, col)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return Const(v)
            if isinstance(v, (int, float)):
                return Const(self._number(node, v, col))
            if isinstance(v, str):
                if len(v) > 200:
                    raise ExpressionError("text constant longer than 200 characters", col)
                return Const(v)
            raise ExpressionError(f"constant {v!r} not allowed", col)
        raise ExpressionError(f"{type(node).__name__} is not allowed in rule expressions", col)

    def _number(self, node: ast.Constant, v: int | float, col: int | None) -> Decimal:
        """A number as written (1e-400 is not 0.0, 1e999 not inf), within what can be judged."""
        text = ast.get_source_segment(self.source, node) if self.source else None
        try:
            d = (
                Decimal(text.replace("_", ""))
                if text
                else Decimal(repr(v))
                if isinstance(v, float)
                else Decimal(v)
            )
        except ArithmeticError:
            d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        if not d.is_finite() or abs(d) > MAX_CONSTANT:
            raise ExpressionError(
                f"number {text or v} is beyond what can be judged (at most {MAX_CONSTANT:,})", col
            )
        if d != 0 and abs(d) < MIN_CONSTANT:
            raise ExpressionError(
                f"number {text or v} is below the judging precision of {MIN_CONSTANT} "
                "(values are judged to a millionth of their unit)",
                col,
            )
        return d

    def _name(self, name: str, col: int | None) -> Expr:
        if name in ("true", "True", "是"):
            return Const(True)
        if name in ("false", "False", "否"):
            return Const(False)
        if name.startswith("_"):
            raise ExpressionError(f"names starting with '_' are not allowed: {name}", col)
        if name in self.r.extra:
            return FieldRef(name)
        resolved = self.r.resolve(name)
        if resolved is None:
            raise ExpressionError(
                f"unknown field {name!r}", col, self.r.suggest(name) if self.r.suggest else None
            )
        return FieldRef(resolved)


def type_of(expr: Expr, r: Resolver) -> str:
    if isinstance(expr, FieldRef):
        prior = prior_parts(expr.name)
        name = prior[0] if prior else expr.name
        return r.extra.get(name) or r.type_of(name)
    if isinstance(expr, Const):
        if isinstance(expr.value, bool):
            return "bool"
        return "number" if isinstance(expr.value, Decimal) else "text"
    if isinstance(expr, (Arith, Neg)):
        parts = (expr.left, expr.right) if isinstance(expr, Arith) else (expr.operand,)
        for p in parts:
            if type_of(p, r) != "number":
                raise ExpressionError(f"arithmetic needs numbers, got {type_of(p, r)} in {render(p)}")
        return "number"
    if isinstance(expr, Compare):
        for side in (expr.left, expr.right):
            if not isinstance(side, (FieldRef, Const, Arith, Neg)):  # the compiler compares values only
                raise ExpressionError(f"compare values, not conditions: {render(expr)}")
        lt, rt = type_of(expr.left, r), type_of(expr.right, r)
        if lt != rt:
            raise ExpressionError(f"cannot compare {lt} with {rt}: {render(expr)}")
        if lt in ("bool", "text") and expr.op not in ("==", "!="):
            raise ExpressionError(f"{lt} values can only be compared with == or !=: {render(expr)}")
        if lt == "date":
            raise ExpressionError(f"dates cannot be compared in expressions: {render(expr)}")
        return "bool"
    if isinstance(expr, In):
        t = type_of(expr.operand, r)
        for v in expr.values:
            vt = "number" if isinstance(v, Decimal) else "text"
            if vt != t:
                raise ExpressionError(f"list value {v!r} is {vt} but {render(expr.operand)} is {t}")
        return "bool"
    if isinstance(expr, (And, Or)):
        for it in expr.items:
            if type_of(it, r) != "bool":
                raise ExpressionError(f"and/or need true/false values: {render(it)}")
        return "bool"
    if isinstance(expr, Not):
        if type_of(expr.item, r) != "bool":
            raise ExpressionError(f"not needs a true/false value: {render(expr.item)}")
        return "bool"
    if isinstance(expr, Missing):
        return "bool"
    raise TypeError(expr)
