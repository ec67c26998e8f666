"""Property tests for the rule expression language: any text either parses into our typed tree or
raises ExpressionError — never another exception — and nothing is executed.

Expressions are generated from a token soup (field names, Chinese labels, numbers, strings,
operators, brackets, keywords, dunder names, calls, lambdas, comprehension pieces) and as arbitrary
text. A parsed condition is then evaluated with the plain-Python Kleene reference on generated
values: it yields True, False or None (unknown), never an exception.
Examples: 2,000 per test when CI=true, 150 locally (profiles from tests/test_fuzz_records.py).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.policy.compiler import _resolver
from engine.policy.expression_text import render
from engine.policy.expression_tree import fields_of
from engine.policy.expressions import ExpressionError, parse
from engine.policy.formulas import evaluate_condition
from engine.policy.policy import load_policy

settings.register_profile(
    "hostile-expressions-ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "hostile-expressions-local", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = settings.get_profile(
    "hostile-expressions-ci" if os.environ.get("CI") == "true" else "hostile-expressions-local"
)

POLICY = load_policy()
RESOLVER = _resolver(POLICY.catalog, "project")
SENTINEL = Path("/tmp/heze-fuzz-sentinel")

TOKENS = [
    "total_investment",
    "land_area",
    "annual_tax",
    "category",
    "in_provincial_characteristic_town",
    "总投资",
    "用地面积",
    "项目类别",
    "submitted_on",
    "report_year",
    "unknown_field",
    "0",
    "1",
    "500",
    "0.5",
    "1e3",
    "-",
    "+",
    "*",
    "/",
    "//",
    "%",
    "**",
    "×",
    "÷",
    "≥",
    "≤",
    "≠",
    "（",
    "）",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "not",
    "in",
    "not in",
    "is",
    "if",
    "else",
    "true",
    "false",
    "是",
    "否",
    '"技改项目"',
    "'x'",
    "missing",
    "present",
    "missing(total_investment)",
    "present(land_area)",
    "__import__",
    "__class__",
    "__mro__",
    "__subclasses__",
    "__builtins__",
    "_private",
    "open",
    "eval",
    "exec",
    "lambda",
    "for",
    "x",
    "yield",
    "await",
    ":=",
    "@",
    "f'",
    '"',
    "'",
    "\\",
    "\x00",
    "\n",
    "#",
    ";",
    "import",
    f"'touch {SENTINEL}'",
    "os",
    "system",
]

token_soup = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25).map(" ".join)
numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@PROFILE
@given(st.one_of(token_soup, st.text(max_size=60)), st.sampled_from([None, "bool", "number"]))
def test_any_text_parses_or_raises_expression_error(text: str, want: str | None) -> None:
    try:
        expr = parse(text, RESOLVER, want)
    except ExpressionError as exc:
        assert str(exc)
        return
    render(expr)
    assert fields_of(expr) <= set(POLICY.catalog.kind("project").fields)
    assert not SENTINEL.exists()


@PROFILE
@given(
    token_soup,
    st.fixed_dictionaries(
        {},
        optional={
            "total_investment": numbers,
            "land_area": numbers,
            "annual_tax": numbers,
            "category": st.sampled_from(["技改项目", "房地产", "其他"]),
            "in_provincial_characteristic_town": st.booleans(),
        },
    ),
)
def test_parsed_conditions_evaluate_to_true_false_or_unknown(text: str, values: dict) -> None:
    try:
        expr = parse(text, RESOLVER, "bool")
    except ExpressionError:
        return
    result = evaluate_condition(expr, values)
    assert result in (True, False, None)
    assert not SENTINEL.exists()


def test_division_by_zero_in_a_condition_is_unknown_not_an_error() -> None:
    expr = parse("total_investment / land_area >= 1", RESOLVER, "bool")
    assert evaluate_condition(expr, {"total_investment": Decimal(5), "land_area": Decimal(0)}) is None
