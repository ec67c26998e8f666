"""The rule file format, as pydantic models.

A pack is a folder: ``pack.yaml`` (the document: title, number, issuer, date, period, source text)
and one YAML file per numbered measure. A measure file carries its source sentence, section, lead
departments, period in force, and its checks; each check its threshold as dated values (like an
OpenFisca parameter), its nature, Chinese messages and embedded examples. See docs/rule-format.md.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.records.catalog import KINDS

Status = Literal["compliant", "non_compliant", "not_applicable", "insufficient_data", "on_track", "behind_schedule"]
STATUSES: tuple[str, ...] = ("compliant", "non_compliant", "not_applicable", "insufficient_data",
                             "on_track", "behind_schedule")
STATUS_ZH = {
    "compliant": "符合", "non_compliant": "不符合", "not_applicable": "不适用",
    "insufficient_data": "资料不足", "on_track": "进度正常", "behind_schedule": "进度滞后",
}
Nature = Literal["standard", "target", "annual", "cumulative", "relative", "duty"]
NATURE_ZH = {"standard": "逐项标准", "target": "期限目标", "annual": "年度目标", "cumulative": "累计目标",
             "relative": "相对目标", "duty": "定性要求"}
Op = Literal[">=", ">", "<=", "<", "==", "!="]
OP_ZH = {">=": "不低于", ">": "高于", "<=": "不高于", "<": "低于", "==": "等于", "!=": "不等于"}

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,80}$")


_LAYOUT_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")


def unfold(text: str | None) -> str | None:
    """Drop the spaces YAML folding (and PDF layout) put between Chinese characters."""
    return None if text is None else _LAYOUT_SPACE.sub("", text.strip())


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Period(Strict):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        return self

    def contains(self, d: dt.date) -> bool:
        return self.start <= d <= self.end


class DatedValue(Strict):
    start: dt.date = Field(alias="from")
    value: Decimal | bool
    reference: str | None = None  # where this value is set: 菏政发〔2024〕11号 第9条, or an amendment
    note: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _num(cls, v: Any) -> Any:
        if isinstance(v, float):
            return Decimal(repr(v))
        return v


class Threshold(Strict):
    unit: str | None = None
    values: list[DatedValue] = Field(min_length=1)
    # A threshold relative to other figures of the record, with `param` standing for the dated value:
    # "province_urbanization_growth + param" (超过全省平均水平0.5个百分点).
    expr: str | None = None

    @model_validator(mode="after")
    def _sorted(self) -> Threshold:
        starts = [v.start for v in self.values]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("threshold values must be in date order, one per date")
        return self

    def value_on(self, d: dt.date) -> tuple[int, DatedValue] | None:
        """The value in force on `d` and its version number (1 = the original text)."""
        found = None
        for i, v in enumerate(self.values):
            if v.start <= d:
                found = (i + 1, v)
        return found


class Baseline(Strict):
    """Where a trajectory starts: a field of the record holding the base value and base year."""

    value: str
    year: str | int


class CumulativePeriod(Strict):
    first_year: int
    last_year: int


class Example(Strict):
    name: str
    record: dict[str, Any]
    expect: Status
    as_of: dt.date | None = None
    # Other yearly records of the same subject (e.g. 2021-2023), which a cumulative target sums.
    history: list[dict[str, Any]] = Field(default_factory=list)


class Amendment(Strict):
    """A change to a check from a date on: a new applicability (thresholds amend via dated values)."""

    start: dt.date = Field(alias="from")
    applies_when: str | None = None
    reference: str | None = None
    note: str | None = None


class Check(Strict):
    id: str
    title: str
    subject: Literal["project", "town", "county", "city", "enterprise", "department"]
    nature: Nature
    source: str = Field(min_length=2)
    applies_when: str | None = None
    quantity: str
    unit: str | None = None
    op: Op = ">="
    threshold: Threshold
    due: dt.date | None = None
    baseline: Baseline | None = None
    period: CumulativePeriod | None = None
    approx: bool = False  # 左右: met at the figure itself, reported with the gap
    aspirational: bool = False  # 力争: checked all the same, worded as an effort target
    interpretation: str | None = None
    in_force: Period | None = None
    amendments: list[Amendment] = Field(default_factory=list)
    superseded_by: str | None = None
    messages: dict[Status, str] = Field(default_factory=dict)
    examples: list[Example] = Field(default_factory=list)

    @field_validator("title", "source", "interpretation")
    @classmethod
    def _unfold(cls, v: str | None) -> str | None:
        return unfold(v)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("check id: lowercase letters, digits, '.', '_' and '-' (e.g. m9.invest_per_mu)")
        return v

    @model_validator(mode="after")
    def _nature(self) -> Check:
        if self.nature == "target" and self.due is None:
            raise ValueError("a target needs a due date (due: 2025-12-31)")
        if self.nature == "cumulative" and self.period is None:
            raise ValueError("a cumulative target needs period: {first_year, last_year}")
        if self.nature == "relative" and not self.threshold.expr:
            raise ValueError("a relative target needs threshold.expr (e.g. province_rate + param)")
        if self.baseline is not None and self.nature not in ("target", "cumulative", "relative"):
            raise ValueError("only targets due by a date can have a baseline trajectory")
        if self.subject not in KINDS:
            raise ValueError(f"unknown subject {self.subject}")
        return self


class MeasureFile(Strict):
    measure: int = Field(ge=0, le=999)  # 0 = 总体要求 (the general requirement)
    title: str
    section: str
    lead_departments: list[str] = Field(min_length=1)
    source: str = Field(min_length=2)
    in_force: Period | None = None
    notes: str | None = None
    checks: list[Check] = Field(min_length=1)

    @field_validator("title", "source", "notes")
    @classmethod
    def _unfold(cls, v: str | None) -> str | None:
        return unfold(v)


class PackMeta(Strict):
    id: str
    title: str
    number: str
    issuer: str
    issued_on: dt.date
    period: Period
    source_text: str | None = None
    fields: str | None = None  # optional fields.yaml extending the record vocabulary
    implements: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("pack id: lowercase letters, digits, '.', '_' and '-'")
        return v
