"""Compiling checks into durable-rules rulesets.

Each check becomes a set of durable-rules rules, one per way a record can reach each status, such
that for any record exactly one of them matches (``docs/engine.md`` explains why):

* Conditions are judged in three-valued logic: true, false, or *unknown* when a field they need is
  missing. ``T(e)``, ``F(e)`` and ``U(e)`` below each produce a list of conjunctions of literal tests,
  mutually exclusive by construction — durable-rules fires an ``$or`` once per true branch, and a
  missing field matches neither a test nor its negation, so ORs are never handed to it.
* Arithmetic never reaches the engine (C doubles misjudge values on a threshold): every arithmetic
  sub-expression becomes a *derived* fact field computed in exact decimal by the evaluator; the
  engine compares fields and constants only. Every field a literal touches is guarded by ``$ex``
  (a field-to-field comparison with the right side missing matches anything).
* Every rule tests ``_k == <kind>`` positively, so no rule can match durable's own state fact
  (a rule made of negative tests only loops forever), and every check version is guarded by the
  record's date (``_d``) so only the version in force can fire.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine.policy.aggregates import compile_aggregates  # noqa: F401 (re-exported)
from engine.policy.compiled import (  # noqa: F401 (re-exported)
    _DURABLE_OP,
    _FLIP,
    _NEG,
    CAP,
    CODE_STATUS,
    MAX_RULES_PER_CHECK,
    REVIEW_CODES,
    STATUS_CODE,
    AggregateRef,
    Choice,
    CompiledAggregate,
    CompiledCheck,
    CompiledKind,
    Conj,
    Cumulative,
    Difference,
    Disagreement,
    Dnf,
    Literal_,
    Segment,
    Trajectory,
)
from engine.policy.expressions import (
    PRIOR_SEP,
    And,
    Arith,
    Compare,
    Const,
    Expr,
    ExpressionError,
    FieldRef,
    Neg,
    Or,
    Resolver,
    fields_of,
    parse,
)
from engine.policy.loader import MeasureSource, Pack, RuleError
from engine.policy.schema import Check
from engine.policy.supersession import Supersession, supersessions  # noqa: F401
from engine.policy.three_valued import (  # noqa: F401 (re-exported)
    MAX_ALPHA_STACK,
    _Compiler,
    _consistent,
    _const_compare,
    _prod,
    _segment_rules,
    _sort_key,
    literal_json,
    stack_bound,
)
from engine.records import units
from engine.records.catalog import MAX_MAGNITUDE, Catalog

# --- checks -> segments -> rules -------------------------------------------------------------------


def _substitute(e: Expr, name: str, value: Expr) -> Expr:
    if isinstance(e, FieldRef):
        return value if e.name == name else e
    if isinstance(e, Arith):
        return Arith(e.op, _substitute(e.left, name, value), _substitute(e.right, name, value))
    if isinstance(e, Neg):
        return Neg(_substitute(e.operand, name, value))
    return e


def _fold(e: Expr) -> Expr:
    """Fold constant arithmetic (200 * 1.5 -> 300) so constants stay constants."""
    from engine.policy.formulas import evaluate_number

    if isinstance(e, Arith):
        left, right = _fold(e.left), _fold(e.right)
        if isinstance(left, Const) and isinstance(right, Const):
            v = evaluate_number(Arith(e.op, left, right), {})
            if v is not None:
                return Const(v)
        return Arith(e.op, left, right)
    if isinstance(e, Neg):
        inner = _fold(e.operand)
        if isinstance(inner, Const) and isinstance(inner.value, Decimal):
            return Const(-inner.value)
        return Neg(inner)
    return e


def _boundaries(check: Check, period_start: dt.date, period_end: dt.date) -> list[dt.date]:
    dates = {period_start}
    for v in check.threshold.values:
        if period_start < v.start <= period_end:
            dates.add(v.start)
    for a in check.amendments:
        if period_start < a.start <= period_end:
            dates.add(a.start)
    return sorted(dates)


def compile_pack(
    pack: Pack, catalog: Catalog, supersession: Supersession | None = None
) -> tuple[dict[str, CompiledKind], list[RuleError]]:
    errors: list[RuleError] = []
    by_kind: dict[str, list[tuple[MeasureSource, Check, int]]] = {}
    seen_ids: dict[str, str] = {}
    for ms in pack.measures:
        for ci, check in enumerate(ms.measure.checks):
            line = ms.doc.line_of(("checks", ci, "id"))
            if check.id in seen_ids:
                errors.append(
                    RuleError(
                        str(ms.path),
                        line,
                        f"checks[{ci}].id",
                        f"duplicate check id {check.id!r} (also in {seen_ids[check.id]})",
                        suggestion="give every check an id unique in the pack",
                    )
                )
                continue
            seen_ids[check.id] = f"{ms.path.name}:{line}"
            by_kind.setdefault(check.subject, []).append((ms, check, ci))
    out: dict[str, CompiledKind] = {}
    for kind, items in by_kind.items():
        if kind not in catalog.kinds:
            for ms, _check, ci in items:
                errors.append(
                    RuleError(
                        str(ms.path),
                        ms.doc.line_of(("checks", ci, "subject")),
                        f"checks[{ci}].subject",
                        f"no record vocabulary for kind {kind!r}",
                    )
                )
            continue
        ck, errs = compile_kind(pack, kind, items, catalog, supersession)
        errors.extend(errs)
        if ck is not None:
            out[kind] = ck
    return out, errors


def _resolver(catalog: Catalog, kind: str, extra: dict[str, str] | None = None) -> Resolver:
    def type_of(name: str) -> str:
        f = catalog.field(kind, name)
        assert f is not None
        return {
            "number": "number",
            "integer": "number",
            "boolean": "bool",
            "text": "text",
            "enum": "text",
            "date": "date",
        }[f.type]

    return Resolver(
        lambda n: catalog.resolve_field(kind, n), type_of, lambda n: catalog.suggest_field(kind, n), extra
    )


def compile_kind(
    pack: Pack,
    kind: str,
    items: list[tuple[MeasureSource, Check, int]],
    catalog: Catalog,
    supersession: Supersession | None = None,
) -> tuple[CompiledKind | None, list[RuleError]]:
    comp = _Compiler(kind, catalog, {a.id: a for ms in pack.measures for a in ms.measure.aggregates})
    errors: list[RuleError] = []
    checks: list[CompiledCheck] = []
    resolver = _resolver(catalog, kind)
    param_resolver = _resolver(catalog, kind, {"param": "number"})
    for ms, check, ci in items:
        base = ("checks", ci)

        def err(
            path: tuple,
            message: str,
            col: int | None = None,
            suggestion: str | None = None,
            ms: MeasureSource = ms,
            base: tuple = base,
        ) -> None:
            errors.append(
                RuleError(
                    str(ms.path),
                    ms.doc.line_of(base + path),
                    ".".join(map(str, base + path)),
                    message,
                    col,
                    suggestion,
                )
            )

        try:
            cc = _compile_check(
                comp,
                pack,
                ms,
                check,
                len(checks),
                resolver,
                param_resolver,
                err,
                supersession or Supersession(),
            )
        except ExpressionError as exc:
            err((), exc.message, exc.column, exc.suggestion)
            continue
        if cc is not None:
            checks.append(cc)
    if errors:
        return None, errors
    rule_index: dict[str, tuple[int, str]] = {}
    guard = {"_k": kind}
    # Every fact matches this rule, so no asserted record can go unhandled (durable raises on a
    # message that matches nothing, and deleting such a sid crashes it).
    seen = {"all": [{"m": {"$and": [guard, {"$ex": {"_i": 1}}]}}], "cap": CAP}
    shards: list[dict[str, Any]] = [{"seen": seen}]
    for cc in checks:
        rules: dict[str, Any] = {}
        for seg in cc.segments:
            for name, conj in seg.rules.items():
                lits = [
                    guard,
                    {"$gte": {"_d": float(seg.start.toordinal())}},
                    {"$lte": {"_d": float(seg.end.toordinal())}},
                ]
                lits += [literal_json(lit) for lit in sorted(conj, key=_sort_key)]
                rules[name] = {"all": [{"m": {"$and": lits}}], "cap": CAP}
                _, _, code, _ = name.split(".")
                rule_index[name] = (cc.index, code)
        if stack_bound({**shards[-1], **rules}) > MAX_ALPHA_STACK and len(shards[-1]) > 1:
            shards.append({"seen": seen})
        shards[-1].update(rules)
        if stack_bound(shards[-1]) > MAX_ALPHA_STACK:
            ms = next(m for m in pack.measures if m.measure is cc.measure)
            errors.append(
                RuleError(
                    str(ms.path),
                    cc.line,
                    f"checks.{cc.check.id}",
                    "condition too complex for durable-rules' alpha network; split the check",
                )
            )
    if errors:
        return None, errors
    ruleset = {name: rule for shard in shards for name, rule in shard.items()}
    # The fact carries only what literals test: record fields by name, derived values by key.
    keys = {
        k
        for cc in checks
        for seg in cc.segments
        for conj in seg.rules.values()
        for lit in conj
        for k in (lit[1:2] if lit[0] in ("ex", "nex") else lit[2:3] + (lit[3:4] if lit[0] == "ref" else ()))
    }
    fact_fields = {k for k in keys if not k.startswith("_")}
    return CompiledKind(
        kind=kind,
        checks=checks,
        derived=comp.derived,
        fact_fields=sorted(fact_fields),
        ruleset=ruleset,
        rule_index=rule_index,
        shards=shards,
    ), []


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


def _prior_of(e: Expr, year: int) -> Expr:
    """The same formula over the subject's figures of `year` (every field read as prior(field, year))."""
    if isinstance(e, FieldRef):
        return e if PRIOR_SEP in e.name or e.name == "report_year" else FieldRef(f"{e.name}{PRIOR_SEP}{year}")
    if isinstance(e, Arith):
        return Arith(e.op, _prior_of(e.left, year), _prior_of(e.right, year))
    if isinstance(e, Neg):
        return Neg(_prior_of(e.operand, year))
    return e


def _choice(comp: _Compiler, primary: Expr, secondary: Expr) -> Expr:
    return FieldRef(comp.derived_key(Choice(primary, secondary), "_q"))


def _band(q: Expr, around: Expr | None, check: Check) -> Expr | None:
    """Within the soft band around `around`: around - band <= q <= around + band."""
    if around is None or check.soft_on is None:
        return None
    band = check.soft_on.band
    if band.endswith("%"):
        width: Expr = Arith("*", around, Const(Decimal(band[:-1]) / 100))
        if isinstance(around, Const) and isinstance(around.value, Decimal):
            width = Const(abs(around.value) * Decimal(band[:-1]) / 100)
    else:
        width = Const(Decimal(band))
    return And(
        (
            Compare(">=", q, _fold(Arith("-", around, width))),
            Compare("<=", q, _fold(Arith("+", around, width))),
        )
    )


def _review(disagree: Expr | None, band: Expr | None) -> Expr | None:
    parts = tuple(p for p in (disagree, band) if p is not None)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Or(parts)
