"""The project compliance letter (建设项目新型城镇化政策符合性审查意见书) as data.

``build_letter`` turns the findings of one record into a ``LetterModel``; templates only lay it out.
Overall conclusion (documented in docs/letters.md):

* 不符合 — any applicable check is non_compliant or behind_schedule;
* 基本符合(须补充材料) — none of those, but some check is insufficient_data;
* 符合 — every applicable check is met (also when no check applies: nothing was found against it).

The letter lists what is not met first (``failed``), then what needs a person to look or a figure to be
supplied (``review``: insufficient data, and findings flagged ``review``), then what is met (``met``),
briefly. Checks that do not apply are left out of the document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from engine.evaluation.findings import Finding
from engine.policy.terms import STATUS_ZH
from engine.render import numbers_zh as zh
from engine.render import office as _office
from engine.render.common import (
    ADVERSE,
    MeasureRef,
    order_key,
    requirement_text,
    standard_text,
    value_text,
    verdict_text,
)

LETTER_TITLE = "建设项目新型城镇化政策符合性审查意见书"
DEFAULT_PREFIX = _office.DEFAULT_PREFIX
DEFAULT_REVIEWER = _office.DEFAULT_OFFICE
Conclusion = Literal["符合", "基本符合", "不符合"]


class ProjectSummary(BaseModel):
    id: str
    name: str
    applicant: str
    county: str
    town: str
    category: str
    investment: str
    land: str
    submitted_on: str


class CheckRow(BaseModel):
    clause: str  # 第2条
    measure_title: str
    check_title: str
    standard: str
    value: str
    status: str
    status_zh: str
    verdict: str
    interpretation: str | None
    aspirational: bool


class IssueItem(BaseModel):
    clause: str
    measure_title: str
    check_title: str
    status: str
    status_zh: str
    source_text: str
    lead_departments: str
    requirement: str
    interpretation: str | None
    standard: str = ""
    value: str = ""
    verdict: str = ""
    review_reasons: list[str] = []
    ordinal: str = ""  # （一）, within its part of the letter


class LetterModel(BaseModel):
    title: str = LETTER_TITLE
    number: str
    record_id: str
    addressee: str
    project: ProjectSummary
    document: str  # 菏政发〔2024〕11号
    plan_title: str | None
    basis: list[MeasureRef]
    rows: list[CheckRow]  # every applicable check
    issues: list[IssueItem]  # failed + review, in that order
    failed: list[IssueItem] = []  # non_compliant / behind_schedule
    review: list[IssueItem] = []  # insufficient_data, or flagged for a person to look
    met: list[CheckRow] = []  # compliant / on_track and not flagged
    not_applicable: list[str]  # kept as data; the letter leaves these out
    conclusion: Conclusion
    conclusion_text: str
    reviewer: str  # the reviewing office (masthead and 落款)
    signature: list[str] = []
    contact: str | None = None
    issued_on: dt.date | None = None  # the date printed, for document properties
    headings: dict[str, str] = {}  # part -> numbered heading (一、项目概况 …), only the parts present
    date: str  # 2026年3月5日
    as_of: str  # the date the rules were judged at
    run_id: str | None = None
    fingerprint: str | None = None


def conclusion_of(findings: Iterable[Finding]) -> Conclusion:
    statuses = {f.status for f in findings}
    if statuses & set(ADVERSE):
        return "不符合"
    if "insufficient_data" in statuses:
        return "基本符合"
    return "符合"


def letter_number(prefix: str, year: int, seq: int) -> str:
    """菏城审〔2026〕2号 (GB/T 9704-2012 7.2.4: year in 〔〕, no 第, no leading zeros)."""
    return f"{prefix}〔{year}〕{seq}号"


def summarise(record_id: str, name: str | None, values: Mapping[str, Any]) -> ProjectSummary:
    def text(key: str) -> str:
        v = values.get(key)
        return "—" if v is None or v == "" else str(v)

    inv = values.get("total_investment")
    land = values.get("land_area")
    sub = values.get("submitted_on")
    return ProjectSummary(
        id=record_id,
        name=name or record_id,
        applicant=text("applicant"),
        county=text("county"),
        town=text("town"),
        category=text("category"),
        investment=zh.quantity(Decimal(inv), "万元")
        if isinstance(inv, Decimal | int) and not isinstance(inv, bool)
        else "—",
        land=zh.quantity(Decimal(land), "亩")
        if isinstance(land, Decimal | int) and not isinstance(land, bool)
        else "—",
        submitted_on=zh.date_zh(sub) if isinstance(sub, dt.date) else "—",
    )


def build_letter(
    findings: Iterable[Finding],
    *,
    record_id: str,
    name: str | None,
    values: Mapping[str, Any],
    number: str,
    date: dt.date,
    reviewer: str = DEFAULT_REVIEWER,
    plan_titles: Mapping[str, str] | None = None,
    run_id: str | None = None,
    fingerprint: str | None = None,
    signature: list[str] | None = None,
    contact: str | None = None,
) -> LetterModel:
    """One record's findings -> the letter. Findings of other records are an error, not ignored."""
    all_f = sorted(findings, key=order_key)
    if not all_f:
        raise ValueError(f"no findings for record {record_id!r}: evaluate it before writing a letter")
    others = {f.record_id for f in all_f} - {record_id}
    if others:
        raise ValueError(f"findings of other records given for {record_id!r}: {sorted(others)}")
    applicable = [f for f in all_f if f.status != "not_applicable"]
    conclusion = conclusion_of(applicable)
    measures: dict[int, MeasureRef] = {}
    for f in applicable or all_f:
        measures.setdefault(f.measure, MeasureRef(number=f.measure, title=f.measure_title, section=f.section))
    rows = [
        CheckRow(
            clause=zh.measure_no(f.measure),
            measure_title=f.measure_title,
            check_title=("力争:" if f.aspirational else "") + f.check_title,
            standard=standard_text(f),
            value=value_text(f),
            status=f.status,
            status_zh=STATUS_ZH[f.status],
            verdict=verdict_text(f),
            interpretation=f.interpretation,
            aspirational=f.aspirational,
        )
        for f in applicable
    ]
    failed = [_issue(f) for f in applicable if f.status in ADVERSE]
    review = [
        _issue(f)
        for f in applicable
        if f.status == "insufficient_data" or (f.review and f.status not in ADVERSE)
    ]
    met = [
        r
        for f, r in zip(applicable, rows, strict=True)
        if f.status in ("compliant", "on_track") and not f.review
    ]
    issues = failed + review
    for part in (failed, review):
        for n, item in enumerate(part, start=1):
            item.ordinal = f"（{_numeral(n)}）"
    summary = summarise(record_id, name or all_f[0].record_name, values)
    documents = sorted({f.document for f in all_f})
    document = "、".join(documents)
    titles = plan_titles or {}
    plan_title = "、".join(f"《{titles[d]}》" for d in documents if d in titles) or None
    return LetterModel(
        number=number,
        record_id=record_id,
        addressee=summary.applicant if summary.applicant != "—" else "申报单位",
        project=summary,
        document=document,
        plan_title=plan_title,
        basis=sorted(measures.values(), key=lambda m: m.number),
        rows=rows,
        issues=issues,
        failed=failed,
        review=review,
        met=met,
        not_applicable=[
            f"{zh.measure_no(f.measure)} {f.check_title}" for f in all_f if f.status == "not_applicable"
        ],
        conclusion=conclusion,
        conclusion_text=_conclusion_text(conclusion, len(rows), issues),
        reviewer=reviewer,
        signature=[x for x in (signature or []) if x.strip()] or [reviewer],
        contact=contact,
        date=zh.date_zh(date),
        as_of=zh.date_zh(max(f.as_of for f in all_f)),
        run_id=run_id,
        fingerprint=fingerprint,
        issued_on=date,
        headings=_headings(bool(failed), bool(review), bool(met)),
    )


