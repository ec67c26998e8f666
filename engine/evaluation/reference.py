"""The plain-Python reference: each check version's outcome decided in Python, not by durable-rules.

Three-valued logic on exact decimals over the same compiled segments the engine is given; the
differential test (tests/test_engine_differential.py) requires durable-rules to agree with it.
"""

from __future__ import annotations

from typing import Any

from engine.policy.compiler import CODE_STATUS, CompiledKind, Segment
from engine.policy.expression_tree import Compare, Expr
from engine.policy.formulas import evaluate_condition


def reference_outcomes(ck: CompiledKind, prep: Any) -> dict[int, str]:
    """The outcome code of every check in force, in plain Python (three-valued logic, exact decimal)."""
    out: dict[int, str] = {}
    for ci, seg in prep.in_force.items():
        out[ci] = segment_code(seg, prep.values)
    return out


def segment_status(seg: Segment, values: dict[str, Any]) -> str:
    return CODE_STATUS[segment_code(seg, values)]


def segment_code(seg: Segment, values: dict[str, Any]) -> str:
    """The outcome of one check version (compiler.CODE_STATUS), as the compiled rules define it."""

    def flagged(code: str, review: Expr | None) -> str:
        if seg.soft_duty and code == "n":
            return "N"
        if review is not None and evaluate_condition(review, values) is True:
            return code.upper()
        return code

    app = True if seg.applies is None else evaluate_condition(seg.applies, values)
    if app is False:
        return "a"
    if app is None:
        return "i"
    if seg.due is not None:
        due = evaluate_condition(seg.due, values)
        if due is None:
            return "i"
        if due is False:
            if seg.trajectory is None:
                return "i"
            tr = evaluate_condition(Compare(seg.final.op, seg.final.left, seg.trajectory), values)
            if tr is None:
                return "i"
            return flagged("o" if tr else "b", seg.review_early)
    fin = evaluate_condition(seg.final, values)
    if fin is None:
        return "i"
    if seg.inclusion:
        return "c" if fin else "x"
    return flagged("c" if fin else "n", seg.review)
