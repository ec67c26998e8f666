"""A check of a measure file, as a pydantic model: its threshold as dated values (like an OpenFisca
parameter), its nature, baseline, amendments, Chinese messages and embedded examples. See
docs/rule-format.md; the measure file and pack models are in ``schema.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from engine.policy.soft import Soft
from engine.policy.terms import Nature, Op, Period, Status, Strict, is_valid_id, unfold


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


class ReferenceValue(Strict):
    """A published figure used where no record of that year is at hand, with where it was published."""

    value: Decimal
    source: str

    @field_validator("value", mode="before")
    @classmethod
    def _num(cls, v: Any) -> Any:
        return Decimal(repr(v)) if isinstance(v, float) else v


class Baseline(Strict):
    """Where a trajectory starts: the subject's own figure of a fixed earlier year.

    The value is `value` (an expression, by default the check's quantity) evaluated on the subject's
    record of `year` — from the same batch or the store — else `reference`. A report never sets its
    own baseline (a reporter who sets the baseline year to the report year makes any value on track).
    """

    year: int = Field(ge=1990, le=2100)
    value: str | None = None
    reference: ReferenceValue | None = None

    @field_validator("year", mode="before")
    @classmethod
    def _fixed(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip().isdigit():
            raise ValueError("the baseline year is a fixed year (e.g. 2023), not a field of the report")
        return v


class CumulativePeriod(Strict):
    first_year: int
    last_year: int


class Example(Strict):
    name: str
    record: dict[str, Any]
    expect: Status
    as_of: dt.date | None = None
    # Other yearly records of the same subject (e.g. 2021-2023), which a cumulative target sums and
    # a trajectory starts from.
    history: list[dict[str, Any]] = Field(default_factory=list)
    # Records of other kinds in the same batch, which an aggregate counts (each with its `kind`).
    batch: list[dict[str, Any]] = Field(default_factory=list)
    review: bool | None = None  # when given, the finding's review flag must be this
    review_date: dt.date | None = None  # the day of review (default: after the plan, so years are closed)


class Amendment(Strict):
    """A change to a check from a date on: a new applicability (thresholds amend via dated values)."""

    start: dt.date = Field(alias="from")
    applies_when: str | None = None
    reference: str | None = None
    note: str | None = None


Role = Literal["standard", "inclusion"]


class Check(Strict):
    id: str
    title: str
    subject: str  # a subject kind of the record vocabulary (packs may declare new kinds)
    nature: Nature
    # An inclusion rule decides whether a record counts towards a figure ("投资500万元以上技改项目"):
    # a record below it is not_applicable (不计入), never non_compliant.
    role: Role = "standard"
    source: str = Field(min_length=2)
    applies_when: str | None = None
    quantity: str
    unit: str | None = None
    op: Op = ">="
    threshold: Threshold
    due: dt.date | None = None
    baseline: Baseline | None = None
    # How a target due by a date is judged before it: along a straight line from the baseline
    # (linear), or against the target itself (flat: an average rate must already clear the bar).
    pace: Literal["linear", "flat"] = "linear"
    period: CumulativePeriod | None = None
    soft: Soft | None = None  # 左右, 力争, 基本实现, 原则上 …: results near the line are flagged for review
    # A ready-made figure of the record for what `quantity` computes from its parts: judged only when
    # the parts are missing (and labelled as reported); flagged when both disagree beyond rounding.
    reported: str | None = None
    # An aggregate (measure file `aggregates:`) counting this figure from lower records: judged when
    # the record states no figure, shown beside a stated one, flagged when they differ.
    counted: str | None = None
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
        if not is_valid_id(v):
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
        if self.role == "inclusion" and self.nature not in ("standard", "duty"):
            raise ValueError("an inclusion rule is a standard (or yes/no) on each record")
        return self

    @property
    def soft_on(self) -> Soft | None:
        """The soft wording that softens this check (None when there is none or it was weighed and set aside)."""
        return self.soft if self.soft is not None and self.soft.words else None

    @property
    def approx(self) -> bool:
        """左右: met at the figure itself, reported with the gap."""
        return self.soft_on is not None and "左右" in self.soft_on.words

    @property
    def aspirational(self) -> bool:
        """力争/争取: judged all the same, worded as an effort target."""
        return self.soft_on is not None and bool({"力争", "争取"} & set(self.soft_on.words))
