"""Outcomes: which outcome each check in force reaches for a batch of prepared records.

``durable`` asks durable-rules once per situation of a check version (situations.py);
``durable-direct`` asks it with every record's own fact; ``python`` evaluates the same compiled
checks in plain Python (reference.py). durable-rules' 32-bit fact hashes can collide (#376): a fact
that got no outcome, or two, for a check is asked again alone.

``AskOutcomes`` is a base of ``Evaluator`` (evaluate.py): its methods run once per batch of one
kind, and keep the rulesets and situation tables on the evaluator across calls.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from engine.evaluation.driver import EngineError, ShardedRuleset
from engine.evaluation.prepare import Prepared as _Prepared
from engine.evaluation.reference import reference_outcomes
from engine.evaluation.situations import Plan, SituationTable
from engine.policy.compiler import CompiledKind
from engine.policy.policy import CompiledPack

# durable: durable-rules, asked once per situation (situations.py); durable-direct: durable-rules asked
# with every record's own fact; python: the plain-Python reference of the same compiled checks.
EngineName = Literal["durable", "durable-direct", "python"]
_NONE: dict[int, str] = {}  # a placeholder, replaced for every record (never written)


class AskOutcomes:
    """Asks durable-rules (or the plain-Python reference) for the outcomes of a batch of records."""

    engine: EngineName
    _handles: dict[tuple[str, str], ShardedRuleset]
    _situations: dict[int, SituationTable]  # id(compiled kind) -> the engine's answers so far

    def _handle(self, pack: CompiledPack, ck: CompiledKind) -> ShardedRuleset:
        key = (pack.id, ck.kind)
        if key not in self._handles:
            self._handles[key] = ShardedRuleset(f"{pack.id.replace('-', '_')}_{ck.kind}", ck.shards)
        return self._handles[key]

    def forget_records(self) -> None:
        """Forget the outcomes remembered for whole records (SituationTable.forget_records): a benchmark
        that evaluates the same records again measures a first pass over them, not a look-up."""
        for table in self._situations.values():
            table.forget_records()

    def _outcomes(self, pack: CompiledPack, ck: CompiledKind, batch: list[_Prepared]) -> list[dict[int, str]]:
        if self.engine == "python":
            return [reference_outcomes(ck, p) for p in batch]
        if self.engine == "durable":
            return self._by_situation(pack, ck, batch)
        return self._direct(pack, ck, batch)

    def _by_situation(
        self, pack: CompiledPack, ck: CompiledKind, batch: list[_Prepared]
    ) -> list[dict[int, str]]:
        """Outcomes from durable-rules, asked once per situation of a check version (situations.py)."""
        table = self._situations.get(id(ck))
        if table is None:
            table = self._situations[id(ck)] = SituationTable(ck)
        got: list[dict[int, str]] = [_NONE] * len(batch)
        pending: dict[tuple[int, Any], list[tuple[int, int]]] = {}
        direct: list[int] = []
        waiting: list[tuple[Plan, tuple[Any, ...], dict[int, str]]] = []  # kept once answered
        places_of, plan_of = table.places, table.plan
        for i, prep in enumerate(batch):
            plan = plan_of(prep.in_force)
            steps = plan.steps
            if steps is None:  # a version in force is asked with the record's own fact
                direct.append(i)
                continue
            places = places_of(prep.fact)
            g = plan.records.get(places)
            if g is not None:  # a record with the same places before: the same outcomes
                got[i] = g
                continue
            g = got[i] = {}
            complete = True
            for ci, sid, pick, known in steps:
                where = pick(places)
                code = known.get(where)
                if code is None:
                    pending.setdefault((sid, where), []).append((i, ci))
                    complete = False
                else:
                    g[ci] = code
            if complete:
                table.keep(plan, places, g)
            else:
                waiting.append((plan, places, g))
        if pending:
            asked = list(pending)
            facts = [table.representative(sit, ck.kind, j) for j, sit in enumerate(asked)]
            handle = self._handle(pack, ck)
            matches = handle.run(facts)
            outcome: list[dict[int, list[str]]] = [{} for _ in asked]
            for j, rule in matches:
                if rule == "seen":
                    continue
                ci, code = ck.rule_index[rule]
                outcome[j].setdefault(ci, []).append(code)
            for j, sit in enumerate(asked):
                ci = table.check_of[sit[0]]
                codes = outcome[j].get(ci, [])
                if len(codes) != 1:  # durable's 32-bit fact hashes can collide (#376): ask alone
                    again = handle.run([dict(facts[j], _i=0)])
                    codes = [
                        ck.rule_index[r][1] for _, r in again if r != "seen" and ck.rule_index[r][0] == ci
                    ]
                    if len(codes) != 1:
                        raise EngineError(
                            f"durable-rules gave check {ci} of kind {ck.kind} outcomes {codes} for one "
                            "situation: expected exactly one"
                        )
                table.remember(sit, codes[0])
                for i, c in pending[sit]:
                    got[i][c] = codes[0]
        for plan, places, g in waiting:
            if places not in plan.records:
                table.keep(plan, places, g)
        if direct:
            for i, g in zip(direct, self._direct(pack, ck, [batch[i] for i in direct]), strict=True):
                got[i] = g
        return got

    def _direct(self, pack: CompiledPack, ck: CompiledKind, batch: list[_Prepared]) -> list[dict[int, str]]:
        """Outcomes from durable-rules, asked with every record's own fact."""
        handle = self._handle(pack, ck)
        got, repeated = _gather(ck, handle.run([p.fact for p in batch]), len(batch))
        for i, prep in enumerate(batch):
            if i in repeated or got[i].keys() != prep.in_force.keys():
                # Retry alone, in a fresh sid (durable's 32-bit fact hashes can collide, #376).
                single = dict(prep.fact)
                single["_i"] = 0
                matches = handle.run([single])
                again, twice = _gather(ck, matches, 1)
                if twice or again[0].keys() != prep.in_force.keys():
                    outcomes = sorted(ck.rule_index[rule] for _, rule in matches if rule != "seen")
                    raise EngineError(
                        f"durable-rules gave record {prep.record.id} outcomes {outcomes} "
                        f"for checks in force {sorted(prep.in_force)}: expected exactly one each"
                    )
                got[i] = again[0]
        return got


def _gather(
    ck: CompiledKind, matches: list[tuple[int, str]], n: int
) -> tuple[list[dict[int, str]], set[int]]:
    """Fact index -> check index -> status; and the facts that got some check's outcome twice."""
    got: list[dict[int, str]] = [{} for _ in range(n)]
    repeated: set[int] = set()
    rule_index = ck.rule_index
    last, ci, status = "", 0, ""
    for i, rule in matches:
        if rule is not last:  # matches come grouped by rule
            if rule == "seen":  # the rule every fact matches: not an outcome
                continue
            last = rule
            ci, status = rule_index[rule]
        g = got[i]
        if ci in g:
            repeated.add(i)
        else:
            g[ci] = status
    return got, repeated


def _collect(ck: CompiledKind, matches: list[tuple[int, str]], n: int) -> list[dict[int, list[str]]]:
    got: list[dict[int, list[str]]] = [defaultdict(list) for _ in range(n)]
    for i, rule in matches:
        if rule == "seen":
            continue
        ci, status = ck.rule_index[rule]
        got[i][ci].append(status)
    return got
