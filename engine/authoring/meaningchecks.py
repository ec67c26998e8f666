"""Lint of what the rules mean: enum values and conditions that can never be true, undeclared soft
wording, a quantity's unit unlike the check's, overlapping checks that cannot both be right, and
periods, values and amendments that never take effect."""

from __future__ import annotations

import datetime as dt
import difflib
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.authoring.conditions import _can_be_true, _enum_values, _unit_of
from engine.authoring.filechecks import _key_column
from engine.policy.compiler import CompiledCheck, CompiledKind, Segment, _Compiler
from engine.policy.expression_text import render
from engine.policy.expression_tree import Const, FieldRef
from engine.policy.loader import Pack, RuleError
from engine.policy.soft import soft_words_in
from engine.records import units
from engine.records.catalog import Catalog


def _check_err(
    cc: CompiledCheck, path: tuple, message: str, suggestion: str, ms_doc: Any = None
) -> RuleError:
    ci = cc.measure.checks.index(cc.check)
    doc = ms_doc
    line = doc.line_of(("checks", ci, *path)) if doc is not None else cc.line
    key = next((str(x) for x in reversed(path) if isinstance(x, str)), "id")
    return RuleError(
        cc.file,
        line,
        ".".join(map(str, ("checks", ci, *path))),
        message,
        _key_column(cc.file, line, key),
        suggestion,
    )


def _meaning(pack: Pack, ck: CompiledKind, catalog: Catalog) -> list[RuleError]:
    out: list[RuleError] = []
    comp = _Compiler(ck.kind, catalog)
    docs = {str(ms.path): ms.doc for ms in pack.measures}
    for cc in ck.checks:
        doc = docs.get(cc.file)
        # Enum values that no record can have.
        seen_amend: set[int] = set()
        for seg in cc.segments:
            if seg.applies is None or seg.amendment in seen_amend:
                continue
            seen_amend.add(seg.amendment)
            path: tuple = (
                ("applies_when",) if seg.amendment == 0 else ("amendments", seg.amendment - 1, "applies_when")
            )
            for fname, value, choices in _enum_values(seg.applies, catalog, ck.kind):
                spec = catalog.field(ck.kind, fname)
                close = difflib.get_close_matches(value, choices, n=1, cutoff=0.3)
                out.append(
                    _check_err(
                        cc,
                        path,
                        f"{spec.label if spec else fname}/{fname} 没有取值 {value!r},该比较永远不成立 "
                        f"(value not among the field's choices)",
                        (f"did you mean {close[0]!r}? " if close else "") + f"可选值: {'、'.join(choices)}",
                        doc,
                    )
                )
            if not _can_be_true(comp, [seg.applies], catalog, ck.kind):
                out.append(
                    _check_err(
                        cc,
                        path,
                        f"适用条件永远不成立 (condition can never be true): {render(seg.applies)}",
                        "核对比较方向和数值,如 x > 5 and x < 3 没有任何取值能满足",
                        doc,
                    )
                )
        # Soft wording in the source sentence must be declared (or weighed and set aside with a note).
        soft_found = soft_words_in(cc.check.source)
        if soft_found and cc.check.soft is None:
            words = "、".join(f"“{w}”" for w in soft_found)
            out.append(
                _check_err(
                    cc,
                    ("source",),
                    f"原文含软性用语{words},须写 soft (source holds soft wording: "
                    "results near the line need review)",
                    f"soft: {{word: {soft_found[0]}}}  或 soft: {{words: [], note: 说明为何不适用}}",
                    doc,
                )
            )
        # Unit of a computed quantity.
        q_unit = _unit_of(cc.quantity, catalog, ck.kind)
        if (
            q_unit
            and cc.check.unit
            and not isinstance(cc.quantity, FieldRef)
            and q_unit != cc.check.unit
            and units.is_known(q_unit)
        ):
            out.append(
                _check_err(
                    cc,
                    ("unit",),
                    f"算式 {render(cc.quantity)} 的单位是 {q_unit},"
                    f"检查项写的是 {cc.check.unit} (unit mismatch)",
                    f"unit: {q_unit}",
                    doc,
                )
            )
    out.extend(_conflicts(pack, ck, catalog, comp, docs))
    return out


