"""Progress notices (达标情况通报) for a town, a county or the city, as data.

Scope (documented in docs/letters.md):

* town NAME — the town records whose name or id is NAME;
* county NAME — the county records named NAME (or whose 所在县区 is NAME) and the town records of that county;
* city NAME — the city records named NAME (or id NAME).

Every applicable finding of those records is listed (not_applicable ones are left out), grouped by
the plan's sections in measure order. Percent of target reached: value ÷ target × 100 for "at least"
targets, target ÷ value × 100 for "at most" ones; the final target is used when the check follows a
trajectory (its interim milestone is shown beside it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from engine.evaluation.findings import Finding
from engine.policy.schema import STATUS_ZH
from engine.render import charts
from engine.render import numbers_zh as zh
from engine.render.common import gap_value, standard_text, value_text

Scope = Literal["town", "county", "city"]
SCOPE_ZH = {"town": "镇(街道)", "county": "县区", "city": "全市"}
_HUNDRED = Decimal(100)


class Subject(BaseModel):
    """What a notice needs to know of a record beyond its findings."""

    id: str
    kind: str
    name: str | None = None
    county: str | None = None


class TargetItem(BaseModel):
    index: int
    subject: str
    year: str
    clause: str
    measure_title: str
    check_title: str
    standard: str
    status: str
    status_zh: str
    value: str
    target: str
    gap: str
    due: str
    lead_departments: str
    percent: Decimal | None
    percent_text: str
    bar: str  # text bar for Markdown
    interpretation: str | None


class NoticeSection(BaseModel):
    title: str
    items: list[TargetItem]


class NoticeModel(BaseModel):
    title: str
    scope: Scope
    scope_zh: str
    name: str
    document: str
    plan_title: str | None
    date: str
    as_of: str
    subjects: list[str]
    counts: dict[str, int]  # Chinese status -> count
    summary: str
    sections: list[NoticeSection]
    chart: list[charts.ChartItem]
    reviewer: str
    fingerprint: str | None = None


def select_subjects(subjects: Iterable[Subject], scope: Scope, name: str) -> list[Subject]:
    subs = list(subjects)
    if scope == "town":
        return [s for s in subs if s.kind == "town" and name in (s.name, s.id)]
    if scope == "county":
        return [s for s in subs if (s.kind == "county" and name in (s.name, s.id, s.county))
                or (s.kind == "town" and s.county == name)]
    return [s for s in subs if s.kind == "city" and name in (s.name, s.id)]


def percent_reached(f: Finding) -> Decimal | None:
    v = f.value
    goal = f.target if f.target is not None else f.threshold
    if not isinstance(v, Decimal) or not isinstance(goal, Decimal) or isinstance(v, bool) or isinstance(goal, bool):
        return None
    if f.op in ("<=", "<"):
        return _HUNDRED if v <= 0 else (goal / v * _HUNDRED).quantize(Decimal("0.1"))
    if goal <= 0:
        return None
    return (v / goal * _HUNDRED).quantize(Decimal("0.1"))


def _text_bar(p: Decimal | None, width: int = 20) -> str:
    if p is None:
        return "(无数据)"
    filled = int(min(p, _HUNDRED) / _HUNDRED * width)
    return "█" * filled + "░" * (width - filled)


def _gap_to_target(f: Finding) -> str:
    v = f.value
    goal = f.target if f.target is not None else f.threshold
    if f.status == "insufficient_data":
        return "—"
    if isinstance(goal, Decimal) and isinstance(v, Decimal) and not isinstance(v, bool) \
            and not isinstance(goal, bool):
        if f.op in (">=", ">"):
            g = goal - v
        elif f.op in ("<=", "<"):
            g = v - goal
        else:
            g = abs(v - goal)
        return "已达到" if g <= 0 else zh.gap(g, f.unit)
    g2 = gap_value(f)
    return "—" if g2 is None else ("已达到" if g2 == 0 else zh.gap(g2, f.unit))


def build_notice(findings: Iterable[Finding], subjects: Iterable[Subject], *, scope: Scope, name: str,
                 date: dt.date, reviewer: str, plan_titles: Mapping[str, str] | None = None,
                 fingerprint: str | None = None) -> NoticeModel:
    chosen = select_subjects(subjects, scope, name)
    if not chosen:
        raise LookupError(f"no {scope} record named {name!r}")
    by_id = {s.id: s for s in chosen}
    fs = sorted((f for f in findings if f.record_id in by_id and f.status != "not_applicable"),
                key=lambda f: (f.measure, f.check, by_id[f.record_id].kind != "city",
                               by_id[f.record_id].kind != "county", f.record_name or "", f.as_of))
    if not fs:
        raise LookupError(f"no applicable targets evaluated for {scope} {name!r}")
    sections: dict[str, list[Finding]] = {}
    for f in fs:
        sections.setdefault(f.section, []).append(f)
    out_sections: list[NoticeSection] = []
    items_all: list[TargetItem] = []
    for title, group in sections.items():
        items = []
        for f in group:
            p = percent_reached(f)
            item = TargetItem(
                index=len(items_all) + 1, subject=f.record_name or f.record_id,
                year=str(f.as_of.year), clause=zh.measure_no(f.measure), measure_title=f.measure_title,
                check_title=("力争:" if f.aspirational else "") + f.check_title, standard=standard_text(f),
                status=f.status, status_zh=STATUS_ZH[f.status], value=value_text(f),
                target=zh.quantity(f.target if f.target is not None else
                                   (f.threshold if not isinstance(f.threshold, bool) else None), f.unit)
                if not isinstance(f.threshold, bool) else "须落实",
                gap=_gap_to_target(f), due=zh.deadline_zh(f.due), lead_departments="、".join(f.lead_departments),
                percent=p, percent_text=zh.percent(p) if p is not None else "—", bar=_text_bar(p),
                interpretation=f.interpretation)
            items.append(item)
            items_all.append(item)
        out_sections.append(NoticeSection(title=title, items=items))
    counts: dict[str, int] = {}
    for f in fs:
        counts[STATUS_ZH[f.status]] = counts.get(STATUS_ZH[f.status], 0) + 1
    good = sum(1 for f in fs if f.status in ("compliant", "on_track"))
    bad = sum(1 for f in fs if f.status in ("non_compliant", "behind_schedule"))
    missing = sum(1 for f in fs if f.status == "insufficient_data")
    summary = (f"{name}共有适用目标{len(fs)}项:达标或进度正常{good}项,未达标或进度滞后{bad}项,"
               f"资料不足无法判定{missing}项。")
    documents = sorted({f.document for f in fs})
    titles = plan_titles or {}
    chart_items = [charts.ChartItem(label=f"{i.index}. {i.subject} {i.check_title}", percent=i.percent,
                                    status=i.status) for i in items_all if i.percent is not None
                   or i.status == "insufficient_data"]
    return NoticeModel(
        title=f"{name}新型城镇化建设目标达标情况通报", scope=scope, scope_zh=SCOPE_ZH[scope], name=name,
        document="、".join(documents),
        plan_title="、".join(f"《{titles[d]}》" for d in documents if d in titles) or None,
        date=zh.date_zh(date), as_of=zh.date_zh(max(f.as_of for f in fs)),
        subjects=sorted({f.record_name or f.record_id for f in fs}), counts=counts, summary=summary,
        sections=out_sections, chart=chart_items, reviewer=reviewer, fingerprint=fingerprint,
    )
