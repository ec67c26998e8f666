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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from engine.evaluation.driver import EngineError, ShardedRuleset
from engine.evaluation.findings import VERSION_FIELDS, Finding, Message, Notice
from engine.evaluation.formulas import compile_number, evaluate_condition, evaluate_number
from engine.evaluation.numbers import CONTEXT, NotJudgeable, to_engine
from engine.policy.compiler import CompiledCheck, CompiledKind, Cumulative, Segment, Trajectory
from engine.policy.expressions import Const, Expr, FieldRef, fields_of, render
from engine.policy.policy import CompiledPack, Policy
from engine.records.catalog import Catalog
from engine.records.model import Record, record_date

EngineName = Literal["durable", "python"]


@dataclass
class EvaluationResult:
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # With evaluate(parts=True), instead of findings: each finding as FindingParts (see findings.py).
    parts: list[tuple[Any, ...]] | None = None


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


class History:
    """Yearly values of each subject, for cumulative targets: (kind, id) -> year -> values."""

    def __init__(self) -> None:
        self._years: dict[tuple[str, str], dict[int, dict[str, Any]]] = defaultdict(dict)

    def add(self, record: Record) -> None:
        year = record.values.get("report_year")
        if isinstance(year, int):
            self._years[(record.kind, record.id)].setdefault(year, record.values)

    def add_all(self, records: Iterable[Record]) -> None:
        for r in records:
            self.add(r)

    def total(self, record: Record, cum: Cumulative) -> tuple[Decimal | None, list[int]]:
        """Sum of the field from the first year of the period to the record's year; missing years."""
        year = record.values.get("report_year")
        if not isinstance(year, int) or year < cum.first_year:
            return None, []
        years = self._years.get((record.kind, record.id), {})
        total, missing = Decimal(0), []
        for y in range(cum.first_year, min(year, cum.last_year) + 1):
            src = record.values if y == year else years.get(y, {})
            v = src.get(cum.field)
            if v is None:
                missing.append(y)
            else:
                total += v
        return (None if missing else total), missing


class Evaluator:
    """Evaluates records against a policy with durable-rules (or the plain-Python reference)."""

    def __init__(self, policy: Policy, engine: EngineName = "durable"):
        self.policy = policy
        self.engine = engine
        self._handles: dict[tuple[str, str], ShardedRuleset] = {}
        # id(compiled kind) -> record date -> check index -> segment in force (in check order)
        self._in_force: dict[int, dict[dt.date, dict[int, Segment]]] = {}
        self._versions: dict[int, _Version] = {}  # id(segment) -> its findings' shared parts
        self._in_force_versions: dict[int, dict[dt.date, list[tuple[int, _Version]]]] = {}
        self._kind_plans: dict[int, _KindPlan] = {}  # id(compiled kind) -> what preparing a record needs

    def _handle(self, pack: CompiledPack, ck: CompiledKind) -> ShardedRuleset:
        key = (pack.id, ck.kind)
        if key not in self._handles:
            self._handles[key] = ShardedRuleset(f"{pack.id.replace('-', '_')}_{ck.kind}", ck.shards)
        return self._handles[key]

    def evaluate(self, records: Sequence[Record], as_of: dt.date | None = None,
                 history: History | None = None, parts: bool = False) -> EvaluationResult:
        """The findings of every record and check in force, and notices for records not judged.

        With ``parts`` the findings come as FindingParts tuples (``result.parts``) instead of Finding
        objects: what the store keeps, without building models nobody reads (a run that prints
        only counts).
        """
        # Findings are many small acyclic objects: the cyclic collector, triggered again and again
        # while they are built, cost about a third of the evaluation (measured); it is paused for
        # the call and runs normally afterwards.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._evaluate(records, as_of, history, parts)
        finally:
            if enabled:
                gc.enable()

    def _evaluate(self, records: Sequence[Record], as_of: dt.date | None,
                  history: History | None, parts: bool = False) -> EvaluationResult:
        result = EvaluationResult(parts=[] if parts else None)
        if history is None:
            history = History()
            history.add_all(records)
        judged_by_any: set[int] = set()
        for pack in self.policy.packs:
            period = pack.pack.meta.period
            for kind, ck in pack.kinds.items():
                batch: list[_Prepared] = []
                for ri, rec in enumerate(records):
                    if rec.kind != kind:
                        continue
                    d = as_of or record_date(rec, self.policy.catalog)
                    if d is None or not period.contains(d):
                        continue
                    judged_by_any.add(ri)
                    batch.append(self._prepare(ck, rec, d, len(batch), history))
                if not batch:
                    continue
                outcomes = self._outcomes(pack, ck, batch)
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
            d = as_of or record_date(rec, self.policy.catalog)
            has_kind = any(rec.kind in p.kinds for p in self.policy.packs)
            if not has_kind:
                msg = f"没有适用于“{rec.kind}”类对象的规则 (no rules for kind {rec.kind})"
            elif d is None:
                spec = self.policy.catalog.kind(rec.kind)
                msg = (f"缺少{spec.fields[spec.date_field].label},无法确定适用的规则版本;"
                       "请补充或使用 --as-of 指定评估日期")
            else:
                periods = "、".join(f"{p.pack.meta.number}({p.pack.meta.period.start}至{p.pack.meta.period.end})"
                                   for p in self.policy.packs)
                msg = f"记录日期{d}不在任何政策的有效期内:{periods};未使用过期或未生效的规则评估"
            result.notices.append(Notice(record_id=rec.id, kind=rec.kind, source=rec.source, message=msg))
        return result

    # --- preparation -------------------------------------------------------------------------

    def _prepare(self, ck: CompiledKind, rec: Record, d: dt.date, i: int, history: History) -> _Prepared:
        kp = self._kind_plans.get(id(ck))
        if kp is None:
            kp = self._kind_plans[id(ck)] = _KindPlan(ck)
        values: dict[str, Any] = dict(rec.values)
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
        return _Prepared(rec, d, values, in_force, fact, cum_missing, exact)

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
    """Per compiled kind, once: its derived values in order (formulas compiled) and its cumulative checks."""

    def __init__(self, ck: CompiledKind):
        self.derived: list[tuple[str, Any, Callable[[dict[str, Any]], Decimal | None] | None]] = [
            (key, spec, None if isinstance(spec, (Cumulative, Trajectory)) else compile_number(spec))
            for key, spec in ck.derived.items()]
        self.cumulative = [cc.index for cc in ck.checks if cc.check.nature == "cumulative"]


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
    return evaluate_number(spec, values)


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
    """The status of every check in force, in plain Python (three-valued logic, exact decimal)."""
    out: dict[int, str] = {}
    for ci, seg in prep.in_force.items():
        out[ci] = segment_status(seg, prep.values)
    return out