def _direction(op: str) -> str:
    return {">=": "lo", ">": "lo", "<=": "hi", "<": "hi", "==": "eq", "!=": "ne"}[op]


def _conflict(op_a: str, a: Decimal | bool, op_b: str, b: Decimal | bool) -> str | None:
    """Why two requirements on one quantity cannot both be right, or None."""
    da, db = _direction(op_a), _direction(op_b)
    if isinstance(a, bool) or isinstance(b, bool):
        if op_a == op_b and a != b:
            return f"一个要求 {op_a} {a},另一个要求 {op_b} {b}"
        return "两个检查项要求完全相同 (the same rule twice)" if (op_a, a) == (op_b, b) else None
    if (op_a, a) == (op_b, b):
        return "两个检查项要求完全相同 (the same rule twice)"
    if da == db and da in ("lo", "hi"):
        lo, hi = sorted([a, b])
        return (
            f"标准值不一致: {op_a} {a} 与 {op_b} {b};介于 {lo} 与 {hi} 之间的数值一个判符合、"
            "另一个判不符合 (incompatible thresholds)"
        )
    if {da, db} == {"lo", "hi"}:
        (lo_op, lo), (hi_op, hi) = ((op_a, a), (op_b, b)) if da == "lo" else ((op_b, b), (op_a, a))
        if lo > hi or (lo == hi and (lo_op == ">" or hi_op == "<")):
            return f"没有任何数值能同时满足 {lo_op} {lo} 和 {hi_op} {hi} (contradictory thresholds)"
        return None  # a range written as two checks
    if da == "eq" and db == "eq":
        return f"一个要求等于 {a},另一个要求等于 {b}"
    if "eq" in (da, db):
        (eop, ev), (oop, ov) = ((op_a, a), (op_b, b)) if da == "eq" else ((op_b, b), (op_a, a))
        ok = {">=": ev >= ov, ">": ev > ov, "<=": ev <= ov, "<": ev < ov, "!=": ev != ov}[oop]
        return None if ok else f"要求等于 {ev} 的同时要求 {oop} {ov} (contradictory thresholds)"
    return None


def _conflicts(
    pack: Pack, ck: CompiledKind, catalog: Catalog, comp: _Compiler, docs: dict[str, Any]
) -> list[RuleError]:
    out: list[RuleError] = []
    by_measure: dict[int, list[CompiledCheck]] = {}
    for cc in ck.checks:
        by_measure.setdefault(cc.measure.measure, []).append(cc)
    for checks in by_measure.values():
        for i, a in enumerate(checks):
            for b in checks[i + 1 :]:
                if (
                    render(a.quantity) != render(b.quantity)
                    or a.check.nature != b.check.nature
                    or a.check.due != b.check.due
                ):
                    continue
                reason = _first_conflict(a, b, comp, catalog, ck.kind)
                if reason is None:
                    continue
                why, day = reason
                out.append(
                    _check_err(
                        b,
                        ("threshold",),
                        f"与 {a.full_id}({Path(a.file).name}:{a.line})冲突 (overlapping checks): "
                        f"同一对象同一数值 {render(b.quantity)},{day} 起同时有效且适用范围重叠;{why}",
                        "保留一个检查项;如标准已调整,在 threshold.values 中追加带 from 日期的新值;"
                        "如适用对象不同,用 applies_when 把两者区分开",
                        docs.get(b.file),
                    )
                )
    return out


