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

Status = Literal[
    "compliant", "non_compliant", "not_applicable", "insufficient_data", "on_track", "behind_schedule"
]
STATUSES: tuple[str, ...] = (
    "compliant",
    "non_compliant",
    "not_applicable",
    "insufficient_data",
    "on_track",
    "behind_schedule",
)
STATUS_ZH = {
    "compliant": "符合",
    "non_compliant": "不符合",
    "not_applicable": "不适用",
    "insufficient_data": "资料不足",
    "on_track": "进度正常",
    "behind_schedule": "进度滞后",
}
Nature = Literal["standard", "target", "annual", "cumulative", "relative", "duty"]
NATURE_ZH = {
    "standard": "逐项标准",
    "target": "期限目标",
    "annual": "年度目标",
    "cumulative": "累计目标",
    "relative": "相对目标",
    "duty": "定性要求",
}
Op = Literal[">=", ">", "<=", "<", "==", "!="]
OP_ZH = {">=": "不低于", ">": "高于", "<=": "不高于", "<": "低于", "==": "等于", "!=": "不等于"}

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,80}$")
ID_MAX = 81


def is_valid_id(value: str) -> bool:
    """Whether `value` is a valid pack, check or aggregate id (what validation and lint accept)."""
    return bool(_ID.match(value))


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


# Soft words make a check soft: a result near the line needs a person (需人工复核). Hard words
# (以上, 不低于, 达到, 不少于) give no flag. `rules lint` requires `soft` where the source holds one.
SOFT_WORDS: tuple[str, ...] = (
    "左右",
    "力争",
    "争取",
    "基本实现",
    "基本打通",
    "基本",
    "原则上",
    "一般",
    "适时",
    "积极",
    "逐步",
    "稳步",
)
DEFAULT_BAND = "5%"  # the documented default tolerance band of a soft check: 5 % of the threshold
# "基本" names things, not degrees, in these compounds (基本养老保险, 基本公共服务 …).
_NOT_SOFT = (
    "基本养老",
    "基本医疗",
    "基本医保",
    "基本公共",
    "基本财力",
    "基本饱和",
    "基本方向",
    "基本盘",
    "一般公共预算",
    "基本农田",
    "基本建设",
)


def soft_words_in(text: str) -> list[str]:
    """The soft words a sentence holds (a longer word wins: 基本实现, not 基本; 力争 and 争取 once)."""
    rest = text
    for compound in _NOT_SOFT:
        rest = rest.replace(compound, "")
    found: list[str] = []
    for w in sorted(SOFT_WORDS, key=len, reverse=True):
        if w in rest:
            found.append(w)
            rest = rest.replace(w, "")
    return [w for w in SOFT_WORDS if w in found]


class Soft(Strict):
    """Soft wording of the source sentence and the band around the line within which a result is
    flagged for review. `band` is a percentage of the threshold ("5%") or an amount in the check's
    unit ("0.5"); a yes/no check has no band: a soft duty not met is flagged."""

    # Empty, with a note: the sentence's soft word was weighed and does not soften this check
    # (积极争取信贷支持 does not soften 亿元以上, the threshold a project counts by).
    words: list[str] = Field(default_factory=list)
    band: str = DEFAULT_BAND
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_word(cls, v: Any) -> Any:
        if isinstance(v, dict) and "word" in v and "words" not in v:  # soft: {word: 左右}
            v = dict(v)
            v["words"] = [v.pop("word")]
        return v

    @field_validator("words")
    @classmethod
    def _words(cls, v: list[str]) -> list[str]:
        for w in v:
            if w not in SOFT_WORDS:
                raise ValueError(f"soft word {w!r}: one of {'、'.join(SOFT_WORDS)}")
        return v

    @model_validator(mode="after")
    def _weighed(self) -> Soft:
        if not self.words and not self.note:
            raise ValueError(
                "soft without words needs a note saying why the sentence's soft word does not apply"
            )
        return self

    @property
    def text(self) -> str:
        return "、".join(f"“{w}”" for w in self.words)

    @field_validator("band", mode="before")
    @classmethod
    def _band(cls, v: Any) -> Any:
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            return str(v)
        if isinstance(v, str):
            text = v.strip()
            try:
                amount = Decimal(text[:-1] if text.endswith("%") else text)
            except ArithmeticError:
                raise ValueError(f"band {v!r}: a percentage such as 5% or an amount such as 0.5") from None
            if not amount.is_finite() or amount < 0:
                raise ValueError(f"band {v!r} must be a finite amount of at least 0")
            return text
        return v

    def band_of(self, threshold: Decimal) -> Decimal:
        """The half-width of the band around `threshold`."""
        if self.band.endswith("%"):
            return abs(threshold) * Decimal(self.band[:-1]) / 100
        return Decimal(self.band)


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


class Aggregate(Strict):
    """A figure of one kind counted or summed from records of another (OpenFisca's group sums).

    The records of kind `over` whose check `check` is met (an inclusion rule: 计入) are counted, or
    their `sum` field summed, grouped by the year of their date and, for a county subject, by county.
    """

    id: str
    title: str
    over: str
    subject: str
    check: str  # the inclusion check of `over` records, in the same pack
    sum: str | None = None  # a field of `over` records; none = count them
    unit: str | None = None
    by_county: bool = False  # group by the `county` field (a county subject); else the whole city

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("aggregate id: lowercase letters, digits, '.', '_' and '-'")
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


class MeasureFile(Strict):
    measure: int = Field(ge=0, le=999)  # 0 = 总体要求 (the general requirement)
    title: str
    section: str
    lead_departments: list[str] = Field(min_length=1)
    source: str = Field(min_length=2)
    in_force: Period | None = None
    notes: str | None = None
    checks: list[Check] = Field(min_length=1)
    aggregates: list[Aggregate] = Field(default_factory=list)

    @field_validator("title", "source", "notes")
    @classmethod
    def _unfold(cls, v: str | None) -> str | None:
        return unfold(v)


class Provenance(Strict):
    """Where the pack's text was taken from."""

    publication: str | None = None  # e.g. 菏泽市人民政府网站 政府文件
    url: str | None = None
    retrieved_on: dt.date | None = None
    note: str | None = None  # e.g. 据新闻报道转引


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
    # Reports on years in this window (before the period) are baselines: they feed trajectories and
    # comparisons with earlier years and are not judged themselves.
    baseline_period: Period | None = None
    provenance: Provenance | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("pack id: lowercase letters, digits, '.', '_' and '-'")
        return v


# What a finding shares with every finding of its check version, in this order (the store keeps it
# once, as a check_versions row; evaluation keys its findings' parts by it).
VERSION_FIELDS = (
    "check",
    "check_version",
    "pack",
    "measure",
    "measure_title",
    "check_title",
    "nature",
    "unit",
    "op",
    "due",
)


class SharedText(str):
    """A finding's message that is the same for every finding of its check version and outcome (most
    not-applicable and yes/no sentences): one object, made once per check version, which the store
    keeps once (``shared_messages``) instead of once per finding."""

    __slots__ = ()