PART_TITLES = {
    "summary": "项目概况",
    "basis": "审查依据",
    "failed": "不符合要求的事项",
    "review": "需补充材料或人工复核的事项",
    "met": "符合要求的事项",
    "conclusion": "审查结论",
}


def _numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _headings(failed: bool, review: bool, met: bool) -> dict[str, str]:
    present = {
        "summary": True,
        "basis": True,
        "failed": failed,
        "review": review,
        "met": met,
        "conclusion": True,
    }
    parts = [k for k, on in present.items() if on]
    return {k: f"{_numeral(n)}、{PART_TITLES[k]}" for n, k in enumerate(parts, start=1)}


def _issue(f: Finding) -> IssueItem:
    reasons = ([r for r in f.review_reasons if r.strip()] or ["判定结果须人工复核"]) if f.review else []
    if f.review and f.status in ("compliant", "on_track"):
        requirement = (
            f"程序判定为{STATUS_ZH[f.status]}（{standard_text(f)}，现为{value_text(f)}），"
            f"但{'；'.join(reasons)}，请审查人员核对后确认。"
        )
    else:
        requirement = requirement_text(f)
    return IssueItem(
        clause=zh.measure_no(f.measure),
        measure_title=f.measure_title,
        check_title=f.check_title,
        status=f.status,
        status_zh=STATUS_ZH[f.status],
        source_text=" ".join(f.source_text.split()),
        lead_departments="、".join(f.lead_departments) or "—",
        requirement=requirement,
        interpretation=f.interpretation,
        standard=standard_text(f),
        value=value_text(f),
        verdict=verdict_text(f),
        review_reasons=reasons,
    )


def _conclusion_text(c: Conclusion, n_rows: int, issues: list[IssueItem]) -> str:
    n_bad = sum(1 for i in issues if i.status in ADVERSE)
    n_missing = sum(1 for i in issues if i.status == "insufficient_data")
    n_review = sum(
        1 for i in issues if i.review_reasons and i.status not in ADVERSE and i.status != "insufficient_data"
    )
    tail = f"另有{n_review}项须人工复核。" if n_review else ""
    return _conclusion_core(c, n_rows, n_bad, n_missing) + tail


def _conclusion_core(c: Conclusion, n_rows: int, n_bad: int, n_missing: int) -> str:
    if c == "不符合":
        extra = f",另有{n_missing}项资料不足" if n_missing else ""
        return (
            f"经审查,该项目适用审查项{n_rows}项,其中{n_bad}项不符合要求{extra}。"
            "审查结论为:不符合。请按上述意见整改后重新申报。"
        )
    if c == "基本符合":
        return (
            f"经审查,该项目适用审查项{n_rows}项,未发现不符合要求的情形,但有{n_missing}项因资料不足无法判定。"
            "审查结论为:基本符合(须补充材料)。请按上述意见补充材料。"
        )
    if n_rows == 0:
        return "经审查,该项目不属于本方案所列量化审查标准的适用范围,未发现不符合要求的情形。审查结论为:符合。"
    return f"经审查,该项目适用审查项{n_rows}项,均符合要求。审查结论为:符合。"
