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
        return Decimal(value) + 0, None
    if isinstance(value, bool):
        raise CoerceError(f"expected a number, got a yes/no value {value!r}")
    if isinstance(value, int):
        return Decimal(value), None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise CoerceError(f"not a finite number: {value!r}")
        # repr() is the shortest decimal that round-trips: 26438.95, not 26438.950000000000728
        return Decimal(repr(value)) + 0, None  # + 0 folds -0.0 into 0
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CoerceError(f"not a finite number: {value}")
        return value + 0, None
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
            raise CoerceError(f"not a number: {value!r}")
        num = m.group("num")
        if "," in num:
            if not _THOUSANDS.match(num):
                raise CoerceError(f"not a number: {value!r}")
            num = num.replace(",", "")
        text, written_unit = num, m.group("unit")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise CoerceError(f"not a number: {value!r}") from None
    if not d.is_finite():
        raise CoerceError(f"not a finite number: {value!r}")
    return d + 0, written_unit


EXCEL_ERRORS = {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!",
                "#CALC!"}


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
            "write it as e.g. 57 or 57% (or 0.57% if that is meant)")


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
    if isinstance(value, bool):
        raise CoerceError(f"expected a whole number, got {value!r}")
    if isinstance(value, str):
        t = _text(value)
        m = _YEAR.match(t)
        if m:
            return int(m.group(1))
    d, u = to_decimal(value, None)
    if u is not None or d != d.to_integral_value():
        raise CoerceError(f"expected a whole number, got {value!r}")
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
                raise CoerceError(f"not a valid date: {value!r} ({exc})") from None
    if re.match(r"^\d{5}(\.0)?$", t):
        return to_date(float(t))
    raise CoerceError(f"not a date (expected 2024-06-01): {value!r}")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


# Unicode category Cc (C0 and C1 controls, DEL) except tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Either of the above: one search clears a clean text (nearly every cell) at once.
_BAD = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def any_bad_text(texts: list[str]) -> bool:
    """Whether some text of the list would have a ``bad_text`` reason (a fast screen for whole rows)."""
    # Line feed joins them: it is allowed, so it cannot make a clean row look bad.
    return _BAD.search("\n".join(texts)) is not None


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
        raise CoerceError(f"expected text, got {'a list' if not isinstance(value, dict) else 'a nested object'}")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise CoerceError(f"expected text, got the number {value!r}")
        if value.is_integer():
            value = int(value)
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
