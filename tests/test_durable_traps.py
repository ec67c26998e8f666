"""Each trap of durable-rules (../shared/notes/durable-rules.md, plus ones found here) cannot change a finding."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from decimal import Decimal

import pytest

from engine.evaluation import driver
from engine.evaluation.driver import EngineError, RulesetHandle, dumps
from engine.evaluation.evaluate import Evaluator
from engine.records.model import Record, SourceRef
from tests.conftest import project


def findings_by_check(policy, records, engine="durable"):
    out: dict[tuple[str, str], list] = {}
    for f in Evaluator(policy, engine).evaluate(records).findings:
        out.setdefault((f.record_id, f.check), []).append(f)
    return out


def test_every_check_of_a_record_gets_exactly_one_finding(logic_policy):
    # Facts, not events: an event would be consumed by a single rule.
    rec = project(
        logic_policy,
        flag_a=True,
        tag="甲",
        total_investment=600,
        land_area=10,
        annual_tax=1,
        category="技改项目",
        output_value=90,
        base_output=100,
    )
    got = findings_by_check(logic_policy, [rec])
    in_force = [
        c
        for c in logic_policy.checks()
        if c.check.subject == "project" and any(s.start <= dt.date(2024, 9, 1) <= s.end for s in c.segments)
    ]
    assert len(got) == len(in_force)
    assert all(len(v) == 1 for v in got.values())


def test_an_or_with_both_branches_true_gives_one_finding(logic_policy):
    rec = project(logic_policy, flag_a=True, tag="甲", total_investment=600)
    got = findings_by_check(logic_policy, [rec])[("P1", "test-logic:t.or_in")]
    assert [f.status for f in got] == ["compliant"]


def test_missing_right_side_of_a_field_comparison_is_insufficient_not_a_match(logic_policy):
    # durable matches `q >= $m.t` when t is missing (found here, not in the notes): every literal is
    # guarded by $ex on both fields.
    rec = project(logic_policy, output_value=1)
    f = findings_by_check(logic_policy, [rec])[("P1", "test-logic:t.relative_80pct")][0]
    assert f.status == "insufficient_data"


def test_every_rule_starts_with_a_positive_kind_test_and_has_no_python_action(policy, logic_policy):
    for pol in (policy, logic_policy):
        for cp in pol.packs:
            for kind, ck in cp.kinds.items():
                for name, rule in ck.ruleset.items():
                    assert rule["all"][0]["m"]["$and"][0] == {"_k": kind}, name
                    assert "run" not in rule


def test_no_arithmetic_is_sent_to_the_engine(policy, logic_policy):
    for pol in (policy, logic_policy):
        for cp in pol.packs:
            text = json.dumps([ck.ruleset for ck in cp.kinds.values()])
            for op in ("$add", "$sub", "$mul", "$div"):
                assert op not in text


def test_division_by_zero_is_insufficient_data_not_a_crash(logic_policy):
    rec = Record(
        kind="project",
        id="Z",
        source=SourceRef(file="t"),
        values={
            "submitted_on": dt.date(2024, 9, 1),
            "tag": "甲",
            "total_investment": Decimal(5),
            "annual_tax": Decimal(1),
            "land_area": Decimal(0),
        },
    )
    f = findings_by_check(logic_policy, [rec])[("Z", "test-logic:t.not_present_formula")][0]
    assert f.status == "insufficient_data"


def test_numbers_reach_the_engine_as_floats_never_as_text(policy):
    ev = Evaluator(policy)
    rec = project(policy, total_investment="1,500", land_area="10", in_provincial_characteristic_town="是")
    ck = policy.packs[0].kinds["project"]
    from engine.evaluation.evaluate import History

    prep = ev._prepare(ck, rec, dt.date(2024, 9, 1), 0, History())
    assert isinstance(prep.fact["total_investment"], float)
    assert prep.fact["in_provincial_characteristic_town"] is True


def test_huge_derived_values_are_written_without_exponent(policy):
    # durable's parser misreads 5e+20 and returns a corrupt state that later segfaults.
    assert dumps({"q": 5e20, "s": 1e-7, "t": True}) == '{"q":500000000000000000000.0,"s":0.0000001,"t":true}'
    assert "e" not in dumps({"q": 5e20, "r": -1e300, "t": 1e16})
    rec = project(
        policy, in_provincial_characteristic_town=True, total_investment=500, land_area="0.000000000001"
    )
    f = findings_by_check(policy, [rec])[("P1", "heze-2024:m9.char_town_invest_per_mu")][0]
    assert f.status == "compliant"


def test_fewer_than_253_fields_per_fact(policy, logic_policy):
    for pol in (policy, logic_policy):
        for cp in pol.packs:
            for ck in cp.kinds.values():
                assert len(ck.fact_fields) + len(ck.derived) + 5 < 252


def test_more_than_1024_sessions_in_one_ruleset(logic_policy):
    ck = next(cp for cp in logic_policy.packs if cp.id == "test-logic").kinds["project"]
    handle = RulesetHandle("sids", ck.ruleset)
    for i in range(1100):  # each run is a fresh sid, deleted after its actions
        matches = handle.run([{"_k": "project", "_i": i, "_d": float(dt.date(2024, 6, 1).toordinal())}])
        assert "seen" in {r for _, r in matches}


def test_identical_records_with_different_ids_all_get_findings(policy):
    recs = [
        project(
            policy, f"SAME-{i}", in_provincial_characteristic_town=True, total_investment=20000, land_area=100
        )
        for i in range(600)
    ]
    got = Counter(f.record_id for f in Evaluator(policy).evaluate(recs).findings)
    assert len(got) == 600 and len(set(got.values())) == 1


@pytest.mark.parametrize("engine", ["durable", "durable-direct"])
def test_a_fact_dropped_by_the_engine_is_retried_and_a_persistent_loss_raises(policy, monkeypatch, engine):
    real_run = RulesetHandle.run
    calls = {"n": 0}

    def lossy(self, facts):
        calls["n"] += 1
        out = real_run(self, facts)
        if calls["n"] == 1:  # drop every match of fact 1, as a 32-bit hash collision would
            return [(i, r) for i, r in out if i != 1]
        return out

    monkeypatch.setattr(RulesetHandle, "run", lossy)
    recs = [
        project(
            policy, f"R{i}", in_provincial_characteristic_town=True, total_investment=20000, land_area=100
        )
        for i in range(3)
    ]
    statuses = {(f.record_id, f.check): f.status for f in Evaluator(policy, engine).evaluate(recs).findings}
    assert statuses[("R1", "heze-2024:m9.char_town_invest_per_mu")] == "compliant"

    monkeypatch.setattr(RulesetHandle, "run", lambda self, facts: [])
    with pytest.raises(EngineError, match="expected exactly one"):
        Evaluator(policy, engine).evaluate(recs)


def test_two_evaluators_in_one_process_are_independent(policy):
    rec = project(policy, in_provincial_characteristic_town=True, total_investment=20000, land_area=100)
    a = Evaluator(policy).evaluate([rec]).findings
    b = Evaluator(policy).evaluate([rec]).findings
    assert [f.status for f in a] == [f.status for f in b]


def test_no_timer_threads_are_started(policy):
    before = {t.ident for t in threading.enumerate()}
    rec = project(policy, in_provincial_characteristic_town=True, total_investment=20000, land_area=100)
    Evaluator(policy).evaluate([rec])
    started = [t for t in threading.enumerate() if t.ident not in before]
    assert not started
    assert not hasattr(driver, "Host")


def test_every_ruleset_shard_stays_within_durables_alpha_stack(policy, logic_policy):
    # durable fails a whole assert with error 303 when a fact matches more than 64 pending alpha nodes.
    from engine.policy.compiler import MAX_ALPHA_STACK, stack_bound

    for pol in (policy, logic_policy):
        for cp in pol.packs:
            for ck in cp.kinds.values():
                assert ck.shards and all(stack_bound(s) <= MAX_ALPHA_STACK for s in ck.shards)
                assert {n for s in ck.shards for n in s} == set(ck.ruleset)


def test_a_city_record_with_every_field_present_is_judged_on_every_check(policy):
    # Many checks of one kind: the rules are split over several rulesets (error 303 otherwise).
    spec = policy.catalog.kind("city")
    values = {}
    for name, f in spec.fields.items():
        if f.type == "number":
            values[name] = Decimal(50)
        elif f.type == "integer":
            values[name] = 2024 if name.endswith("year") else 50
        elif f.type == "boolean":
            values[name] = True
        elif f.type == "enum":
            values[name] = f.choices[0]
    values["baseline_year"] = 2023
    rec = Record(kind="city", id="ALL", values=values, source=SourceRef(file="t"))
    findings = Evaluator(policy).evaluate([rec]).findings
    city_checks = {c.full_id for c in policy.checks() if c.check.subject == "city"}
    assert {f.check for f in findings} == city_checks
