"""Turning cell values as people type them into typed values, or a clear reason why not.

Spreadsheets carry numbers as text with thousands separators, full-width digits, a unit glued on
("1.2亿元"), percentages as "57%", dates as Excel serial numbers. Each function returns the typed
value or raises ``CoerceError`` with a message a reviewer can act on. Nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from engine.records import units


class CoerceError(ValueError):
    pass


class BadCell:
    """A cell a reader could not take as a value (bad text, a YAML tag, a number Excel rounded), with the reason.

    The reader puts it in place of the value, so the record loses that field, not the row.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"BadCell({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BadCell) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(("BadCell", self.reason))


# A number is refused beyond these decimal exponents, before any arithmetic: 1e1000000 would trap
# decimal's Overflow, a 5,001-digit integer would pass Python's int digit limit when printed, and
# 1e-1000000 would round to 0 silently. Within these, the field's own range (MAX_MAGNITUDE ~1e10) refuses.
MAX_EXPONENT = 400
MIN_EXPONENT = -400


def _bounded(d: Decimal, value: object) -> Decimal:
    if d.is_zero():
        return d.copy_abs() if d.is_signed() else d  # -0 -> 0
    e = d.adjusted()
    if e > MAX_EXPONENT:
        raise CoerceError(
            f"数值溢出 number overflows: {_brief(value)} has {e + 1} digits before the decimal point "
            f"(at most {MAX_EXPONENT} are read)"
        )
    if e < MIN_EXPONENT:
        raise CoerceError(
            f"数值过小 number too small to keep exactly: {_brief(value)} "
            f"(nothing below 1e{MIN_EXPONENT} is read)"
        )
    return d + 0


def _brief(value: object, limit: int = 40) -> str:
    """A value in a message, shortened; a 5,000-digit number is never printed whole (nor converted to text)."""
    if isinstance(value, str):
        return repr(value[:limit] + "…") if len(value) > limit else repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) >= limit:
        return f"{value:.6E}"
    text = repr(value)
    return text[:limit] + "…" if len(text) > limit else text


MISSING_MARKERS = {"", "-", "—", "--", "/", "n/a", "N/A", "NA", "null", "NULL", "None", "无数据", "暂无"}

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SIMPLE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_WITH_UNIT = re.compile(r"^(?P<num>[+-]?[\d,]*\.?\d+(?:[eE][+-]?\d+)?)\s*(?P<unit>\D.*)$")


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        if value.isascii():  # NFKC leaves ASCII as it is
            return value.strip() in MISSING_MARKERS
        return unicodedata.normalize("NFKC", value).strip() in MISSING_MARKERS
    return False


def _text(value: object) -> str:
    # NFKC folds full-width digits, signs and the ideographic space into ASCII.
    return unicodedata.normalize("NFKC", str(value)).strip()


def to_decimal(value: object, unit: str | None, percent_points: bool = True) -> tuple[Decimal, str | None]:
    """Parse a number; return it with the unit it was written in (None = the field's own unit)."""
    if type(value) is str and _SIMPLE.fullmatch(value):  # '37403', '-12.5': most cells, nothing to fold
        if len(value) <= 20:
            return Decimal(value) + 0, None
        return _bounded(Decimal(value), value), None
    if isinstance(value, bool):
        raise CoerceError(f"expected a number, got a yes/no value {value!r}")
    if isinstance(value, int):
        if value.bit_length() > 1400:  # ~420 digits: past MAX_EXPONENT, never converted
            raise CoerceError(
                f"数值溢出 number overflows: an integer of about {int(value.bit_length() * 0.30103)} digits"
            )
        return _bounded(Decimal(value), value), None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise CoerceError(f"not a finite number: {value!r}")
        # repr() is the shortest decimal that round-trips: 26438.95, not 26438.950000000000728
        return _bounded(Decimal(repr(value)), value), None  # folds -0.0 into 0
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CoerceError(f"not a finite number: {value}")
        return _bounded(value, value), None
    if not isinstance(value, str):
        raise CoerceError(f"expected a number, got {_kind_of(value)}")
    text = _text(value).replace(" ", "")
    if text in EXCEL_ERRORS:
        raise CoerceError(f"Excel error value {text} (the formula failed), not a number")
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise CoerceError(f"not a finite number: {value!r}")
    written_unit: str | None = None
    if text.endswith("%"):
        if unit != "%":
            raise CoerceError(f"percentage {value!r} given for a field in {unit or 'no unit'}")
        text, written_unit = text[:-1], "%"
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _PLAIN.match(text):
        m = _WITH_UNIT.match(text)
        if not m or not units.is_known(m.group("unit")):
            raise CoerceError(f"not a number: {_brief(value, 80)}")
        num = m.group("num")
        if "," in num:
            if not _THOUSANDS.match(num):
                raise CoerceError(f"not a number: {value!r}")
            num = num.replace(",", "")
        text, written_unit = num, m.group("unit")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise CoerceError(f"not a number: {_brief(value)}") from None
    if not d.is_finite():
        raise CoerceError(f"not a finite number: {_brief(value)}")
    return _bounded(d, value), written_unit


EXCEL_ERRORS = {
    "#DIV/0!",
    "#N/A",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#REF!",
    "#VALUE!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
}


