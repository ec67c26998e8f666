"""An expression tree as readable text: rule syntax, or Chinese words with fields by their labels."""

from __future__ import annotations

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
    prior_parts,
)

_COMPARE_ZH = {"==": "为", "!=": "不为", ">=": " ≥ ", "<=": " ≤ ", ">": " > ", "<": " < "}
_ARITH_ZH = {"*": "×", "/": "÷"}


def render(expr: Expr, labels: dict[str, str] | None = None) -> str:
    """Readable text of an expression; with `labels`, fields by their Chinese labels and 是/否."""
    lb = labels or {}
    zh = labels is not None
    AND, OR, NOT, IN, NOT_IN = (
        ("且", "或", "非", "属于", "不属于") if zh else ("and", "or", "not", "in", "not in")
    )

    def r(e: Expr) -> str:
        return render(e, labels)

    if isinstance(expr, FieldRef):
        prior = prior_parts(expr.name)
        if prior is not None:
            return f"{lb.get(prior[0], prior[0])}({prior[1]}年)" if zh else f"prior({prior[0]}, {prior[1]})"
        return lb.get(expr.name, expr.name)
    if isinstance(expr, Const):
        if isinstance(expr.value, bool):
            if labels is not None:
                return "是" if expr.value else "否"
            return "true" if expr.value else "false"
        if isinstance(expr.value, str):
            return f"“{expr.value}”" if zh else f'"{expr.value}"'
        return str(expr.value)
    if isinstance(expr, Arith):
        return f"({r(expr.left)} {_ARITH_ZH.get(expr.op, expr.op) if zh else expr.op} {r(expr.right)})"
    if isinstance(expr, Neg):
        return f"-{r(expr.operand)}"
    if isinstance(expr, Compare):
        if zh:  # words a reviewer reads, not operators of a programming language
            return f"{r(expr.left)}{_COMPARE_ZH[expr.op]}{r(expr.right)}"
        return f"{r(expr.left)} {expr.op} {r(expr.right)}"
    if isinstance(expr, In):
        quote = "“{}”" if zh else '"{}"'
        vals = ", ".join(quote.format(v) if isinstance(v, str) else str(v) for v in expr.values)
        if zh:
            return f"{r(expr.operand)}{NOT_IN if expr.negated else IN}{vals.replace(', ', '、')}之一"
        return f"{r(expr.operand)} {NOT_IN if expr.negated else IN} [{vals}]"
    if isinstance(expr, And):
        return "(" + f" {AND} ".join(r(i) for i in expr.items) + ")"
    if isinstance(expr, Or):
        return "(" + f" {OR} ".join(r(i) for i in expr.items) + ")"
    if isinstance(expr, Not):
        return f"{NOT} {r(expr.item)}"
    if isinstance(expr, Missing):
        if zh:
            return f"{lb.get(expr.field, expr.field)}{'已填报' if expr.negated else '未填报'}"
        return f"{'present' if expr.negated else 'missing'}({expr.field})"
    raise TypeError(expr)
