"""The rule format's shared terms: statuses, natures and comparison operators with their Chinese
words, ids, folded Chinese text, periods, the strict base of every rule-file model, and what a finding
shares with its check version. The models themselves are in ``check_schema.py`` (a check),
``soft.py`` (its soft wording) and ``schema.py`` (measure files and packs).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
