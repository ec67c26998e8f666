"""Exact text forms of judged values and record values, for storage and back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from engine.policy.terms import VERSION_FIELDS
from engine.records.catalog import Catalog
from engine.records.record import _jsonable as _record_jsonable  # the hash's form of a value


def encode_value(v: bool | Decimal | None) -> str | None:
    """A judged value as text: 'true'/'false' or the exact decimal without exponent."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    text = str(v)  # twice as fast as format(); only exponent forms ("1E+2", "1E-7") need format()
    return format(v, "f") if "E" in text else text


def decode_value(s: str | None) -> bool | Decimal | None:
    if s is None:
        return None
    if s in ("true", "false"):
        return s == "true"
    return Decimal(s)


def _jsonable(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def values_json(values: dict[str, Any]) -> str:
    """Canonical JSON of normalised record values (decimals as exact text, dates ISO)."""
    return json.dumps({k: _jsonable(v) for k, v in values.items()}, ensure_ascii=False, sort_keys=True)


def clean_text(s: str | None, limit: int | None = None) -> str | None:
    """Text safe for every backend (PostgreSQL rejects NUL characters), cut to the column's length."""
    if s is None:
        return None
    if "\x00" in s:  # rare: testing first avoids copying every message
        s = s.replace("\x00", "\\x00")
    return s[:limit] if limit is not None and len(s) > limit else s


# The columns of check_versions besides its keys, in the order the fingerprint reads them: what a
# finding shares with its check version (policy.terms.VERSION_FIELDS) but the check's id.
STATIC_COLUMNS = VERSION_FIELDS[1:]


def check_version_fingerprint(check_id: str, static: dict[str, Any]) -> str:
    """Identity of a check version's content: equal content, equal fingerprint (dates as ISO text)."""
    due = static["due"]
    parts = [check_id] + [
        static[k] if k != "due" else (None if due is None else str(due)[:10]) for k in STATIC_COLUMNS
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


_DEC_ONE = Decimal(1)


def version_texts(kind: str, record_id: str, name: str | None, values: dict[str, Any]) -> tuple[str, str]:
    """(content hash, values JSON) of a record in one pass over its values.

    The hash is exactly ``Record.content_hash()`` (decimals normalised, so 45.30 and 45.3 are the same
    content) and the JSON exactly ``values_json(values)`` (decimals as written); computing them apart
    walked every value twice (measured: the largest cost of preparing a chunk after the findings).
    """
    plain: dict[str, Any] = {}
    normal: dict[str, Any] = {}
    same = True  # every value has one form for both (then the hash's text is built around the JSON)
    for k, v in values.items():
        t = type(v)
        if t is Decimal:
            text = str(v)
            if "E" in text:
                plain[k] = format(v, "f")
            else:
                plain[k] = text
                # Already in its normal form: an integer as written, or a fraction whose last digit is
                # not 0, short enough that normalize() (28 digits) cannot round it. "-0" and "-0.5"
                # keep their sign, as normalize() and quantize() do.
                if len(text) < 20 and ("." not in text or text[-1] != "0"):
                    normal[k] = text
                    continue
            normal[k] = str(v.normalize()) if v != v.to_integral_value() else str(v.quantize(_DEC_ONE))
            same = same and normal[k] == plain[k]
        elif t is bool or t is str or t is int or v is None:
            plain[k] = normal[k] = v
        elif t is dt.date:
            plain[k] = normal[k] = v.isoformat()
        else:  # anything else: the two general forms
            plain[k] = _jsonable(v)
            normal[k] = _record_jsonable(v)
            same = False
    text_ = _canonical(plain)
    if same:  # the usual case: the hash's form is the JSON itself, inside its envelope
        # sort_keys orders the envelope id, kind, name, values: the same text _canonical would make
        payload = (
            f'{{"id": {_canonical(record_id)}, "kind": {_canonical(kind)}, '
            f'"name": {_canonical(name)}, "values": {text_}}}'
        )
    else:
        payload = _canonical({"kind": kind, "id": record_id, "name": name, "values": normal})
    return hashlib.sha256(payload.encode()).hexdigest(), text_


# json.dumps(..., ensure_ascii=False, sort_keys=True) with the encoder made once, not per call
_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


DETAIL_KEYS = (
    "review_reasons",
    "basis",
    "reported",
    "counted",
    "baseline",
    "baseline_year",
    "baseline_source",
)


def details_json(values: dict[str, Any]) -> str | None:
    """A finding's review reasons and the figures beside the judged one, as JSON; None when all are empty."""
    out: dict[str, Any] = {}
    for k in DETAIL_KEYS:
        v = values.get(k)
        if v is None or v == []:
            continue
        out[k] = encode_value(v) if isinstance(v, Decimal) else v
    return json.dumps(out, ensure_ascii=False, sort_keys=True) if out else None


def decode_details(text: str | None) -> dict[str, Any]:
    """details_json read back: decimals as Decimal, reasons as a list."""
    if not text:
        return {"review_reasons": []}
    raw = json.loads(text)
    out: dict[str, Any] = {"review_reasons": list(raw.get("review_reasons", []))}
    for k in ("reported", "counted", "baseline"):
        if raw.get(k) is not None:
            out[k] = decode_value(raw[k])
    for k in ("basis", "baseline_year", "baseline_source"):
        if raw.get(k) is not None:
            out[k] = raw[k]
    return out


def decode_values(raw: dict[str, Any], kind: str, catalog: Catalog) -> dict[str, Any]:
    """Stored JSON values back to typed ones (decimals exact, dates as dates)."""
    out: dict[str, Any] = {}
    for k, v in raw.items():
        spec = catalog.field(kind, k) if kind in catalog.kinds else None
        if v is None or spec is None:
            out[k] = v
        elif spec.type == "number" and isinstance(v, str | int | float):
            out[k] = Decimal(str(v))
        elif spec.type == "date" and isinstance(v, str):
            out[k] = dt.date.fromisoformat(v)
        else:
            out[k] = v
    return out
