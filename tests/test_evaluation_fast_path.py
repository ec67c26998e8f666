"""The evaluator's fast paths write exactly what the plain construction writes.

Findings are built from parts prepared once per check version (template, message, operands),
durable's matches are read from its echo without a JSON parse, and formulas are compiled once.
Each shortcut is compared here with the straightforward computation it replaces.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.evaluation.driver import RulesetHandle, _matches, dumps
from engine.evaluation.evaluate import _BASIS_NOTE as BASIS_NOTE
from engine.evaluation.evaluate import EXCLUDED_MESSAGE, Evaluator, History
from engine.evaluation.findings import DEFAULT_MESSAGES, Finding, Message, describe
from engine.policy.expression_text import render
from engine.policy.expression_tree import Arith, Const, FieldRef, Neg
from engine.policy.formulas import compile_number, evaluate_number, value_of
from engine.records.intake import load_records
from tests.conftest import ROOT, project

SETTINGS = settings(max_examples=300, deadline=None)
STATUSES = sorted(DEFAULT_MESSAGES)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type, Decimals digit for digit (True == Decimal(1) must not pass)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# --- messages ------------------------------------------------------------------------------------

decimals = st.decimals(min_value=-(10**7), max_value=10**7, places=4, allow_nan=False, allow_infinity=False)
operands = st.one_of(st.none(), st.booleans(), decimals, st.sampled_from(["True", "False", "技改项目"]))
placeholders = st.sampled_from(
    [
        "title",
        "value",
        "threshold",
        "target",
        "unit",
        "op",
        "gap",
        "gap_unit",
        "approx",
        "due",
        "year",
        "missing",
        "applies",
        "nature",
        "unknown",
        "中文",
    ]
)
templates = st.one_of(
    st.none(),
    st.lists(
        st.one_of(
            placeholders.map(lambda n: "{" + n + "}"), st.sampled_from(["文字", "{", "}", "{{value}}", ":"])
        ),
        max_size=8,
    ).map("".join),
)


@SETTINGS
@given(
    status=st.sampled_from(STATUSES),
    nature=st.sampled_from(["standard", "target", "duty", "cumulative"]),
    template=templates,
    unit=st.sampled_from([None, "", "%", "万元"]),
    op=st.sampled_from([">=", "==", "<"]),
    approx=st.booleans(),
    aspirational=st.booleans(),
    due=st.sampled_from([None, dt.date(2025, 12, 31)]),
    applies=st.sampled_from(["", "适用条件:总投资>=1"]),
    interpretation=st.sampled_from([None, "", "按年度计"]),
    cases=st.lists(
        st.tuples(
            operands,
            operands,
            st.one_of(st.none(), decimals),
            st.one_of(st.none(), st.integers(2020, 2030)),
            st.lists(st.sampled_from(["总投资(total_investment)", "2023年的数据"]), max_size=2),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_a_prepared_message_is_exactly_what_describe_writes(
    status, nature, template, unit, op, approx, aspirational, due, applies, interpretation, cases
):
    fixed = dict(
        unit=unit,
        op=op,
        approx=approx,
        aspirational=aspirational,
        due=due,
        applies=applies,
        interpretation=interpretation,
        template=template,
        nature=nature,
    )
    message = Message(status, "检查", **fixed)  # one object for all cases: its threshold text is reused
    for value, threshold, target, year, missing in cases:
        expected = describe(
            status,
            "检查",
            value=value,
            threshold=threshold,
            target=target,
            year=year,
            missing=missing,
            **fixed,
        )
        assert message.render(value, threshold, target, year, missing) == expected


def test_a_message_that_reads_no_record_value_is_written_once():
    m = Message(
        "not_applicable",
        "检查",
        unit="万元",
        op=">=",
        approx=False,
        aspirational=False,
        due=None,
        applies="适用条件:甲",
        interpretation=None,
        template=None,
        nature="standard",
    )
    assert m.text == "检查:不适用(适用条件:甲)。"
    numeric = Message(
        "compliant",
        "检查",
        unit="万元",
        op=">=",
        approx=False,
        aspirational=False,
        due=None,
        applies="",
        interpretation=None,
        template=None,
        nature="standard",
    )
    assert numeric.text is None
    assert numeric.render(Decimal(5), Decimal(1), None, None, []) == "检查:实际值5万元,不低于1万元,符合要求。"


# --- durable's echo ----------------------------------------------------------------------------------

tricky = st.text(
    alphabet=st.sampled_from(
        ['"', "\\", ":", "[", "]", "{", "}", ",", " ", "_", "i", "m", "e", "+", "-", "1", "中"]
    ),
    max_size=20,
)


def _reference(message: str) -> list[tuple[int, str]]:
    return [(int(frame["m"]["_i"]), rule) for rule, frames in json.loads(message).items() for frame in frames]


def _echo(rules: dict[str, list[dict[str, Any]]], compact: bool) -> str:
    """An action message as durable writes it: each fact's JSON exactly as it was sent."""

    def fact(f: dict[str, Any]) -> str:
        return dumps(f) if compact else json.dumps(f, ensure_ascii=False)

    return (
        "{"
        + ",".join(
            json.dumps(r) + ":[" + ",".join('{"m":' + fact(f) + "}" for f in facts) + "]"
            for r, facts in rules.items()
        )
        + "}"
    )


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["0.0.a.0", "1.0.c.1", "seen"]),
            st.lists(st.tuples(st.integers(0, 249), tricky), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda r: r[0],
    ),
    st.booleans(),
)
def test_match_ids_read_from_the_echo_equal_a_full_json_parse(rules, compact):
    message = _echo(
        {
            rule: [
                {"_k": "project", "_i": i, "s": text, "x": 1.5, "sid": "s0", "id": f"f{i}"}
                for i, text in facts
            ]
            for rule, facts in rules
        },
        compact,
    )
    out: list[tuple[int, str]] = []
    _matches(message, out)
    assert out == _reference(message)


