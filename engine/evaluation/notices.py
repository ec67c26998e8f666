"""Notices: why a valid record got no findings (a baseline year, outside every pack, no date, no rules)."""

from __future__ import annotations

import datetime as dt

from engine.evaluation.findings import Notice
from engine.policy.policy import Policy
from engine.records.model import Record


def notice_for(policy: Policy, rec: Record, d: dt.date | None) -> Notice:
    """Why a valid record got no findings: a baseline year, outside every pack, no date, no rules."""
    has_kind = any(rec.kind in p.kinds for p in policy.packs)
    if not has_kind:
        return Notice(
            record_id=rec.id,
            kind=rec.kind,
            source=rec.source,
            category="no_rules",
            message=f"没有适用于“{rec.kind}”类对象的规则 (no rules for kind {rec.kind})",
        )
    if d is None:
        spec = policy.catalog.kind(rec.kind)
        return Notice(
            record_id=rec.id,
            kind=rec.kind,
            source=rec.source,
            category="undated",
            message=f"缺少{spec.fields[spec.date_field].label},无法确定适用的规则版本;请补充该字段",
        )
    for p in policy.packs:
        bp = p.pack.meta.baseline_period
        if bp is not None and bp.contains(d) and rec.kind in p.kinds:
            return Notice(
                record_id=rec.id,
                kind=rec.kind,
                source=rec.source,
                category="baseline",
                message=f"基期数据,不单独评判:{d.year}年早于{p.pack.meta.number}的实施期"
                f"({p.pack.meta.period.start}至{p.pack.meta.period.end}),"
                "用作进度基期和与往年比较的数据",
            )
    periods = "、".join(
        f"{p.pack.meta.number}({p.pack.meta.period.start}至{p.pack.meta.period.end})" for p in policy.packs
    )
    return Notice(
        record_id=rec.id,
        kind=rec.kind,
        source=rec.source,
        category="out_of_period",
        message=f"记录日期{d}不在任何政策的有效期内:{periods};未使用过期或未生效的规则评估",
    )
