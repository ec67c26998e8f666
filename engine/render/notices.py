"""Progress notices (达标情况通报) for a town, a county or the city, as data.

Scope (documented in docs/letters.md):

* town NAME — the town records whose name or id is NAME;
* county NAME — the county records named NAME (or whose 所在县区 is NAME) and the town records of that county;
* city NAME — the city records named NAME (or id NAME).

A notice leads with what needs action: the non-compliant and behind-schedule targets with their gap
and lead department (``actions``); then the met targets in a compact table (``met``); the progress
chart (``chart_pages``, split so each part fits a page); and in an appendix a data request: which
figures are missing, from which lead department (``requests``). not_applicable findings are left out.
``sections`` still groups every applicable item by the plan's sections (used by the Markdown form). Percent of target reached: value ÷ target × 100 for "at least"
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
from engine.policy.terms import STATUS_ZH
from engine.render import charts
from engine.render import numbers_zh as zh
from engine.render.common import ADVERSE, gap_value, missing_text, standard_text, value_text

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
    missing: str = ""  # insufficient data: the missing figures by their Chinese labels
    measure: int = 0
    dept_rowspan: int = 1  # in the action table: rows sharing this lead-department cell (0: covered above)


class DataRequest(BaseModel):
    """One lead department's share of the data request: the figures to supply and what they are for."""

    index: int
    departments: str
    fields: list[str]
    targets: list[str]  # 第9条 审查项
    clauses: str  # 第3条、第9条
    n_targets: int
    subjects: str


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
    actions: list[TargetItem] = []
    met: list[TargetItem] = []
    missing_items: list[TargetItem] = []
    requests: list[DataRequest] = []
    chart_pages: list[list[charts.ChartItem]] = []
    signature: list[str] = []
    contact: str | None = None
    issued_on: dt.date | None = None
    one_subject: bool = False  # every item is about the same town/county/city: tables show the year only


def select_subjects(subjects: Iterable[Subject], scope: Scope, name: str) -> list[Subject]:
    subs = list(subjects)
    if scope == "town":
        return [s for s in subs if s.kind == "town" and name in (s.name, s.id)]
    if scope == "county":
        return [
            s
            for s in subs
            if (s.kind == "county" and name in (s.name, s.id, s.county))
            or (s.kind == "town" and s.county == name)
        ]
    return [s for s in subs if s.kind == "city" and name in (s.name, s.id)]


def percent_reached(f: Finding) -> Decimal | None:
    v = f.value
    goal = f.target if f.target is not None else f.threshold
    if (
        not isinstance(v, Decimal)
        or not isinstance(goal, Decimal)
        or isinstance(v, bool)
        or isinstance(goal, bool)
    ):
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
    if (
        isinstance(goal, Decimal)
        and isinstance(v, Decimal)
        and not isinstance(v, bool)
        and not isinstance(goal, bool)
    ):
        if f.op in (">=", ">"):
            g = goal - v
        elif f.op in ("<=", "<"):
            g = v - goal
        else:
            g = abs(v - goal)
        return "已达到" if g <= 0 else zh.gap(g, f.unit)
    g2 = gap_value(f)
    return "—" if g2 is None else ("已达到" if g2 == 0 else zh.gap(g2, f.unit))