def segment_status(seg: Segment, values: dict[str, Any]) -> str:
    app = True if seg.applies is None else evaluate_condition(seg.applies, values)
    if app is False:
        return "not_applicable"
    if app is None:
        return "insufficient_data"
    if seg.due is not None:
        due = evaluate_condition(seg.due, values)
        if due is None:
            return "insufficient_data"
        if due is False:
            if seg.trajectory_key is None:
                return "insufficient_data"
            from engine.policy.expressions import Compare

            tr = evaluate_condition(Compare(seg.final.op, seg.final.left, FieldRef(seg.trajectory_key)), values)
            return "insufficient_data" if tr is None else ("on_track" if tr else "behind_schedule")
    fin = evaluate_condition(seg.final, values)
    if fin is None:
        return "insufficient_data"
    return "compliant" if fin else "non_compliant"


# --- explanation --------------------------------------------------------------------------------------

_NEEDED: dict[int, tuple[Segment, frozenset[str], frozenset[str]]] = {}  # id(segment) -> fields it reads


def _segment_fields(cc: CompiledCheck, seg: Segment, policy_catalog: Catalog) -> tuple[frozenset[str], frozenset[str]]:
    """The fields a check version reads, and those its baseline reads (once per version)."""
    cached = _NEEDED.get(id(seg))
    if cached is None:
        needed: set[str] = set()
        for e in (seg.applies, seg.final.left, seg.threshold, seg.due):
            if e is not None:
                needed |= fields_of(e)
        baseline: set[str] = set()
        if seg.trajectory_key is not None and cc.check.baseline is not None:
            for part in (cc.check.baseline.value, cc.check.baseline.year):
                if isinstance(part, str):
                    from engine.policy.compiler import _resolver
                    from engine.policy.expressions import parse

                    baseline |= fields_of(parse(part, _resolver(policy_catalog, cc.check.subject), None))
        cached = _NEEDED[id(seg)] = (seg, frozenset(needed), frozenset(baseline))
    return cached[1], cached[2]


def _missing_fields(cc: CompiledCheck, seg: Segment, values: dict[str, Any], policy_catalog: Catalog) -> list[str]:
    needed, baseline = _segment_fields(cc, seg, policy_catalog)
    if baseline and values.get("report_year") is not None:
        due = evaluate_condition(seg.due, values) if seg.due is not None else True
        if due is False:
            needed = needed | baseline
    out = []
    for name in sorted(needed):
        if name.startswith("_"):
            continue
        if values.get(name) is None:
            f = policy_catalog.field(cc.check.subject, name)
            out.append(f"{f.label}({name})" if f else name)
    return out