def _first_conflict(
    a: CompiledCheck, b: CompiledCheck, comp: _Compiler, catalog: Catalog, kind: str
) -> tuple[str, dt.date] | None:
    for sa in a.segments:
        for sb in b.segments:
            start, end = max(sa.start, sb.start), min(sa.end, sb.end)
            if start > end:
                continue
            ta, tb = _const(sa), _const(sb)
            if ta is None or tb is None:
                continue
            why = _conflict(a.check.op, ta, b.check.op, tb)
            if why is None:
                continue
            if _can_be_true(comp, [sa.applies, sb.applies], catalog, kind):
                return why, start
    return None


def _const(seg: Segment) -> Decimal | bool | None:
    return (
        seg.threshold.value
        if isinstance(seg.threshold, Const) and not isinstance(seg.threshold.value, str)
        else None
    )


def _periods(pack: Pack) -> list[RuleError]:
    out: list[RuleError] = []
    pmeta = pack.meta.period
    for ms in pack.measures:
        m = ms.measure
        f = str(ms.path)
        if m.in_force and not (pmeta.start <= m.in_force.start and m.in_force.end <= pmeta.end):
            line = ms.doc.line_of(("in_force",))
            out.append(
                RuleError(
                    f,
                    line,
                    "in_force",
                    f"条款有效期 {m.in_force.start}–{m.in_force.end} 超出政策包有效期 "
                    f"{pmeta.start}–{pmeta.end} (period outside the pack's)",
                    _key_column(f, line, "in_force"),
                    "把有效期收在政策包 period 之内",
                )
            )
        for ci, c in enumerate(m.checks):
            outer = m.in_force or pmeta
            period = c.in_force or outer
            if (
                c.in_force
                and m.in_force
                and not (m.in_force.start <= c.in_force.start and c.in_force.end <= m.in_force.end)
            ):
                line = ms.doc.line_of(("checks", ci, "in_force"))
                out.append(
                    RuleError(
                        f,
                        line,
                        f"checks.{ci}.in_force",
                        f"检查项有效期 {c.in_force.start}–{c.in_force.end} 超出本条有效期 "
                        f"{m.in_force.start}–{m.in_force.end} (period outside the measure's)",
                        _key_column(f, line, "in_force"),
                        "把检查项有效期收在本条 in_force 之内",
                    )
                )
            for vi, v in enumerate(c.threshold.values):
                if v.start > period.end:
                    line = ms.doc.line_of(("checks", ci, "threshold", "values", vi, "from"))
                    out.append(
                        RuleError(
                            f,
                            line,
                            f"checks.{ci}.threshold.values.{vi}.from",
                            f"标准值自 {v.start} 起,晚于有效期截止日 {period.end},永远不会生效 "
                            "(value never in force)",
                            _key_column(f, line, "from"),
                            "核对日期;如政策延期,先延长 period/in_force",
                        )
                    )
            for ai, am in enumerate(c.amendments):
                if not (period.start < am.start <= period.end):
                    line = ms.doc.line_of(("checks", ci, "amendments", ai, "from"))
                    out.append(
                        RuleError(
                            f,
                            line,
                            f"checks.{ci}.amendments.{ai}.from",
                            f"修订自 {am.start} 起,不在有效期 {period.start}–{period.end} 之内,"
                            "不会生效 (amendment never takes effect)",
                            _key_column(f, line, "from"),
                            "修订日期应晚于有效期起始日、不晚于截止日",
                        )
                    )
    return out


def superseded_empty(pack: Pack, kinds: dict[str, CompiledKind]) -> list[RuleError]:
    """Checks with no version left in force (superseded before they start)."""
    out = []
    for ck in kinds.values():
        for cc in ck.checks:
            if not cc.segments:
                out.append(
                    _check_err(
                        cc,
                        ("superseded_by",),
                        "有效期为空:本检查项在生效前已被取代 (empty period in force)",
                        "删除本检查项,或核对 superseded_by",
                        next((ms.doc for ms in pack.measures if str(ms.path) == cc.file), None),
                    )
                )
    return out
