"""Numbers as a Chinese government letter writes them: 万元/亿元, 亩, 万人, 个百分点, 2024年12月31日.

Display only: judging happens elsewhere at full precision. A displayed value is rounded to two
decimals unless that rounding would make a failing value look equal to its threshold (199.996
against 200 is shown as 199.996, never as 200).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from engine.policy.numbers import display

_TWO = Decimal("0.01")
_WAN = Decimal(10000)
# unit -> (larger unit, factor): used when the value is a whole multiple to two decimals of the larger unit.
_LARGER = {"万元": ("亿元", _WAN), "人": ("万人", _WAN)}


def plain(x: Decimal, *, exact_against: Decimal | None = None) -> str:
    """A decimal without trailing zeros, rounded to two places unless that would hide a difference."""
    rounded = x.quantize(_TWO, rounding=ROUND_HALF_EVEN)
    if rounded != x and exact_against is not None and rounded == exact_against:
        return display(x)
    if rounded != x and abs(x) < 1 and rounded == 0:
        return display(x)
    return display(rounded)


def quantity(x: Decimal | bool | None, unit: str | None, *, exact_against: Decimal | None = None) -> str:
    """'30000, 万元' -> '3亿元'; '27100, 人' -> '2.71万人'; '150, 亩' -> '150亩'; None -> '—'."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "是" if x else "否"
    u = unit or ""
    if u in _LARGER and abs(x) >= _LARGER[u][1]:
        big, factor = _LARGER[u]
        scaled = x / factor
        if scaled == scaled.quantize(_TWO):  # exact in the larger unit, so nothing is hidden
            return f"{plain(scaled)}{big}"
    return f"{plain(x, exact_against=exact_against)}{u}"


def gap(x: Decimal | None, unit: str | None) -> str:
    """A difference: percentages differ by 个百分点, everything else by its unit."""
    if x is None:
        return "—"
    x = abs(x)
    if unit == "%":
        return f"{plain(x)}个百分点"
    return quantity(x, unit)


def percent(x: Decimal | None) -> str:
    """A share already in percent: 96.3%."""
    if x is None:
        return "—"
    return f"{display(x.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN))}%"


def date_zh(d: dt.date | None) -> str:
    """2024-12-31 -> 2024年12月31日."""
    if d is None:
        return "—"
    return f"{d.year}年{d.month}月{d.day}日"


def deadline_zh(d: dt.date | None) -> str:
    """Plan deadlines fall at year end: 2025-12-31 -> 2025年底; other dates in full."""
    if d is None:
        return "—"
    if (d.month, d.day) == (12, 31):
        return f"{d.year}年底"
    return date_zh(d)


def measure_no(n: int) -> str:
    """Measures are cited by their number: 第9条."""
    return f"第{n}条"
