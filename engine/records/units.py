"""Units of measure and exact conversion between them.

Every quantity field has one canonical unit (money in 万元, land in 亩, ...). Input may be given in
another unit of the same family (元, 亿元, m², 公顷); conversion is exact decimal arithmetic so a
value converted onto a threshold stays on it.
"""

from __future__ import annotations

from decimal import Decimal

# Each family maps a unit name to its size in the family's base unit. Aliases share a size.
_FAMILIES: dict[str, dict[str, Decimal]] = {
    "money": {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)},
    "area": {
        "平方米": Decimal(1),
        "m²": Decimal(1),
        "m2": Decimal(1),
        "㎡": Decimal(1),
        # 1 亩 = 10000/15 m², kept as a fraction-free factor by expressing the family in 1/15 m².
        "亩": Decimal(10_000) / Decimal(15),
        "公顷": Decimal(10_000),
        "万平方米": Decimal(10_000),
        "平方公里": Decimal(1_000_000),
        "km²": Decimal(1_000_000),
    },
    "power": {
        "千瓦": Decimal(1),
        "kW": Decimal(1),
        "兆瓦": Decimal(1_000),
        "MW": Decimal(1_000),
        "万千瓦": Decimal(10_000),
    },
    "length": {
        "米": Decimal(1),
        "m": Decimal(1),
        "公里": Decimal(1_000),
        "千米": Decimal(1_000),
        "km": Decimal(1_000),
    },
    "people": {"人": Decimal(1), "万人": Decimal(10_000)},
    "person_times": {"人次": Decimal(1), "万人次": Decimal(10_000)},
    "households": {"户": Decimal(1), "万户": Decimal(10_000)},
    "items": {"个": Decimal(1), "万个": Decimal(10_000)},
    "enterprises": {"家": Decimal(1)},
    "persons_named": {"名": Decimal(1)},
    "lines": {"条": Decimal(1)},  # 条: chains, expressways, routes
    "institutions": {"所": Decimal(1)},
    "stations": {"座": Decimal(1)},
    "percent": {"%": Decimal(1)},
    "percentage_points": {"个百分点": Decimal(1)},
    "years": {"年": Decimal(1)},
    "ratio": {"倍": Decimal(1)},
    "places_per_thousand": {"个/千人": Decimal(1)},
}

_UNIT_FAMILY: dict[str, str] = {u: fam for fam, units in _FAMILIES.items() for u in units}

# Area conversions with 亩 need exactness: 1 亩 = 10000/15 m². Decimal(10000)/15 is not exact, so
# area conversions are computed as value * num / den with integer ratios instead of the table above.
_AREA_RATIONAL: dict[str, tuple[int, int]] = {
    "平方米": (1, 1),
    "m²": (1, 1),
    "m2": (1, 1),
    "㎡": (1, 1),
    "亩": (10_000, 15),
    "公顷": (10_000, 1),
    "万平方米": (10_000, 1),
    "平方公里": (1_000_000, 1),
    "km²": (1_000_000, 1),
}


class UnitError(ValueError):
    """A unit is unknown, or two units cannot be converted into each other."""


def split_compound(unit: str) -> list[str]:
    """'万元/亩' -> ['万元', '亩']; a simple unit -> [unit]."""
    return [p.strip() for p in unit.split("/")]


def is_known(unit: str) -> bool:
    parts = split_compound(unit)
    if len(parts) == 2 and unit in _FAMILIES.get("places_per_thousand", {}):
        return True
    return all(p in _UNIT_FAMILY for p in parts) and len(parts) <= 2


def family(unit: str) -> str:
    """The dimension of a unit: 'money', 'money/area', ..."""
    if unit in _UNIT_FAMILY:
        return _UNIT_FAMILY[unit]
    parts = split_compound(unit)
    try:
        return "/".join(_UNIT_FAMILY[p] for p in parts)
    except KeyError as exc:
        raise UnitError(f"未知单位 unknown unit: {unit!r}") from exc


def _ratio(unit: str) -> tuple[Decimal, Decimal]:
    """Size of a simple unit in its family's base unit, as an exact fraction (num, den)."""
    if unit in _AREA_RATIONAL:
        n, d = _AREA_RATIONAL[unit]
        return Decimal(n), Decimal(d)
    fam = _UNIT_FAMILY.get(unit)
    if fam is None:
        raise UnitError(f"未知单位 unknown unit: {unit!r}")
    return _FAMILIES[fam][unit], Decimal(1)


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert exactly (as far as decimal allows: 亩 <-> m² divides by 15 once, at the end)."""
    if from_unit == to_unit:
        return value
    if from_unit in _UNIT_FAMILY and to_unit in _UNIT_FAMILY:
        # A simple unit that is also a whole compound (个/千人) lands here too.
        pass
    f_from, f_to = family(from_unit), family(to_unit)
    if f_from != f_to:
        raise UnitError(f"单位不可换算 cannot convert {from_unit} to {to_unit}")
    num, den = Decimal(1), Decimal(1)
    parts_from = [from_unit] if from_unit in _UNIT_FAMILY else split_compound(from_unit)
    parts_to = [to_unit] if to_unit in _UNIT_FAMILY else split_compound(to_unit)
    for i, (a, b) in enumerate(zip(parts_from, parts_to, strict=True)):
        an, ad = _ratio(a)
        bn, bd = _ratio(b)
        if i == 0:  # numerator unit: multiply by a/b
            num *= an * bd
            den *= ad * bn
        else:  # denominator unit: multiply by b/a
            num *= bn * ad
            den *= bd * an
    return value * num / den


def compatible(unit_a: str, unit_b: str) -> bool:
    try:
        return family(unit_a) == family(unit_b)
    except UnitError:
        return False
