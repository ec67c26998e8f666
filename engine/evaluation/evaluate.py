"""Evaluation: validated records + a compiled policy -> findings.

For each record this stage picks the packs whose period holds the record's date (or ``as_of``),
computes the derived values in exact decimal, and asks durable-rules which outcome each check in
force reaches. It then verifies that every (record, check in force) pair got exactly one outcome —
the engine's silent failure modes make this a hard requirement — and writes the findings.

``engine="python"`` evaluates the same compiled checks in plain Python (the reference semantics
used by the differential test and the benchmark); it is never the default.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from engine.evaluation.context import AggregateTable, Contribution, History, subject_of, year_of
from engine.evaluation.driver import EngineError, ShardedRuleset
from engine.evaluation.findings import VERSION_FIELDS, Finding, Message, Notice, value_text
from engine.evaluation.situations import SituationTable, situations_of
from engine.policy.compiler import (
    CODE_STATUS,
    REVIEW_CODES,
    AggregateRef,
    Choice,
    CompiledCheck,
    CompiledKind,
    Cumulative,
    Difference,
    Disagreement,
    Segment,
    Trajectory,
)
from engine.policy.expressions import PRIOR_SEP, Const, Expr, FieldRef, fields_of, prior_parts, render
from engine.policy.formulas import compile_number, evaluate_condition, evaluate_number
from engine.policy.numbers import CONTEXT, NotJudgeable, judged, to_engine
from engine.policy.policy import CompiledPack, Policy
from engine.records.catalog import Catalog
from engine.records.model import Record
from engine.records.record import record_date

# durable: durable-rules, asked once per situation (situations.py); durable-direct: durable-rules asked
# with every record's own fact; python: the plain-Python reference of the same compiled checks.
EngineName = Literal["durable", "durable-direct", "python"]


@dataclass
class EvaluationResult:
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # With evaluate(parts=True), instead of findings: each finding as FindingParts (see findings.py).
    parts: list[tuple[Any, ...]] | None = None
    # What the batch's lower records add to aggregates (the pipeline sums them across chunks).
    contributions: list[Contribution] = field(default_factory=list)


@dataclass
class _Prepared:
    record: Record
    date: dt.date
    values: dict[str, Any]  # record values + derived values (Decimal), by key
    in_force: dict[int, Segment]  # check index -> the segment in force
    fact: dict[str, Any]
    cum_missing: dict[int, list[int]] = field(default_factory=dict)  # check index -> years without data
    # derived key -> its exact value as computed, kept even where values[key] was set to None
    # because it is beyond the judging range (a finding reports the formula's exact value)
    exact: dict[str, Any] = field(default_factory=dict)
    history: History | None = None
    aggregates: AggregateTable | None = None


class Evaluator:
    """Evaluates records against a policy with durable-rules (or the plain-Python reference)."""

    def __init__(self, policy: Policy, engine: EngineName = "durable", rules_date: dt.date | None = None):
        self.policy = policy
        self.engine = engine
        self.rules_date = rules_date  # overrides every record's own date in choosing the rules (rarely wanted)
        self._handles: dict[tuple[str, str], ShardedRuleset] = {}
        # id(compiled kind) -> record date -> check index -> segment in force (in check order)
        self._in_force: dict[int, dict[dt.date, dict[int, Segment]]] = {}
        self._versions: dict[int, _Version] = {}  # id(segment) -> its findings' shared parts
        self._in_force_versions: dict[int, dict[dt.date, list[tuple[int, _Version]]]] = {}
        self._kind_plans: dict[int, _KindPlan] = {}  # id(compiled kind) -> what preparing a record needs
        self._situations: dict[int, SituationTable] = {}  # id(compiled kind) -> the engine's answers so far

    def _handle(self, pack: CompiledPack, ck: CompiledKind) -> ShardedRuleset:
        key = (pack.id, ck.kind)
        if key not in self._handles:
            self._handles[key] = ShardedRuleset(f"{pack.id.replace('-', '_')}_{ck.kind}", ck.shards)
        return self._handles[key]

    def evaluate(self, records: Sequence[Record], as_of: dt.date | None = None,
                 history: History | None = None, parts: bool = False, *, rules_date: dt.date | None = None,
                 aggregates: AggregateTable | None = None) -> EvaluationResult:
        """The findings of every record and check in force, and notices for records not judged.

        Two dates: each record is judged by the rules in force on its own date (its submission date,
        or the end of the year it reports on; ``rules_date`` overrides that for every record), and
        ``as_of`` is the day of review (default today): a year that has not ended by then is judged on
        pace (on_track / behind_schedule), never finally. Reports on years before the plan (the pack's
        ``baseline_period``) are baselines: they feed trajectories and prior-year figures and get a
        notice saying so, not findings.

        ``aggregates`` carries counts of lower records across calls (the pipeline passes one table for
        a whole run); records of the kinds counted are evaluated before those that read the counts.
        With ``parts`` the findings come as FindingParts tuples (``result.parts``) instead of Finding
        objects: what the store keeps, without building models nobody reads.
        """
        # Findings are many small acyclic objects: the cyclic collector, triggered again and again
        # while they are built, cost about a third of the evaluation (measured); it is paused for
        # the call and runs normally afterwards.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._evaluate(records, as_of or dt.date.today(), history, parts, rules_date or self.rules_date,
                                  aggregates if aggregates is not None else AggregateTable())
        finally:
            if enabled:
                gc.enable()

    def _evaluate(self, records: Sequence[Record], review_date: dt.date, history: History | None,
                  parts: bool, rules_date: dt.date | None, aggregates: AggregateTable) -> EvaluationResult:
        result = EvaluationResult(parts=[] if parts else None)
        if history is None:
            history = History()
            history.add_all(records)
        catalog = self.policy.catalog
        dates = [rules_date or record_date(rec, catalog) for rec in records]
        judged_by_any: set[int] = set()
        counted_kinds = {a.over for a in self.policy.aggregates().values()}
        order = sorted(((pack, kind, ck) for pack in self.policy.packs for kind, ck in pack.kinds.items()),
                       key=lambda t: t[1] not in counted_kinds)
        for pack, kind, ck in order:
            period = pack.pack.meta.period
            batch: list[_Prepared] = []
            for ri, rec in enumerate(records):
                if rec.kind != kind:
                    continue
                d = dates[ri]
                if d is None or not period.contains(d):
                    continue
                judged_by_any.add(ri)
                batch.append(self._prepare(ck, rec, d, len(batch), history, review_date, aggregates))
            if not batch:
                continue
            outcomes = self._outcomes(pack, ck, batch)
            self._contribute(pack, ck, batch, outcomes, aggregates, result)
            for prep, got in zip(batch, outcomes, strict=True):
                if got.keys() != prep.in_force.keys():
                    raise EngineError(f"record {prep.record.id}: outcomes for checks {sorted(got)}, "
                                      f"checks in force {sorted(prep.in_force)}")
                in_force = self._versions_in_force(pack, ck, prep.date)  # in check order
                if result.parts is not None:
                    result.parts.extend(version.parts(prep, got[ci]) for ci, version in in_force)
                    continue
                rec = prep.record
                common = {"record_id": rec.id, "kind": rec.kind, "record_name": rec.name,
                          "source": rec.source, "as_of": prep.date}
                result.findings.extend(version.finding(prep, got[ci], common) for ci, version in in_force)
        for ri, rec in enumerate(records):
            if ri in judged_by_any:
                continue
            result.notices.append(self._notice(rec, dates[ri]))
        return result

    def _notice(self, rec: Record, d: dt.date | None) -> Notice:
        """Why a valid record got no findings: a baseline year, outside every pack, no date, no rules."""
        has_kind = any(rec.kind in p.kinds for p in self.policy.packs)
        if not has_kind:
            return Notice(record_id=rec.id, kind=rec.kind, source=rec.source, category="no_rules",
                          message=f"没有适用于“{rec.kind}”类对象的规则 (no rules for kind {rec.kind})")
        if d is None:
            spec = self.policy.catalog.kind(rec.kind)
            return Notice(record_id=rec.id, kind=rec.kind, source=rec.source, category="undated",
                          message=f"缺少{spec.fields[spec.date_field].label},无法确定适用的规则版本;请补充该字段")
        for p in self.policy.packs:
            bp = p.pack.meta.baseline_period
            if bp is not None and bp.contains(d) and rec.kind in p.kinds:
                return Notice(record_id=rec.id, kind=rec.kind, source=rec.source, category="baseline",
                              message=f"基期数据,不单独评判:{d.year}年早于{p.pack.meta.number}的实施期"
                                      f"({p.pack.meta.period.start}至{p.pack.meta.period.end}),"
                                      "用作进度基期和与往年比较的数据")
        periods = "、".join(f"{p.pack.meta.number}({p.pack.meta.period.start}至{p.pack.meta.period.end})"
                           for p in self.policy.packs)
        return Notice(record_id=rec.id, kind=rec.kind, source=rec.source, category="out_of_period",
                      message=f"记录日期{d}不在任何政策的有效期内:{periods};未使用过期或未生效的规则评估")

    def _contribute(self, pack: CompiledPack, ck: CompiledKind, batch: list[_Prepared],
                    outcomes: list[dict[int, str]], aggregates: AggregateTable, result: EvaluationResult) -> None:
        """Add the batch's records to the aggregates that count this kind (by their inclusion check's outcome)."""
        for agg in pack.aggregates.values():
            if agg.over != ck.kind:
                continue
            cc = next((c for c in ck.checks if c.full_id == agg.check), None)
            if cc is None:
                continue
            for prep, got in zip(batch, outcomes, strict=True):
                code = got.get(cc.index)
                if code is None:  # the inclusion rule is not in force on this record's date
                    continue
                amount = None
                if agg.sum is not None:
                    v = prep.record.values.get(agg.sum)
                    amount = Decimal(v) if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else None
                    if code == "c" and amount is None:
                        code = "i"  # counted, but the figure to sum is missing
                county = prep.record.values.get("county") if agg.by_county else None
                rec = prep.record
                subject = subject_of(rec) if self.policy.catalog.kind(rec.kind).date_field == "report_year" \
                    else (rec.kind, rec.id)
                contribution = (agg.id, year_of(rec, prep.date), county, code, amount, subject)
                aggregates.add(contribution)
                result.contributions.append(contribution)

    # --- preparation -------------------------------------------------------------------------

    def _prepare(self, ck: CompiledKind, rec: Record, d: dt.date, i: int, history: History,
                 review_date: dt.date | None = None, aggregates: AggregateTable | None = None) -> _Prepared:
        review_date = review_date or dt.date.today()
        aggregates = aggregates if aggregates is not None else AggregateTable()
        kp = self._kind_plans.get(id(ck))
        if kp is None:
            kp = self._kind_plans[id(ck)] = _KindPlan(ck, self.policy)
        values: dict[str, Any] = dict(rec.values)
        year = values.get("report_year")
        for key in kp.priors:
            values[key] = history.prior_value(rec, key)
        for key, agg in kp.aggregates:
            values[key] = (aggregates.value(agg.id, year, values.get("county") if agg.by_county else None,
                                            agg.sum is not None) if isinstance(year, int) else None)
        exact: dict[str, Any] = {}
        for key, spec, formula in kp.derived:
            values[key] = exact[key] = formula(values) if formula is not None else _derive(spec, values, rec, history)
        in_force = self._segments_in_force(ck, d)
        cum_missing: dict[int, list[int]] = {}
        for ci in kp.cumulative:
            if ci in in_force:
                key = in_force[ci].final.left
                spec = ck.derived.get(key.name) if isinstance(key, FieldRef) else None
                if isinstance(spec, Cumulative):
                    cum_missing[ci] = history.total(rec, spec)[1]
        fact: dict[str, Any] = {"_k": ck.kind, "_i": i, "_d": float(d.toordinal())}
        if isinstance(year, int):
            # Whether the year reported on has ended by the day of review: only then is a target final.
            fact["_closed"] = values["_closed"] = review_date > dt.date(year, 12, 31)
        for name in ck.fact_fields:
            v = values.get(name)
            if v is not None:
                t = type(v)
                fact[name] = v if t is bool or t is str else _encode(v)
        for key in ck.derived:
            v = values.get(key)
            if v is not None:
                try:
                    fact[key] = to_engine(v)
                except NotJudgeable:
                    values[key] = None
        prep = _Prepared(rec, d, values, in_force, fact, cum_missing, exact, history, aggregates)
        return prep

    def _versions_in_force(self, pack: CompiledPack, ck: CompiledKind, d: dt.date) -> list[tuple[int, _Version]]:
        """(check index, version) of the checks in force on `d`, in check order."""
        by_date = self._in_force_versions.setdefault(id(ck), {})
        found = by_date.get(d)
        if found is None:
            found = by_date[d] = []
            for ci, seg in self._segments_in_force(ck, d).items():
                version = self._versions.get(id(seg))
                if version is None:
                    version = self._versions[id(seg)] = _Version(pack, ck, ck.checks[ci], seg, self.policy.catalog)
                found.append((ci, version))
        return found

    def _segments_in_force(self, ck: CompiledKind, d: dt.date) -> dict[int, Segment]:
        """Check index -> the version in force on `d`, in check order (shared by records of that date)."""
        by_date = self._in_force.setdefault(id(ck), {})
        in_force = by_date.get(d)
        if in_force is None:
            found: dict[int, Segment] = {}
            for cc in ck.checks:
                for seg in cc.segments:
                    if seg.start <= d <= seg.end:
                        found[cc.index] = seg
            in_force = by_date[d] = dict(sorted(found.items()))
        return in_force

    # --- outcomes ----------------------------------------------------------------------------

    def _outcomes(self, pack: CompiledPack, ck: CompiledKind, batch: list[_Prepared]) -> list[dict[int, str]]:
        if self.engine == "python":
            return [reference_outcomes(ck, p) for p in batch]
        if self.engine == "durable":
            return self._by_situation(pack, ck, batch)
        return self._direct(pack, ck, batch)

    def _by_situation(self, pack: CompiledPack, ck: CompiledKind, batch: list[_Prepared]) -> list[dict[int, str]]:
        """Outcomes from durable-rules, asked once per situation of a check version (situations.py)."""
        table = self._situations.get(id(ck))
        if table is None:
            table = self._situations[id(ck)] = SituationTable(ck)
        answers = table.answers
        got: list[dict[int, str]] = [{} for _ in batch]
        pending: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
        direct: list[int] = []
        for i, prep in enumerate(batch):
            g = got[i]
            for ci, sit in situations_of(table, prep.in_force, prep.fact):
                if sit is None:
                    direct.append(i)
                    break
                code = answers.get(sit)
                if code is None:
                    pending.setdefault(sit, []).append((i, ci))
                else:
                    g[ci] = code
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
                    codes = [ck.rule_index[r][1] for _, r in again if r != "seen" and ck.rule_index[r][0] == ci]
                    if len(codes) != 1:
                        raise EngineError(f"durable-rules gave check {ci} of kind {ck.kind} outcomes {codes} for one "
                                          "situation: expected exactly one")
                table.remember(sit, codes[0])
                for i, c in pending[sit]:
                    got[i][c] = codes[0]
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
                        f"for checks in force {sorted(prep.in_force)}: expected exactly one each")
                got[i] = again[0]
        return got


def _gather(ck: CompiledKind, matches: list[tuple[int, str]], n: int) -> tuple[list[dict[int, str]], set[int]]:
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


class _KindPlan:
    """Per compiled kind, once: its derived values in order (formulas compiled), the prior-year
    figures and aggregates it reads, and its cumulative checks."""

    def __init__(self, ck: CompiledKind, policy: Policy):
        special = (Cumulative, Trajectory, Choice, Disagreement, AggregateRef, Difference)
        self.derived: list[tuple[str, Any, Callable[[dict[str, Any]], Decimal | None] | None]] = [
            (key, spec, None if isinstance(spec, special) else compile_number(spec))
            for key, spec in ck.derived.items() if not isinstance(spec, AggregateRef)]
        names: set[str] = set()
        for spec in ck.derived.values():
            names |= _names_in(spec)
        for cc in ck.checks:
            for seg in cc.segments:
                for conj in seg.rules.values():
                    for lit in conj:
                        names |= {k for k in lit[2:4] if isinstance(k, str)} if lit[0] in ("cmp", "ref") else {lit[1]}
        self.priors = sorted(n for n in names if PRIOR_SEP in n)
        all_aggregates = policy.aggregates()
        self.aggregates = [(key, all_aggregates[spec.id]) for key, spec in ck.derived.items()
                           if isinstance(spec, AggregateRef)]
        self.cumulative = [cc.index for cc in ck.checks if cc.check.nature == "cumulative"]


def _names_in(spec: Any) -> set[str]:
    """Field names a derived spec reads (prior-year references among them)."""
    if isinstance(spec, Trajectory):
        return _names_in(spec.base) | _names_in(spec.target)
    if isinstance(spec, (Choice, Disagreement)):
        return _names_in(spec.primary) | _names_in(spec.secondary)
    if isinstance(spec, Difference):
        return fields_of(spec.left) | fields_of(spec.right)
    if isinstance(spec, (Cumulative, AggregateRef)):
        return set()
    return fields_of(spec)


def _encode(v: Any) -> Any:
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, int):
        return to_engine(Decimal(v))
    if isinstance(v, Decimal):
        return to_engine(v)
    return None  # dates are never tested by literals


def _derive(spec: Any, values: dict[str, Any], rec: Record, history: History) -> Decimal | None:
    if isinstance(spec, Cumulative):
        return history.total(rec, spec)[0]
    if isinstance(spec, Trajectory):
        return trajectory_value(spec, values)
    if isinstance(spec, Choice):
        v = _figure(spec.primary, values)
        return v if v is not None else _figure(spec.secondary, values)
    if isinstance(spec, Disagreement):
        return disagreement(spec, values)
    if isinstance(spec, Difference):
        a, b = _figure(spec.left, values), _figure(spec.right, values)
        if a is None or b is None:
            return None
        try:
            return judged(a) - judged(b)
        except NotJudgeable:
            return None
    return evaluate_number(spec, values)


def _counted_notes(pack: CompiledPack, cc: CompiledCheck, prep: _Prepared) -> list[str]:
    """What a reviewer should know about a counted figure: lower records counted once though repeated,
    and those whose inclusion could not be judged (not counted)."""
    agg = pack.aggregates.get(f"{cc.pack_id}:{cc.check.counted}")
    year = prep.values.get("report_year")
    if agg is None or prep.aggregates is None or not isinstance(year, int):
        return []
    group = prep.aggregates.group(agg.id, year, prep.values.get("county") if agg.by_county else None)
    notes = []
    if group is not None and group.repeated:
        notes.append(f"统计说明:{group.repeated}份重复报送的下级记录(同一对象同一年度)只计一次")
    if group is not None and group.unknown:
        notes.append(f"统计说明:{group.unknown}条下级记录资料不足,无法判断是否计入,未计入")
    return notes


def _figure(e: Expr, values: dict[str, Any]) -> Decimal | None:
    if isinstance(e, AggregateRef):
        return None
    return evaluate_number(e, values)


def disagreement(spec: Disagreement, values: dict[str, Any]) -> Decimal:
    """1 if both figures are known and differ beyond the rounding of the one written by hand, else 0.

    A figure written as 4.5 stands for anything from 4.45 to 4.55: half a unit of its last written
    place. Both sides are compared at judging precision.
    """
    a, b = _figure(spec.primary, values), _figure(spec.secondary, values)
    if a is None or b is None:
        return Decimal(0)
    written = a if spec.written == "primary" else b
    exponent = written.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    tolerance = Decimal(5).scaleb(-places - 1)
    try:
        return Decimal(1) if abs(judged(a) - judged(b)) > tolerance else Decimal(0)
    except NotJudgeable:
        return Decimal(1)


def trajectory_value(t: Trajectory, values: dict[str, Any]) -> Decimal | None:
    """Straight line from the baseline (value, year) to the target at the due year."""
    base = evaluate_number(t.base, values)
    base_year = evaluate_number(t.base_year, values)
    target = evaluate_number(t.target, values)
    year = values.get("report_year")
    if base is None or base_year is None or target is None or not isinstance(year, int):
        return None
    span = Decimal(t.due_year) - base_year
    if span <= 0:
        return None
    frac = (Decimal(year) - base_year) / span
    frac = min(max(frac, Decimal(0)), Decimal(1))
    return CONTEXT.add(base, CONTEXT.multiply(CONTEXT.subtract(target, base), frac))


# --- the plain-Python reference --------------------------------------------------------------------

def reference_outcomes(ck: CompiledKind, prep: _Prepared) -> dict[int, str]:
    """The outcome code of every check in force, in plain Python (three-valued logic, exact decimal)."""
    out: dict[int, str] = {}
    for ci, seg in prep.in_force.items():
        out[ci] = segment_code(seg, prep.values)
    return out


def segment_status(seg: Segment, values: dict[str, Any]) -> str:
    return CODE_STATUS[segment_code(seg, values)]


def segment_code(seg: Segment, values: dict[str, Any]) -> str:
    """The outcome of one check version (compiler.CODE_STATUS), as the compiled rules define it."""
    from engine.policy.expressions import Compare

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


# --- explanation --------------------------------------------------------------------------------------

_NEEDED: dict[int, tuple[Segment, frozenset[str], frozenset[str]]] = {}  # id(segment) -> fields it reads


def _segment_fields(cc: CompiledCheck, seg: Segment, policy_catalog: Catalog) -> tuple[frozenset[str], frozenset[str]]:
    """The fields a check version reads, and those its baseline reads (once per version)."""
    cached = _NEEDED.get(id(seg))
    if cached is None:
        needed: set[str] = set(fields_of(cc.quantity))
        for e in (seg.applies, seg.final.left, seg.threshold, seg.due):
            if e is not None:
                needed |= fields_of(e)
        if cc.choice is not None:
            needed |= fields_of(cc.choice[2]) if not isinstance(cc.choice[2], AggregateRef) else set()
        baseline: set[str] = set(fields_of(cc.baseline)) if cc.baseline is not None else set()
        cached = _NEEDED[id(seg)] = (seg, frozenset(needed), frozenset(baseline))
    return cached[1], cached[2]


def _missing_fields(cc: CompiledCheck, seg: Segment, values: dict[str, Any], policy_catalog: Catalog,
                   invalid: dict[str, str] | None = None) -> list[str]:
    needed, baseline = _segment_fields(cc, seg, policy_catalog)
    if baseline and values.get("report_year") is not None:
        due = evaluate_condition(seg.due, values) if seg.due is not None else True
        if due is False:
            needed = needed | baseline
    out = []
    # With the parts at hand, a ready-made figure beside them is not missing (and vice versa).
    skip: set[str] = set()
    if cc.choice is not None and values.get(cc.choice[0]) is not None:
        skip = fields_of(cc.choice[2]) if not isinstance(cc.choice[2], AggregateRef) else set()
        if _figure(cc.choice[1], values) is None:
            skip = fields_of(cc.choice[1])
    for name in sorted(needed):
        if name.startswith("_") or name in skip:
            continue
        if values.get(name) is None:
            prior = prior_parts(name)
            base = prior[0] if prior else name
            f = policy_catalog.field(cc.check.subject, base)
            label = f"{f.label}({base})" if f else base
            if prior:
                out.append(f"{prior[1]}年度报告中的{label}")
            elif invalid and name in invalid:
                out.append(f"{label},{invalid[name]}")
            else:
                out.append(label)
    return out


EXCLUDED_MESSAGE = "{title}:不计入(实际值{value}{unit},未达到{op}{threshold}{unit}的计入标准)。"
_BASIS_NOTE = {"reported": "(按填报的现成数值判定,未按分项复核)", "counted": "(按下级记录统计数判定)"}


def _with_notes(text: str, extras: dict[str, Any], notes: list[str] | None) -> str:
    """The finding's sentence, then how its figure was obtained, counting notes and review reasons."""
    out = text + _BASIS_NOTE.get(extras.get("basis") or "", "")
    out += "".join(f"({n})" for n in notes or ())
    return out + "".join(f"【{r}】" for r in extras["review_reasons"])