def test_facts_with_quotes_brackets_and_exponents_in_text_get_their_own_matches():
    ruleset = {
        "seen": {"all": [{"m": {"$and": [{"_k": "p"}, {"$ex": {"_i": 1}}]}}], "cap": 250},
        "big": {"all": [{"m": {"$and": [{"_k": "p"}, {"$gt": {"x": 10.0}}]}}], "cap": 250},
    }
    handle = RulesetHandle("echo", ruleset)
    texts = ['a":[', '"_i": 7, "x": 99.0', "1e+20", "\\", '}}],"big":[{"m":{"_i": 3,', "中文"]
    facts = [{"_k": "p", "_i": i, "x": float(i * 5), "s": t} for i, t in enumerate(texts)]
    got = sorted(handle.run(facts))
    assert got == sorted(
        [(i, "seen") for i in range(len(texts))] + [(i, "big") for i in range(3, len(texts))]
    )


# --- formulas ----------------------------------------------------------------------------------------

FIELDS = ["a", "b", "c"]
leaves = st.one_of(st.sampled_from(FIELDS).map(FieldRef), st.one_of(decimals, st.just(Decimal(0))).map(Const))
formulas = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(st.sampled_from("+-*/"), inner, inner).map(lambda t: Arith(t[0], t[1], t[2])),
        inner.map(Neg),
    ),
    max_leaves=6,
)
field_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), decimals, st.just(Decimal(0)), st.just("文字")
)


@SETTINGS
@given(formulas, st.fixed_dictionaries({}, optional={f: field_values for f in FIELDS}))
def test_a_compiled_formula_equals_evaluate_number(formula, values):
    assert _same(compile_number(formula)(values), evaluate_number(formula, values))


# --- findings ----------------------------------------------------------------------------------------