def build_notice(
    findings: Iterable[Finding],
    subjects: Iterable[Subject],
    *,
    scope: Scope,
    name: str,
    date: dt.date,
    reviewer: str,
    plan_titles: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
    signature: list[str] | None = None,
    contact: str | None = None,
) -> NoticeModel:
    chosen = select_subjects(subjects, scope, name)
    if not chosen:
        raise LookupError(f"no {scope} record named {name!r}")
    by_id = {s.id: s for s in chosen}
    # One line per subject and check: the latest year's report, and among reports of one year (one per
    # measure group, say) the one that judged it rather than one that lacked its figures.
    latest: dict[tuple[str, str], Finding] = {}
    for f in findings:
        if f.record_id not in by_id or f.status == "not_applicable":
            continue
        key = (f.record_name or f.record_id, f.check)
        rank = (f.as_of.year, f.status != "insufficient_data", f.as_of)
        old = latest.get(key)
        if old is None or rank > (old.as_of.year, old.status != "insufficient_data", old.as_of):
            latest[key] = f
    fs = sorted(
        latest.values(),
        key=lambda f: (
            f.measure,
            f.check,
            by_id[f.record_id].kind != "city",
            by_id[f.record_id].kind != "county",
            f.record_name or "",
            f.as_of,
        ),
    )
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
                index=len(items_all) + 1,
                subject=f.record_name or f.record_id,
                year=str(f.as_of.year),
                clause=zh.measure_no(f.measure),
                measure_title=f.measure_title,
                check_title=("力争:" if f.aspirational else "") + f.check_title,
                standard=standard_text(f),
                status=f.status,
                status_zh=STATUS_ZH[f.status],
                value=value_text(f),
                target=zh.quantity(
                    f.target
                    if f.target is not None
                    else (f.threshold if not isinstance(f.threshold, bool) else None),
                    f.unit,
                )
                if not isinstance(f.threshold, bool)
                else "须落实",
                gap=_gap_to_target(f),
                due=zh.deadline_zh(f.due),
                lead_departments="、".join(f.lead_departments),
                percent=p,
                percent_text=zh.percent(p) if p is not None else "—",
                bar=_text_bar(p),
                interpretation=f.interpretation,
                missing=missing_text(f) if f.status == "insufficient_data" else "",
                measure=f.measure,
            )
            items.append(item)
            items_all.append(item)
        out_sections.append(NoticeSection(title=title, items=items))
    counts: dict[str, int] = {}
    for f in fs:
        counts[STATUS_ZH[f.status]] = counts.get(STATUS_ZH[f.status], 0) + 1
    good = sum(1 for f in fs if f.status in ("compliant", "on_track"))
    bad = sum(1 for f in fs if f.status in ("non_compliant", "behind_schedule"))
    missing = sum(1 for f in fs if f.status == "insufficient_data")
    summary = (
        f"{name}共有适用目标{len(fs)}项:达标或进度正常{good}项,未达标或进度滞后{bad}项,"
        f"资料不足无法判定{missing}项。"
    )
    documents = sorted({f.document for f in fs})
    titles = plan_titles or {}
    chart_items = [
        charts.ChartItem(label=f"{i.index}. {i.subject} {i.check_title}", percent=i.percent, status=i.status)
        for i in items_all
        if i.percent is not None or i.status == "insufficient_data"
    ]
    # What needs action first: adverse items (the worst shortfall first), then met, then missing data.
    # In plan order, so items of one measure sit together and share their lead-department cell.
    actions = [i.model_copy() for i in items_all if i.status in ADVERSE]
    for n, i in enumerate(actions):
        if (
            n
            and actions[n - 1].measure == i.measure
            and actions[n - 1].lead_departments == i.lead_departments
        ):
            i.dept_rowspan = 0
            k = n - 1
            while actions[k].dept_rowspan == 0:
                k -= 1
            actions[k].dept_rowspan += 1
    met = [i for i in items_all if i.status in ("compliant", "on_track")]
    missing_items = [i for i in items_all if i.status == "insufficient_data"]
    one = len({i.subject for i in items_all}) == 1
    charted = [
        charts.ChartItem(
            label=f"{'' if one else i.subject}{i.year}年 {i.check_title}", percent=i.percent, status=i.status
        )
        for i in [*actions, *met]
        if i.percent is not None
    ]
    return NoticeModel(
        actions=actions,
        met=met,
        missing_items=missing_items,
        requests=_requests(fs),
        chart_pages=charts.paginate(charted),
        signature=[x for x in (signature or []) if x.strip()] or [reviewer],
        contact=contact,
        one_subject=one,
        issued_on=date,
        title=f"{name}新型城镇化建设目标达标情况通报",
        scope=scope,
        scope_zh=SCOPE_ZH[scope],
        name=name,
        document="、".join(documents),
        plan_title="、".join(f"《{titles[d]}》" for d in documents if d in titles) or None,
        date=zh.date_zh(date),
        as_of=zh.date_zh(max(f.as_of for f in fs)),
        subjects=sorted({f.record_name or f.record_id for f in fs}),
        counts=counts,
        summary=summary,
        sections=out_sections,
        chart=chart_items,
        reviewer=reviewer,
        fingerprint=fingerprint,
    )


def _requests(fs: list[Finding]) -> list[DataRequest]:
    """The insufficient-data findings as a data request, one row per lead department (or group)."""
    one = len({f.record_name or f.record_id for f in fs}) == 1
    groups: dict[str, dict[str, dict[str, None]]] = {}
    for f in fs:
        if f.status != "insufficient_data":
            continue
        dept = "、".join(f.lead_departments) or "有关部门"
        g = groups.setdefault(dept, {"fields": {}, "targets": {}, "subjects": {}})
        for m in missing_text(f).split("、"):
            g["fields"][m] = None
        g["targets"][f"{zh.measure_no(f.measure)} {f.check_title}"] = None
        g.setdefault("clauses", {})[zh.measure_no(f.measure)] = None
        g["subjects"][f"{'' if one else (f.record_name or f.record_id)}{f.as_of.year}年"] = None
    out = []
    for n, (dept, g) in enumerate(groups.items(), start=1):  # in measure order
        out.append(
            DataRequest(
                index=n,
                departments=dept,
                fields=list(g["fields"]),
                targets=list(g["targets"]),
                clauses="、".join(g["clauses"]),
                n_targets=len(g["targets"]),
                subjects="、".join(sorted(g["subjects"])),
            )
        )
    return out
