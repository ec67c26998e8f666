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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import cast

from engine.evaluation.build_findings import _BASIS_NOTE, EXCLUDED_MESSAGE, VersionFindings, _Version  # noqa: F401 (re-exported)
from engine.evaluation.compact_findings import CompactFindings, compact_status_counts, finding_parts  # noqa: F401 (re-exported)
from engine.evaluation.context import AggregateTable, Contribution, History, subject_of, year_of
from engine.evaluation.driver import EngineError, ShardedRuleset
from engine.evaluation.findings import Finding, Notice
from engine.evaluation.notices import notice_for
from engine.evaluation.outcomes import AskOutcomes, EngineName, _collect, _gather  # noqa: F401 (re-exported)
from engine.evaluation.prepare import (  # noqa: F401 (re-exported)
    Prepared,
    _derive,
    _encode,
    _KindPlan,
    _Prepared,
    disagreement,
    prepare,
    trajectory_value,
)
from engine.evaluation.reference import reference_outcomes, segment_code, segment_status  # noqa: F401
from engine.evaluation.situations import SituationTable
from engine.policy.compiler import CompiledKind, Segment
from engine.policy.policy import CompiledPack, Policy
from engine.records.model import Record
from engine.records.record import record_date


def _codes_getter(checks: list[int]) -> Callable[[dict[int, str]], tuple[str, ...]]:
    """The outcome codes of these checks, in this order, from check index -> code."""
    if len(checks) >= 2:
        return itemgetter(*checks)
    return lambda got: tuple([got[ci] for ci in checks])


@dataclass
class EvaluationResult:
    findings: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # With evaluate(parts=True), instead of findings: each finding in its compact form, the triple
    # (prepared record, check version, outcome code); finding_parts() expands them into FindingParts
    # (findings.py) with values and messages, for what is stored or shown.
    parts: CompactFindings | None = None
    # What the batch's lower records add to aggregates (the pipeline sums them across chunks).
    contributions: list[Contribution] = field(default_factory=list)