def _kind_of(value: object) -> str:
    if isinstance(value, dict):
        return "a nested object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"a date ({value})"
    return type(value).__name__


def check_percent(d: Decimal, written_unit: str | None, percent_points: bool) -> None:
    """57 and 57% are clear; a bare 0.57 for a points field could mean 57% or 0.57%: refuse."""
    if percent_points and written_unit is None and Decimal(0) < d <= Decimal(1):
        raise CoerceError(
            f"ambiguous percentage {d}: this field is in percent points (57 means 57%); "
            "write it as e.g. 57 or 57% (or 0.57% if that is meant)"
        )


_TRUE = {"true", "yes", "y", "1", "是", "有", "√", "✓", "对"}
_FALSE = {"false", "no", "n", "0", "否", "无", "×", "✗", "不是"}


def to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)) and value in (0, 1):
        return bool(value)
    t = _text(value).lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise CoerceError(f"expected 是/否 (yes/no), got {value!r}")


_YEAR = re.compile(r"^(\d{4})\s*年?(度)?$")


def to_int(value: object) -> int:
    """A whole number without a unit (a year: 2024, 2024年, 2024年度)."""
    if isinstance(value, bool):
        raise CoerceError(f"expected a whole number, got {value!r}")
    if isinstance(value, str):
        t = _text(value)
        m = _YEAR.match(t)
        if m:
            return int(m.group(1))
    d, u = to_decimal(value, None)
    if u is not None or d != d.to_integral_value():
        raise CoerceError(f"expected a whole number, got {_brief(value)}")
    return int(d)


def whole(d: Decimal, value: object, unit: str | None) -> int:
    """The integer a count is, or why not: 2.0万户 is 20000户; 1.23456万户 is not a whole number of 户."""
    if d != d.to_integral_value():
        raise CoerceError(
            f"不是整数 not a whole number{f' of {unit}' if unit else ''}: {_brief(value)} = {d}{unit or ''}"
        )
    return int(d)


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def to_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # An Excel serial date (days since 1899-12-30); plausible range 1982..2119.
        if 30_000 <= value <= 80_000 and float(value).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise CoerceError(f"not a date: {value!r}")
    t = _text(value)
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", t):
        t = t[:10]
    for pat in _DATE_PATTERNS:
        m = pat.match(t)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as exc:
                raise CoerceError(f"日期不存在 not a valid date: {value!r} ({exc})") from None
    if re.match(r"^\d{5}(\.0)?$", t):
        return to_date(float(t))
    raise CoerceError(f"not a date (expected 2024-06-01): {value!r}")


_SURROGATE = re.compile(r"[\ud800-\udfff]")

# Characters that show nothing or reorder what follows: zero-width space/joiners, word joiner and
# invisible operators, soft hyphen, BOM, bidi embeddings, overrides and isolates, Arabic letter mark.
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def strip_invisible(text: str) -> tuple[str, list[str]]:
    """(text without invisible and bidi control characters, the code points removed as U+XXXX)."""
    if not INVISIBLE.search(text):
        return text, []
    found = sorted({f"U+{ord(ch):04X}" for ch in INVISIBLE.findall(text)})
    return INVISIBLE.sub("", text), found


# Unicode category Cc (C0 and C1 controls, DEL) except tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Either of the above: one search clears a clean text (nearly every cell) at once.
_BAD = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def any_bad_text(texts: list[str]) -> bool:
    """Whether some text of the list would have a ``bad_text`` reason (a fast screen for whole rows)."""
    # Line feed joins them: it is allowed, so it cannot make a clean row look bad.
    return _BAD.search("\n".join(texts)) is not None


def has_bad_text(text: str) -> bool:
    """Whether some part of the text would have a ``bad_text`` reason (any_bad_text of texts joined by line feeds)."""
    return _BAD.search(text) is not None


def bad_text(value: object) -> str | None:
    """Why a text cannot be kept as it is (undecodable bytes, NUL, control characters), or None.

    Such text cannot be stored (PostgreSQL refuses NUL; UTF-8 refuses lone surrogates) or printed.
    """
    if not isinstance(value, str) or not _BAD.search(value):
        return None
    if _SURROGATE.search(value):
        return "contains bytes that are not valid text in the file's encoding (or a lone surrogate)"
    m = _CONTROL.search(value)
    if m:
        return f"contains the control character U+{ord(m.group()):04X}"
    return None


def to_text(value: object) -> str:
    if isinstance(value, (dict, list, tuple, set)):
        raise CoerceError(
            f"expected text, got {'a list' if not isinstance(value, dict) else 'a nested object'}"
        )
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise CoerceError(f"expected text, got the number {value!r}")
        if value.is_integer():
            value = int(value)
    if isinstance(value, int) and value.bit_length() > 1000:
        raise CoerceError(f"数值过长 number too long to be text: {_brief(value)}")
    text = unicodedata.normalize("NFC", str(value)).strip()
    why = bad_text(text)
    if why:
        raise CoerceError(f"text {why}")
    return text


def to_enum(value: object, choices: list[str]) -> str:
    t = _text(value)
    for c in choices:
        if t == c or t == unicodedata.normalize("NFKC", c):
            return c
    raise CoerceError(f"{value!r} is not one of: {', '.join(choices)}")
