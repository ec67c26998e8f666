"""Soft wording of a source sentence (左右, 力争, 基本实现, 原则上 …) and the band it flags for review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator

from engine.policy.terms import Strict

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