class Evaluator(AskOutcomes):
    """Evaluates records against a policy with durable-rules (or the plain-Python reference).

    Asking the engine for outcomes is AskOutcomes' (outcomes.py); notices are notice_for's (notices.py).
    """

    def __init__(self, policy: Policy, engine: EngineName = "durable", rules_date: dt.date | None = None):
        self.policy = policy
        self.engine = engine
        self.rules_date = (
            rules_date  # overrides every record's own date in choosing the rules (rarely wanted)
        )
        self._handles: dict[tuple[str, str], ShardedRuleset] = {}
        # id(compiled kind) -> record date -> check index -> segment in force (in check order)
        self._in_force: dict[int, dict[dt.date, dict[int, Segment]]] = {}
        self._in_force_sets: dict[tuple[tuple[int, int], ...], dict[int, Segment]] = {}  # by versions
        self._versions: dict[int, _Version] = {}  # id(segment) -> its findings' shared parts
        self._in_force_versions: dict[int, dict[dt.date, list[tuple[int, _Version]]]] = {}
        self._kind_plans: dict[int, _KindPlan] = {}  # id(compiled kind) -> what preparing a record needs
        self._situations: dict[int, SituationTable] = {}  # id(compiled kind) -> the engine's answers so far

    def evaluate(
        self,
        records: Sequence[Record],
        as_of: dt.date | None = None,
        history: History | None = None,
        parts: bool = False,
        *,
        rules_date: dt.date | None = None,
        aggregates: AggregateTable | None = None,
    ) -> EvaluationResult:
        """The findings of every record and check in force, and notices for records not judged.

        Two dates: each record is judged by the rules in force on its own date (its submission date,
        or the end of the year it reports on; ``rules_date`` overrides that for every record), and
        ``as_of`` is the day of review (default today): a year that has not ended by then is judged on
        pace (on_track / behind_schedule), never finally. Reports on years before the plan (the pack's
        ``baseline_period``) are baselines: they feed trajectories and prior-year figures and get a
        notice saying so, not findings.

        ``aggregates`` carries counts of lower records across calls (the pipeline passes one table for
        a whole run); records of the kinds counted are evaluated before those that read the counts.
        With ``parts`` the findings come in their compact form (``result.parts``: one triple of
        prepared record, check version and outcome code per finding) instead of Finding objects;
        ``finding_parts`` gives their values and messages when something stores or shows them.
        """
        as_of = as_of or dt.date.today()
        aggregates = aggregates if aggregates is not None else AggregateTable()
        if parts:
            # Compact findings leave a few containers a record for the cyclic collector, which runs
            # as usual: no collection is deferred to the caller.
            return self._evaluate(records, as_of, history, True, rules_date or self.rules_date, aggregates)
        # Finding models are many small acyclic objects: the collector, triggered again and again
        # while they are built, cost about a third of building them (measured); it is paused for
        # the call.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._evaluate(records, as_of, history, False, rules_date or self.rules_date, aggregates)
        finally:
            if enabled:
                gc.enable()

    def _evaluate(
        self,
        records: Sequence[Record],
        review_date: dt.date,
        history: History | None,
        parts: bool,
        rules_date: dt.date | None,
        aggregates: AggregateTable,
    ) -> EvaluationResult:
        result = EvaluationResult(parts=CompactFindings() if parts else None)
        if history is None:
            history = History()
            history.add_all(records)
        catalog = self.policy.catalog
        dates = [rules_date or record_date(rec, catalog) for rec in records]
        judged_by_any: set[int] = set()
        counted_kinds = {a.over for a in self.policy.aggregates().values()}
        order = sorted(
            ((pack, kind, ck) for pack in self.policy.packs for kind, ck in pack.kinds.items()),
            key=lambda t: t[1] not in counted_kinds,
        )
        for pack, kind, ck in order:
            period = pack.pack.meta.period
            batch: list[_Prepared] = []
            kp = self._kind_plans.get(id(ck))
            if kp is None:
                kp = self._kind_plans[id(ck)] = _KindPlan(ck, self.policy)
            segments = self._segments_in_force
            in_force_on: dict[dt.date, dict[int, Segment]] = {}  # this batch's record dates
            for ri, rec in enumerate(records):
                if rec.kind != kind:
                    continue
                d = dates[ri]
                if d is None or not period.contains(d):
                    continue
                judged_by_any.add(ri)
                segs = in_force_on.get(d)
                if segs is None:
                    segs = in_force_on[d] = segments(ck, d)
                batch.append(prepare(kp, ck, rec, d, len(batch), history, review_date, aggregates, segs))
            if not batch:
                continue
            outcomes = self._outcomes(pack, ck, batch)
            # record date -> (check index, version) in force, in check order, and a getter of their codes
            by_date: dict[
                dt.date, tuple[list[tuple[int, _Version]], Callable[[dict[int, str]], tuple[str, ...]]]
            ] = {}
            self._contribute(pack, ck, batch, outcomes, aggregates, result)
            add = result.parts.add if result.parts is not None else None
            for prep, got in zip(batch, outcomes, strict=True):
                if got.keys() != prep.in_force.keys():
                    raise EngineError(
                        f"record {prep.record.id}: outcomes for checks {sorted(got)}, "
                        f"checks in force {sorted(prep.in_force)}"
                    )
                found = by_date.get(prep.date)
                if found is None:
                    versions = self._versions_in_force(pack, ck, prep.date)
                    found = by_date[prep.date] = (versions, _codes_getter([ci for ci, _ in versions]))
                in_force, codes_of = found
                if add is not None:
                    add(prep, in_force, codes_of(got))
                    continue
                rec = prep.record
                common = {
                    "record_id": rec.id,
                    "kind": rec.kind,
                    "record_name": rec.name,
                    "source": rec.source,
                    "as_of": prep.date,
                }
                result.findings.extend(version.finding(prep, got[ci], common) for ci, version in in_force)
        for ri, rec in enumerate(records):
            if ri in judged_by_any:
                continue
            result.notices.append(notice_for(self.policy, rec, dates[ri]))
        return result

    def _contribute(
        self,
        pack: CompiledPack,
        ck: CompiledKind,
        batch: list[_Prepared],
        outcomes: list[dict[int, str]],
        aggregates: AggregateTable,
        result: EvaluationResult,
    ) -> None:
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
                # by_county requires a county field (aggregates.py), an enum of names (rules/records/kinds.yaml)
                county = cast("str | None", prep.record.values.get("county")) if agg.by_county else None
                rec = prep.record
                subject = (
                    subject_of(rec)
                    if self.policy.catalog.kind(rec.kind).date_field == "report_year"
                    else (rec.kind, rec.id)
                )
                contribution = (agg.id, year_of(rec, prep.date), county, code, amount, subject)
                aggregates.add(contribution)
                result.contributions.append(contribution)

    # --- preparation -------------------------------------------------------------------------

    def _prepare(
        self,
        ck: CompiledKind,
        rec: Record,
        d: dt.date,
        i: int,
        history: History,
        review_date: dt.date | None = None,
        aggregates: AggregateTable | None = None,
    ) -> _Prepared:
        review_date = review_date or dt.date.today()
        aggregates = aggregates if aggregates is not None else AggregateTable()
        kp = self._kind_plans.get(id(ck))
        if kp is None:
            kp = self._kind_plans[id(ck)] = _KindPlan(ck, self.policy)
        return prepare(kp, ck, rec, d, i, history, review_date, aggregates, self._segments_in_force(ck, d))

    def _versions_in_force(
        self, pack: CompiledPack, ck: CompiledKind, d: dt.date
    ) -> list[tuple[int, _Version]]:
        """(check index, version) of the checks in force on `d`, in check order."""
        by_date = self._in_force_versions.setdefault(id(ck), {})
        found = by_date.get(d)
        if found is None:
            found = by_date[d] = []
            for ci, seg in self._segments_in_force(ck, d).items():
                version = self._versions.get(id(seg))
                if version is None:
                    version = self._versions[id(seg)] = _Version(
                        pack, ck, ck.checks[ci], seg, self.policy.catalog
                    )
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
            # one dict per set of versions, whatever the date: the situation tables' plans (and the
            # records they keep) are per dict, so records of every date with these versions share one
            versions = tuple((ci, id(seg)) for ci, seg in sorted(found.items()))
            in_force = self._in_force_sets.get(versions)
            if in_force is None:
                in_force = self._in_force_sets[versions] = dict(sorted(found.items()))
            by_date[d] = in_force
        return in_force
