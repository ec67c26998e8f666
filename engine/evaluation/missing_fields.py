"""Missing fields: what a reviewer would have to supply for an insufficient_data finding to be judged
(the fields its check version reads that the record lacks, or why nothing can be supplied yet)."""

from __future__ import annotations

from typing import Any

from engine.evaluation.prepare import Prepared as _Prepared
from engine.evaluation.prepare import _figure
from engine.policy.compiler import AggregateRef, CompiledCheck, Segment
from engine.policy.expression_tree import fields_of, prior_parts
from engine.policy.formulas import evaluate_condition
from engine.records.catalog import Catalog

_NEEDED: dict[int, tuple[Segment, frozenset[str], frozenset[str]]] = {}  # id(segment) -> fields it reads


def _segment_fields(
    cc: CompiledCheck, seg: Segment, policy_catalog: Catalog
) -> tuple[frozenset[str], frozenset[str]]:
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


def _missing_fields(
    cc: CompiledCheck,
    seg: Segment,
    values: dict[str, Any],
    policy_catalog: Catalog,
    invalid: dict[str, str] | None = None,
) -> list[str]:
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


def missing_for(cc: CompiledCheck, seg: Segment, catalog: Catalog, prep: _Prepared) -> list[str]:
    """What a reviewer would have to supply for an insufficient_data finding to be judged."""
    check = cc.check
    missing = _missing_fields(cc, seg, prep.values, catalog, prep.record.invalid)
    cum_missing = prep.cum_missing.get(cc.index)
    if check.nature == "cumulative" and cum_missing:
        missing.append("、".join(f"{y}年" for y in cum_missing) + "的数据")
    if not missing and seg.due is not None and seg.trajectory is None:
        # A yes/no target has no trajectory: before its due year there is nothing to supply.
        missing = (
            [f"到期({check.due.year}年底)结果;定性目标期限未到,暂无法判定"]  # type: ignore[union-attr]
            if check.nature == "duty"
            else ["基期数据(同一主体基期年度的报告),无法测算进度"]
        )
    if not missing and check.nature == "cumulative":
        missing = ["累计期内各年度数据"]
    if not missing and check.counted:
        missing = ["报告所列数值或可统计的下级记录(本批次与已存储的记录中均没有)"]
    if not missing:
        missing = ["可计算的数据(如除数为零)"]
    return missing
