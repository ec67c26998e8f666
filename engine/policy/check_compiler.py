"""Compiling one check: its expressions parsed and its units, thresholds, figures and baseline checked,
then split into segments (one per version in force) each with its durable-rules rules.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine.policy.check_schema import Check
from engine.policy.compiled import (
    MAX_RULES_PER_CHECK,
    AggregateRef,
    Choice,
    CompiledCheck,
    Cumulative,
    Disagreement,
    Segment,
    Trajectory,
)
from engine.policy.expression_rewrites import _band, _choice, _fold, _prior_of, _review, _substitute
from engine.policy.expression_tree import And, Compare, Const, Expr, FieldRef, fields_of
from engine.policy.expressions import ExpressionError, Resolver, parse
from engine.policy.loader import MeasureSource, Pack
from engine.policy.supersession import Supersession
from engine.policy.three_valued import _Compiler, _segment_rules
from engine.records import units
from engine.records.catalog import MAX_MAGNITUDE


def _boundaries(check: Check, period_start: dt.date, period_end: dt.date) -> list[dt.date]:
    dates = {period_start}
    for v in check.threshold.values:
        if period_start < v.start <= period_end:
            dates.add(v.start)
    for a in check.amendments:
        if period_start < a.start <= period_end:
            dates.add(a.start)
    return sorted(dates)


def _compile_check(
    comp: _Compiler,
    pack: Pack,
    ms: MeasureSource,
    check: Check,
    index: int,
    resolver: Resolver,
    param_resolver: Resolver,
    err: Any,
    supersession: Supersession,
) -> CompiledCheck | None:
    catalog = comp.catalog
    kind = check.subject
    n_errors = [0]

    def fail(path: tuple, message: str, col: int | None = None, suggestion: str | None = None) -> None:
        n_errors[0] += 1
        err(path, message, col, suggestion)

    def parse_at(path: tuple, text: str, want: str, r: Resolver = resolver) -> Expr | None:
        try:
            return parse(text, r, want)
        except ExpressionError as exc:
            fail(path, exc.message, exc.column, exc.suggestion)
            return None

    want_q = "bool" if check.nature == "duty" else "number"
    quantity = parse_at(("quantity",), check.quantity, want_q)
    applies = parse_at(("applies_when",), check.applies_when, "bool") if check.applies_when else None
    amend_applies = []
    for ai, am in enumerate(check.amendments):
        amend_applies.append(
            parse_at(("amendments", ai, "applies_when"), am.applies_when, "bool") if am.applies_when else None
        )
    threshold_tmpl: Expr | None = None
    if check.threshold.expr:
        threshold_tmpl = parse_at(("threshold", "expr"), check.threshold.expr, "number", param_resolver)
    # Units: the quantity, the threshold and single-field quantities must agree.
    if check.unit and not units.is_known(check.unit):
        fail(("unit",), f"unknown unit {check.unit!r}")
    t_unit = check.threshold.unit or check.unit
    if (
        t_unit
        and check.unit
        and units.is_known(t_unit)
        and units.is_known(check.unit)
        and not units.compatible(t_unit, check.unit)
    ):
        fail(
            ("threshold", "unit"),
            f"threshold unit {t_unit} does not match the quantity's unit {check.unit}",
            suggestion=f"use {check.unit}",
        )
    elif t_unit and check.unit and t_unit != check.unit and units.compatible(t_unit, check.unit):
        fail(
            ("threshold", "unit"),
            f"threshold unit {t_unit} differs from the quantity's unit {check.unit}",
            suggestion=f"write the threshold in {check.unit}",
        )
    if isinstance(quantity, FieldRef):
        f = catalog.field(kind, quantity.name)
        if f and f.unit and check.unit and f.unit != check.unit:
            fail(
                ("unit",),
                f"the field {f.label}/{quantity.name} is in {f.unit} but the check says {check.unit}",
                suggestion=f"unit: {f.unit}",
            )
    for vi, v in enumerate(check.threshold.values):
        if not isinstance(v.value, bool) and (
            not v.value.is_finite() or (v.value != 0 and abs(v.value) < Decimal("0.000001"))
        ):
            fail(
                ("threshold", "values", vi, "value"),
                f"threshold {v.value} cannot be judged: values are judged "
                "to a millionth of their unit, and must be finite; use a smaller unit",
            )
        elif not isinstance(v.value, bool) and abs(v.value) > MAX_MAGNITUDE:
            fail(
                ("threshold", "values", vi, "value"),
                f"threshold {v.value} exceeds the judgeable magnitude {MAX_MAGNITUDE}; use a larger unit",
            )
        if check.nature == "duty" and not isinstance(v.value, bool):
            fail(("threshold", "values", vi, "value"), "a duty (yes/no) check needs true or false")
        if check.nature != "duty" and isinstance(v.value, bool):
            fail(("threshold", "values", vi, "value"), "a numeric check needs a number")
    if check.nature == "duty" and check.op not in ("==", "!="):
        fail(("op",), "a duty (yes/no) check compares with == or !=")
    has_due = check.due is not None
    if has_due and catalog.field(kind, "report_year") is None:
        fail(("due",), f"records of kind {kind} have no report_year, so a due date cannot be judged")
    if check.nature == "cumulative" and not isinstance(quantity, FieldRef):
        fail(("quantity",), "a cumulative target sums one yearly field: the quantity must be a field")
    reported: Expr | None = None
    if check.reported is not None:
        reported = parse_at(("reported",), check.reported, "number")
        if reported is not None and not isinstance(reported, FieldRef):
            fail(("reported",), "reported names one field of the record holding the ready-made figure")
        if isinstance(quantity, FieldRef):
            fail(
                ("reported",),
                "reported goes with a quantity computed from parts (a formula), not a single field",
                suggestion="write the quantity from the parts the office holds, e.g. a / b * 100",
            )
    counted: Expr | None = None
    if check.counted is not None:
        agg = comp.aggregates.get(check.counted)
        if agg is None:
            fail(
                ("counted",),
                f"no aggregate {check.counted!r} in this pack (declare it under a measure's aggregates:)",
            )
        elif agg.subject != kind:
            fail(
                ("counted",),
                f"aggregate {check.counted!r} is for {agg.subject} records, this check judges {kind}",
            )
        else:
            counted = FieldRef(comp.derived_key(AggregateRef(f"{pack.meta.id}:{agg.id}"), "_a"))
        if check.reported is not None:
            fail(("counted",), "a check takes either reported or counted, not both")
    if check.role == "inclusion" and check.soft_on is not None:
        fail(("soft",), "an inclusion rule decides what counts; soft wording belongs to the target it feeds")
    if check.baseline is not None and check.due is not None and check.baseline.year >= check.due.year:
        fail(
            ("baseline", "year"),
            f"the baseline year {check.baseline.year} is not before the due year {check.due.year}",
        )
    base_expr: Expr | None = None
    if check.baseline is not None:
        year = check.baseline.year
        src = (
            parse_at(("baseline", "value"), check.baseline.value, "number")
            if check.baseline.value
            else quantity
        )
        if src is not None:
            base_expr = _prior_of(src, year)
            if reported is not None and check.baseline.value is None:
                base_expr = _choice(comp, base_expr, _prior_of(reported, year))
            if check.baseline.reference is not None:
                base_expr = _choice(comp, base_expr, Const(check.baseline.reference.value))
    if quantity is None or n_errors[0]:
        return None

    period = check.in_force or ms.measure.in_force or pack.meta.period
    if not (pack.meta.period.start <= period.start and period.end <= pack.meta.period.end):
        fail(
            ("in_force",),
            f"period in force {period.start}–{period.end} lies outside the pack's "
            f"{pack.meta.period.start}–{pack.meta.period.end}",
        )
        return None
    full_id = f"{pack.meta.id}:{check.id}"
    period_end = period.end
    if full_id in supersession.cutoff:  # not judged from the day its successor comes into force
        period_end = min(period_end, supersession.cutoff[full_id][0] - dt.timedelta(days=1))
    bounds = _boundaries(check, period.start, period_end) if period_end >= period.start else []
    segments: list[Segment] = []
    q_used = quantity
    choice = None
    disagreement_key = None
    if check.nature == "cumulative":
        assert isinstance(quantity, FieldRef) and check.period is not None
        cum = Cumulative(quantity.name, check.period.first_year, check.period.last_year)
        q_used = FieldRef(comp.derived_key(cum, "_c"))
    elif reported is not None or counted is not None:
        second = reported if reported is not None else counted
        assert second is not None
        key = comp.derived_key(Choice(quantity, second), "_q")
        q_used = FieldRef(key)
        labels = ("computed", "reported") if reported is not None else ("stated", "counted")
        choice = (key, quantity, second, *labels)
        disagreement_key = comp.derived_key(
            Disagreement(quantity, second, "secondary" if reported is not None else "primary"), "_v"
        )
    disagree = Compare("==", FieldRef(disagreement_key), Const(Decimal(1))) if disagreement_key else None
    soft_band = check.soft_on is not None and check.nature != "duty"
    for si, start in enumerate(bounds):
        end = bounds[si + 1] - dt.timedelta(days=1) if si + 1 < len(bounds) else period_end
        tv = check.threshold.value_on(start)
        if tv is None:
            fail(
                ("threshold", "values"),
                f"no threshold value in force on {start}: the first value starts "
                f"{check.threshold.values[0].start}",
            )
            return None
        t_version, t_value = tv
        amend_no, app = 0, applies
        for ai, am in enumerate(check.amendments):
            if am.start <= start:
                amend_no, app = ai + 1, amend_applies[ai] if amend_applies[ai] is not None else app
        const = Const(t_value.value if isinstance(t_value.value, bool) else t_value.value)
        threshold = _fold(_substitute(threshold_tmpl, "param", const)) if threshold_tmpl else const
        final = Compare(check.op, q_used, threshold)
        # Final only once the year reported on has ended by the day of review (_closed, set per record
        # by the evaluator): a 2025 report reviewed in June 2025 is judged on pace, not finally.
        due = (
            And(
                (
                    Compare(">=", FieldRef("report_year"), Const(Decimal(check.due.year))),
                    Compare("==", FieldRef("_closed"), Const(True)),
                )
            )
            if check.due is not None
            else None
        )  # = has_due, spelled so mypy narrows check.due
        traj_key = None
        trajectory: Expr | None = None
        if has_due and check.pace == "flat":
            trajectory = threshold
        elif has_due and base_expr is not None:
            traj = Trajectory(
                base_expr,
                Const(Decimal(check.baseline.year)),  # type: ignore[union-attr]
                threshold,
                check.due.year,  # type: ignore[union-attr]
            )
            traj_key = comp.derived_key(traj, "_j")
            trajectory = FieldRef(traj_key)
        review = _review(disagree, _band(q_used, threshold, check) if soft_band else None)
        review_early = _review(
            disagree, _band(q_used, trajectory, check) if soft_band and trajectory else None
        )
        seg = Segment(
            version=si + 1,
            start=start,
            end=end,
            applies=app,
            threshold_value=t_value,
            threshold_version=t_version,
            amendment=amend_no,
            threshold=threshold,
            final=final,
            due=due,
            trajectory_key=traj_key,
            supersedes=tuple(supersession.replaces.get(full_id, ())),
            trajectory=trajectory,
            review=review,
            inclusion=check.role == "inclusion",
            soft_duty=check.soft_on is not None and check.nature == "duty",
            review_early=review_early,
        )
        seg.rules = _segment_rules(comp, index, si, seg)
        if len(seg.rules) > MAX_RULES_PER_CHECK:
            fail(("applies_when",), f"condition too complex: {len(seg.rules)} rules; split the check")
            return None
        segments.append(seg)
    flds: set[str] = set(fields_of(quantity))
    if applies is not None:
        flds |= fields_of(applies)
    for a in amend_applies:
        if a is not None:
            flds |= fields_of(a)
    if threshold_tmpl is not None:
        flds |= fields_of(threshold_tmpl) - {"param"}
    if reported is not None:
        flds |= fields_of(reported)
    if has_due:
        flds.add("report_year")
    return CompiledCheck(
        pack_id=pack.meta.id,
        pack_title=pack.meta.title,
        pack_number=pack.meta.number,
        measure=ms.measure,
        check=check,
        file=str(ms.path),
        line=ms.doc.line_of(("checks", ms.measure.checks.index(check), "id")),
        index=index,
        quantity=quantity,
        segments=segments,
        fields=flds,
        choice=choice,
        disagreement=disagreement_key,
        baseline=base_expr,
        baseline_year=check.baseline.year if check.baseline else None,
    )