def test_findings_of_the_samples_are_what_value_of_and_describe_give(policy):
    """Every finding of the sample records, rebuilt field by field the plain way."""
    records = load_records(sorted((ROOT / "samples").glob("*.*")), policy.catalog).records
    history = History()
    history.add_all(records)
    ev = Evaluator(policy)
    by_id = {
        (r.kind, r.id, r.source.file if r.source else None, r.source.row if r.source else None): r
        for r in records
    }
    findings = ev.evaluate(records).findings
    assert len(findings) > 1000
    statuses = set()
    for f in findings:
        rec = by_id[
            (f.kind, f.record_id, f.source.file if f.source else None, f.source.row if f.source else None)
        ]
        pack = next(p for p in policy.packs if p.id == f.pack)
        ck = pack.kinds[rec.kind]
        cc = next(c for c in ck.checks if c.full_id == f.check)
        if cc.check.counted:
            continue  # a counted figure depends on the batch's other records (tests/test_verdicts.py)
        prep = ev._prepare(ck, rec, f.as_of, 0, history)
        seg = prep.in_force[cc.index]
        check = cc.check
        value, threshold, target = (
            value_of(seg.final.left, prep.values),
            value_of(seg.threshold, prep.values),
            None,
        )
        if f.status in ("on_track", "behind_schedule") and seg.trajectory is not None:
            target, threshold = threshold, value_of(seg.trajectory, prep.values)
        applies = ""
        if f.status == "not_applicable" and seg.applies is not None:
            labels = {n: fs.label for n, fs in policy.catalog.kind(check.subject).fields.items()}
            applies = f"适用条件:{render(seg.applies, labels).strip('()')}"
        template = check.messages.get(f.status)
        if check.role == "inclusion" and f.status == "not_applicable" and "不计入" in f.message:
            template = check.messages.get("not_applicable") or EXCLUDED_MESSAGE  # an inclusion rule not met
        message = describe(
            f.status,
            check.title,
            value=value,
            threshold=threshold,
            target=target,
            unit=check.unit,
            op=check.op,
            approx=check.approx,
            aspirational=check.aspirational,
            due=check.due,
            year=prep.values.get("report_year"),
            missing=f.missing_fields,
            applies=applies,
            interpretation=check.interpretation,
            template=template,
            nature=check.nature,
        )
        # then how the figure was obtained, any counting notes, and why it needs review
        message += BASIS_NOTE.get(f.basis or "", "")
        reasons = "".join(f"【{r}】" for r in f.review_reasons)
        assert f.message.startswith(message) and f.message.endswith(reasons)
        middle = f.message[len(message) : len(f.message) - len(reasons)]
        assert middle == "" or middle.startswith("(统计说明:"), (f.check, f.basis, middle)
        message = f.message
        assert _same(f.value, value if isinstance(value, (Decimal, bool)) else None)
        assert _same(f.threshold, threshold if isinstance(threshold, (Decimal, bool)) else None)
        assert _same(f.target, target if isinstance(target, Decimal) else None)
        assert f.message == message
        assert (f.check_title, f.nature, f.unit, f.op, f.due) == (
            check.title,
            check.nature,
            check.unit,
            check.op,
            check.due,
        )
        assert f.lead_departments == list(cc.measure.lead_departments)
        assert f.check_version.startswith(f"v{seg.version} ({seg.start}–{seg.end})")
        assert list(f.__dict__) == list(Finding.model_fields)
        statuses.add(f.status)
    assert {"compliant", "non_compliant", "not_applicable", "insufficient_data"} <= statuses


def test_findings_have_every_field_set_and_stay_independent(policy):
    recs = [
        project(
            policy, f"P{i}", in_provincial_characteristic_town=True, total_investment=20000, land_area=100
        )
        for i in range(2)
    ]
    a, b = Evaluator(policy).evaluate(recs).findings[:2]
    assert a.model_fields_set == set(Finding.model_fields)
    a.message = "改"
    a.lead_departments.append("某部门")
    assert b.message != "改" and "某部门" not in b.lead_departments
    assert b.model_fields_set == set(Finding.model_fields)
    c = a.model_copy(update={"status": "compliant"})
    assert c.model_fields_set == set(Finding.model_fields) and c.message == "改"
    assert Finding.model_validate(a.model_dump()) == a


def test_records_of_two_check_versions_in_one_call_each_get_their_own(logic_policy):
    # Versions in force are memoised per date: records of different dates must not share them.
    recs = [
        project(logic_policy, f"R{i}", submitted_on=d, total_investment=120)
        for i, d in enumerate([dt.date(2024, 9, 1), dt.date(2025, 9, 1), dt.date(2024, 10, 1)])
    ]
    together = [
        f for f in Evaluator(logic_policy).evaluate(recs).findings if f.check == "test-logic:t.amended"
    ]
    alone = [
        f
        for r in recs
        for f in Evaluator(logic_policy).evaluate([r]).findings
        if f.check == "test-logic:t.amended"
    ]
    assert [f.model_dump() for f in together] == [f.model_dump() for f in alone]
    assert [(f.threshold, f.check_version[:2]) for f in together] == [
        (Decimal(100), "v1"),
        (Decimal(150), "v2"),
        (Decimal(100), "v1"),
    ]


def test_a_comparison_of_two_conditions_is_refused_at_parse(policy):
    # Found by the expression fuzz test: it parsed, then failed in evaluation (a condition is no value).
    from engine.policy.compiler import _resolver
    from engine.policy.expressions import ExpressionError, parse

    with pytest.raises(ExpressionError, match="compare values, not conditions"):
        parse("missing(total_investment) == missing(land_area)", _resolver(policy.catalog, "project"), "bool")
