"""The rule file format, as pydantic models.

A pack is a folder: ``pack.yaml`` (the document: title, number, issuer, date, period, source text)
and one YAML file per numbered measure. A measure file carries its source sentence, section, lead
departments, period in force, and its checks; each check its threshold as dated values (like an
OpenFisca parameter), its nature, Chinese messages and embedded examples. See docs/rule-format.md.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from engine.policy.check_schema import Check
from engine.policy.terms import Period, Strict, is_valid_id, unfold


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
        if not is_valid_id(v):
            raise ValueError("aggregate id: lowercase letters, digits, '.', '_' and '-'")
        return v


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
        if not is_valid_id(v):
            raise ValueError("pack id: lowercase letters, digits, '.', '_' and '-'")
        return v
