"""Pieces shared by letters and notices: how one finding reads in a table row."""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import BaseModel

from engine.evaluation.findings import Finding
from engine.policy.terms import OP_ZH, STATUS_ZH
from engine.render import numbers_zh as zh

ADVERSE = ("non_compliant", "behind_schedule")
_TECH_NAME = re.compile(r"\s*[((][A-Za-z0-9_.]+[))]$")


class MeasureRef(BaseModel):
    number: int
    title: str
    section: str

    @property
    def cite(self) -> str:
        return f"{zh.measure_no(self.number)}“{self.title}”"


def standard_text(f: Finding) -> str:
    """The requirement in words: 不低于500万元; 力争2025年底达到6万人(按进度应达5.6万人); 须落实."""
    if isinstance(f.threshold, bool) or f.nature == "duty":
        return ("力争" if f.aspirational else "") + ("须落实" if f.threshold is not False else "不得发生")
    op = OP_ZH.get(f.op, f.op)
    approx = "左右" if f.approx else ""
    lead = "力争" if f.aspirational else ""
    if f.target is not None:
        due = f"{zh.deadline_zh(f.due)}" if f.due else ""
        return (
            f"{lead}{due}{op}{zh.quantity(f.target, f.unit)}{approx}"
            f"(按进度应达{zh.quantity(_dec(f.threshold), f.unit)})"
        )
    due = f"{zh.deadline_zh(f.due)}" if f.due else ""
    return f"{lead}{due}{op}{zh.quantity(_dec(f.threshold), f.unit)}{approx}"


def value_text(f: Finding) -> str:
    if f.status == "insufficient_data" and f.value is None:
        return "—(资料不足)"
    if isinstance(f.value, bool):
        return "是" if f.value else "否"
    return zh.quantity(f.value, f.unit, exact_against=_dec(f.threshold))


def gap_value(f: Finding) -> Decimal | None:
    """How far the value is from what was required of it at judging time (0 when met)."""
    v, t = f.value, f.threshold
    if not isinstance(v, Decimal) or not isinstance(t, Decimal) or isinstance(v, bool) or isinstance(t, bool):
        return None
    if f.op in (">=", ">"):
        return max(t - v, Decimal(0))
    if f.op in ("<=", "<"):
        return max(v - t, Decimal(0))
    return abs(v - t)


def verdict_text(f: Finding) -> str:
    """结论 column: the status in Chinese, with the gap when it failed."""
    s = STATUS_ZH[f.status]
    g = gap_value(f)
    if f.status in ADVERSE and g:
        return f"{s}(相差{zh.gap(g, f.unit)})"
    if f.status == "insufficient_data" and f.missing_fields:
        return f"{s}(缺少{missing_text(f)})"
    return s


def missing_text(f: Finding) -> str:
    """Missing fields by their Chinese labels: 用地面积(land_area) -> 用地面积."""
    return "、".join(_TECH_NAME.sub("", m) for m in f.missing_fields) or "所需数据"


def requirement_text(f: Finding) -> str:
    """What the applicant must correct or supply, in one sentence."""
    clause = zh.measure_no(f.measure)
    std = standard_text(f)
    if f.status == "insufficient_data":
        return f"请补充{missing_text(f)}等材料,以便按{clause}“{f.check_title}”的要求({std})完成审查。"
    g = gap_value(f)
    gap = f",相差{zh.gap(g, f.unit)}" if g else ""
    if f.status == "behind_schedule":
        return (
            f"按进度应达{zh.quantity(_dec(f.threshold), f.unit)},现为{value_text(f)}{gap};"
            f"请加快推进,确保{zh.deadline_zh(f.due)}前实现{clause}{'力争' if f.aspirational else ''}目标"
            f"({std})。"
        )
    wanted = "力争达到" if f.aspirational else "须达到"
    return (
        f"“{f.check_title}”{wanted}{clause}要求({std}),现为{value_text(f)}{gap};"
        "请调整项目方案使其符合要求,或提交相关说明材料后重新申报。"
    )


def order_key(f: Finding) -> tuple[int, str, str]:
    return (f.measure, f.check, f.record_id)


def _dec(x: bool | Decimal | None) -> Decimal | None:
    return x if isinstance(x, Decimal) and not isinstance(x, bool) else None