class _Version:
    """What the findings of one check version share, prepared once: the operands to report, and
    per status the fixed fields of the finding and its message."""

    def __init__(self, pack: CompiledPack, ck: CompiledKind | None, cc: CompiledCheck, seg: Segment,
                 catalog: Catalog):
        self.pack, self.cc, self.seg, self.catalog = pack, cc, seg, catalog
        formulas = {spec: key for key, spec in ck.derived.items()} if ck is not None else {}
        self.value = _operand(seg.final.left, formulas)
        self.threshold = _operand(seg.threshold, formulas)
        self.leads = tuple(cc.measure.lead_departments)
        self.version = (f"v{seg.version} ({seg.start}–{seg.end}); 阈值版本{seg.threshold_version}"
                        f"({seg.threshold_value.start}起"
                        f"{': ' + seg.threshold_value.reference if seg.threshold_value.reference else ''})"
                        + (f"; 修订{seg.amendment}" if seg.amendment else "")
                        + (f"; 取代{'、'.join(seg.supersedes)}" if seg.supersedes else ""))
        self._plans: dict[str, tuple[dict[str, Any], Message, bool]] = {}

    def _plan(self, status: str) -> tuple[dict[str, Any], Message, bool]:
        plan = self._plans.get(status)
        if plan is None:
            cc, seg, check, pack = self.cc, self.seg, self.cc.check, self.pack
            applies = ""
            if status == "not_applicable" and seg.applies is not None:
                labels = {n: f.label for n, f in self.catalog.kind(check.subject).fields.items()}
                applies = f"适用条件:{render(seg.applies, labels).strip('()')}"
            message = Message(status, check.title, unit=check.unit, op=check.op, approx=check.approx,
                              aspirational=check.aspirational, due=check.due, applies=applies,
                              interpretation=check.interpretation,
                              template=check.messages.get(status),  # type: ignore[arg-type]
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
                review=False, review_reasons=None, basis=None, reported=None, counted=None, baseline=None,
                baseline_year=None, baseline_source=None)
            trajectory = status in ("on_track", "behind_schedule") and seg.trajectory_key is not None
            plan = self._plans[status] = (template, message, trajectory)
        return plan

    def _own(self, prep: _Prepared, status: str) -> tuple[dict[str, Any], Any, Any, Any, list[str], str]:
        """(template, value, threshold, target, missing fields, message): a finding's own parts."""
        template, message, trajectory = self._plans.get(status) or self._plan(status)
        values = prep.values
        value = self.value(prep)
        threshold = self.threshold(prep)
        target = None
        if trajectory:
            target = threshold
            threshold = values.get(self.seg.trajectory_key)  # type: ignore[arg-type]
        missing: list[str] = []
        if status == "insufficient_data":
            missing = self._missing(prep)
        text = message.text
        if text is None:
            text = message.render(value, threshold, target, values.get("report_year"), missing)
        return template, value, threshold, target, missing, text

    def finding(self, prep: _Prepared, status: str, common: dict[str, Any]) -> Finding:
        """The finding of this version for a prepared record; `common` holds the record's own fields."""
        template, value, threshold, target, missing, text = self._own(prep, status)
        # Every field is built from validated records and compiled checks: no re-validation
        # (validation, then pydantic's construct loop, were most of the cost of a finding).
        d = template.copy()
        d.update(common)
        d["value"] = value if isinstance(value, _REPORTED) else None
        d["threshold"] = threshold if isinstance(threshold, _REPORTED) else None
        if target is not None:
            d["target"] = target if isinstance(target, Decimal) else None
        d["message"] = text
        d["lead_departments"] = list(self.leads)
        d["missing_fields"] = missing
        d["review_reasons"] = []
        return Finding.trusted(d)

    def parts(self, prep: _Prepared, status: str) -> tuple[Any, ...]:
        """The same finding as FindingParts: what finding() would hold, less what the record and the
        check version give (those are `prep.record` and `self.key`)."""
        _, value, threshold, target, missing, text = self._own(prep, status)
        return (prep.record, self.key, status, value if isinstance(value, _REPORTED) else None,
                threshold if isinstance(threshold, _REPORTED) else None,
                target if isinstance(target, Decimal) else None, prep.date, text, missing)

    @property
    def key(self) -> tuple[Any, ...]:
        """The check version's fields of its findings, in VERSION_FIELDS order (one tuple, shared)."""
        key = self.__dict__.get("_key")
        if key is None:
            template = self._plan("compliant")[0]
            key = self.__dict__["_key"] = tuple(template[k] for k in VERSION_FIELDS)
        return key

    def _missing(self, prep: _Prepared) -> list[str]:
        """What a reviewer would have to supply for an insufficient_data finding to be judged."""
        cc, seg, check = self.cc, self.seg, self.cc.check
        missing = _missing_fields(cc, seg, prep.values, self.catalog)
        cum_missing = prep.cum_missing.get(cc.index)
        if check.nature == "cumulative" and cum_missing:
            missing.append("、".join(f"{y}年" for y in cum_missing) + "的数据")
        if not missing and seg.due is not None and seg.trajectory_key is None:
            # A yes/no target has no trajectory: before its due year there is nothing to supply.
            missing = ([f"到期({check.due.year}年底)结果;定性目标期限未到,暂无法判定"]  # type: ignore[union-attr]
                       if check.nature == "duty" else ["基期数据(基期值、基期年度),无法测算进度"])
        if not missing and check.nature == "cumulative":
            missing = ["累计期内各年度数据"]
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