class _Version:
    """What the findings of one check version share, prepared once: the operands to report, and
    per outcome code the fixed fields of the finding and its message."""

    def __init__(self, pack: CompiledPack, ck: CompiledKind | None, cc: CompiledCheck, seg: Segment,
                 catalog: Catalog):
        self.pack, self.cc, self.seg, self.catalog = pack, cc, seg, catalog
        formulas = {spec: key for key, spec in ck.derived.items()} if ck is not None else {}
        self.value = _operand(seg.final.left, formulas)
        self.threshold = _operand(seg.threshold, formulas)
        self.trajectory = _operand(seg.trajectory, formulas) if seg.trajectory is not None else None
        self.leads = tuple(cc.measure.lead_departments)
        self.version = (f"v{seg.version} ({seg.start}–{seg.end}); 阈值版本{seg.threshold_version}"
                        f"({seg.threshold_value.start}起"
                        f"{': ' + seg.threshold_value.reference if seg.threshold_value.reference else ''})"
                        + (f"; 修订{seg.amendment}" if seg.amendment else "")
                        + (f"; 取代{'、'.join(seg.supersedes)}" if seg.supersedes else ""))
        self._plans: dict[str, tuple[dict[str, Any], Message, bool]] = {}
        self._plain = cc.choice is None and cc.disagreement is None and cc.baseline is None

    def _plan(self, code: str) -> tuple[dict[str, Any], Message, bool]:
        plan = self._plans.get(code)
        if plan is None:
            cc, seg, check, pack = self.cc, self.seg, self.cc.check, self.pack
            status = CODE_STATUS[code]
            applies = ""
            if status == "not_applicable" and seg.applies is not None:
                labels = {n: f.label for n, f in self.catalog.kind(check.subject).fields.items()}
                applies = f"适用条件:{render(seg.applies, labels).strip('()')}"
            template_text = check.messages.get(status)  # type: ignore[call-overload]
            if code == "x":
                template_text = check.messages.get("not_applicable") or EXCLUDED_MESSAGE
            message = Message(status, check.title, unit=check.unit, op=check.op, approx=check.approx,
                              aspirational=check.aspirational, due=check.due, applies=applies,
                              interpretation=check.interpretation, template=template_text,
                              nature=check.nature)
            # Every field in Finding's order; those left None are filled per finding.
            template = dict(
                record_id=None, kind=None, record_name=None, source=None,
                pack=pack.id, document=pack.pack.meta.number, measure=cc.measure.measure,
                measure_title=cc.measure.title, section=cc.measure.section, check=cc.full_id,
                check_title=check.title, check_version=self.version, nature=check.nature, status=status,
                value=None, threshold=None, target=None,
                due=check.due, unit=check.unit, op=check.op, message=None, source_text=check.source,
                interpretation=check.interpretation, lead_departments=None,
                missing_fields=None, approx=check.approx, aspirational=check.aspirational, as_of=None,
                review=code in REVIEW_CODES, review_reasons=None, basis=None, reported=None, counted=None,
                baseline=None, baseline_year=None, baseline_source=None)
            trajectory = status in ("on_track", "behind_schedule") and seg.trajectory is not None
            plan = self._plans[code] = (template, message, trajectory)
        return plan

    def _own(self, prep: _Prepared, code: str) -> tuple[dict[str, Any], Any, Any, Any, list[str], str]:
        """(template, value, threshold, target, missing fields, message): a finding's own parts."""
        template, message, trajectory = self._plans.get(code) or self._plan(code)
        values = prep.values
        value = self.value(prep)
        threshold = self.threshold(prep)
        target = None
        if trajectory and self.trajectory is not None:
            target = threshold
            threshold = self.trajectory(prep)
        missing: list[str] = []
        if code == "i":
            missing = self._missing(prep)
        text = message.text
        if text is None:
            text = message.render(value, threshold, target, values.get("report_year"), missing)
        return template, value, threshold, target, missing, text

    def extras(self, prep: _Prepared, code: str, value: Any, threshold: Any) -> dict[str, Any]:
        """Review reasons, how the judged figure was obtained, the figures beside it, the baseline used."""
        out: dict[str, Any] = {"review_reasons": []}
        if self._plain and code not in REVIEW_CODES:
            return out
        cc, check, values = self.cc, self.cc.check, prep.values
        unit = "" if check.unit in (None, "%") else check.unit
        pct = check.unit == "%"

        def q(v: Any) -> str:
            return value_text(v) + ("%" if pct else unit)

        reasons: list[str] = []
        if cc.choice is not None and CODE_STATUS[code] not in ("not_applicable", "insufficient_data"):
            _, primary, secondary, b1, b2 = cc.choice
            pv = _figure(primary, values)
            sv = _figure(secondary, values)
            out["basis"] = b1 if pv is not None else (b2 if sv is not None else None)
            if b2 == "reported":
                out["reported"] = sv
            else:
                out["reported"], out["counted"] = pv, sv
            if b2 == "counted":
                out["notes"] = _counted_notes(self.pack, cc, prep)
            if cc.disagreement is not None and values.get(cc.disagreement) == 1:
                if b2 == "reported":
                    reasons.append(f"需人工复核:填报的现成数值{q(sv)}与按分项计算的{q(pv)}不一致(超出舍入误差)")
                else:
                    reasons.append(f"需人工复核:报告所列{q(pv)}与按下级记录统计的{q(sv)}不一致")
        soft = check.soft_on
        if code in REVIEW_CODES and soft is not None:
            if check.nature == "duty":
                reasons.append(f"需人工复核:原文为{soft.text},未落实的情形需结合实际判断")
            elif isinstance(value, Decimal) and isinstance(threshold, Decimal):
                band = soft.band_of(threshold)
                if abs(value - threshold) <= band:
                    reasons.append(f"需人工复核:原文为{soft.text},实际值{q(value)}在{q(threshold)}"
                                   f"±{value_text(band)}{'个百分点' if pct else unit}的范围内")
        if code in REVIEW_CODES and not reasons:
            reasons.append("需人工复核")
        out["review_reasons"] = reasons
        if cc.baseline is not None and CODE_STATUS[code] in ("on_track", "behind_schedule"):
            base = evaluate_number(cc.baseline, values)
            out["baseline"], out["baseline_year"] = base, cc.baseline_year
            source = prep.history.describe(prep.record, cc.baseline_year) if prep.history and cc.baseline_year else None
            if source is None and check.baseline is not None and check.baseline.reference is not None:
                source = f"参考值:{check.baseline.reference.source}"
            out["baseline_source"] = source
        return out

    def finding(self, prep: _Prepared, code: str, common: dict[str, Any]) -> Finding:
        """The finding of this version for a prepared record; `common` holds the record's own fields."""
        template, value, threshold, target, missing, text = self._own(prep, code)
        # Every field is built from validated records and compiled checks: no re-validation
        # (validation, then pydantic's construct loop, were most of the cost of a finding).
        d = template.copy()
        d.update(common)
        d["value"] = value if isinstance(value, _REPORTED) else None
        d["threshold"] = threshold if isinstance(threshold, _REPORTED) else None
        if target is not None:
            d["target"] = target if isinstance(target, Decimal) else None
        extras = self.extras(prep, code, d["value"], d["threshold"])
        notes = extras.pop("notes", None)
        d.update(extras)
        d["message"] = _with_notes(text, extras, notes)
        d["lead_departments"] = list(self.leads)
        d["missing_fields"] = missing
        return Finding.trusted(d)

    def parts(self, prep: _Prepared, code: str) -> tuple[Any, ...]:
        """The same finding as FindingParts: what finding() would hold, less what the record and the
        check version give (those are `prep.record` and `self.key`)."""
        _, value, threshold, target, missing, text = self._own(prep, code)
        value = value if isinstance(value, _REPORTED) else None
        threshold = threshold if isinstance(threshold, _REPORTED) else None
        extras = self.extras(prep, code, value, threshold)
        text = _with_notes(text, extras, extras.pop("notes", None))
        return (prep.record, self.key, CODE_STATUS[code], value, threshold,
                target if isinstance(target, Decimal) else None, prep.date, text, missing,
                code in REVIEW_CODES, extras)

    @property
    def key(self) -> tuple[Any, ...]:
        """The check version's fields of its findings, in VERSION_FIELDS order (one tuple, shared)."""
        key = self.__dict__.get("_key")
        if key is None:
            template = self._plan("c")[0]
            key = self.__dict__["_key"] = tuple(template[k] for k in VERSION_FIELDS)
        return key

    def _missing(self, prep: _Prepared) -> list[str]:
        """What a reviewer would have to supply for an insufficient_data finding to be judged."""
        cc, seg, check = self.cc, self.seg, self.cc.check
        missing = _missing_fields(cc, seg, prep.values, self.catalog, prep.record.invalid)
        cum_missing = prep.cum_missing.get(cc.index)
        if check.nature == "cumulative" and cum_missing:
            missing.append("、".join(f"{y}年" for y in cum_missing) + "的数据")
        if not missing and seg.due is not None and seg.trajectory is None:
            # A yes/no target has no trajectory: before its due year there is nothing to supply.
            missing = ([f"到期({check.due.year}年底)结果;定性目标期限未到,暂无法判定"]  # type: ignore[union-attr]
                       if check.nature == "duty" else
                       ["基期数据(同一主体基期年度的报告),无法测算进度"])
        if not missing and check.nature == "cumulative":
            missing = ["累计期内各年度数据"]
        if not missing and check.counted:
            missing = ["报告所列数值或可统计的下级记录(本批次与已存储的记录中均没有)"]
        if not missing:
            missing = ["可计算的数据(如除数为零)"]
        return missing


_REPORTED = (Decimal, bool)  # operand values a finding reports (text and dates are not)


def _operand(e: Expr, formulas: dict[Any, str]) -> Callable[[_Prepared], Any]:
    """formulas.value_of(e, prep.values) as a function made once per check version.

    A formula the preparation already computed (a derived key) is read from ``prep.exact``.
    """
    if isinstance(e, Const):
        const = e.value
        return lambda prep: const
    if isinstance(e, FieldRef):
        name = e.name

        def field_value(prep: _Prepared) -> Any:
            v = prep.values.get(name)
            t = type(v)
            if t is Decimal or t is bool or t is str or v is None:
                return v
            if isinstance(v, int) and not isinstance(v, bool):
                return Decimal(v)
            if isinstance(v, dt.date):
                return None
            return v
        return field_value
    try:
        key = formulas.get(e)
    except TypeError:  # an unhashable expression is never a derived key
        key = None
    if key is None:
        return lambda prep: evaluate_number(e, prep.values)
    derived = key

    def formula_value(prep: _Prepared) -> Any:
        exact = prep.exact
        return exact[derived] if derived in exact else evaluate_number(e, prep.values)
    return formula_value
