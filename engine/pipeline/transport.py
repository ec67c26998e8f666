"""What travels between the parent and the workers: chunks out, findings back, as plain tuples.

Pickling pydantic models field by field costs as much as validating them, and unpickling them more
than building them: a chunk goes to a worker as its records' field values, and findings travel back
(when the caller wants them) as each finding's already-validated field values (decimals as text,
dates as ordinals; what a finding shares with its record or its check version sent once per chunk).
The receiving side re-creates the models without validating them a second time.
"""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from engine.evaluation.findings import Finding
from engine.pipeline.stream import ChunkResult
from engine.records.model import Record, SourceRef

_FIELDS = tuple(Finding.model_fields)
# A finding = what its record gives + what its check version and status give + its own values.
_RECORD = ("record_id", "kind", "record_name", "source")
_OWN = ("value", "threshold", "target", "message", "missing_fields", "as_of")  # order used by decode
# A finding's own values beyond those (review flags, basis, the figures beside the judged one).
_EXTRA = (
    "review",
    "review_reasons",
    "basis",
    "reported",
    "counted",
    "baseline",
    "baseline_year",
    "baseline_source",
)
_STATIC = tuple(k for k in _FIELDS if k not in _RECORD and k not in _OWN and k not in _EXTRA)
_LISTS = tuple(k for k in _STATIC if k == "lead_departments")


def _enc(v: Any) -> Any:
    if isinstance(v, Decimal):
        return ("d", str(v))
    if isinstance(v, dt.date):
        return ("t", v.toordinal())
    if isinstance(v, list):
        return ("l", tuple(v))
    if isinstance(v, BaseModel):
        return ("m", type(v), v.__dict__)
    return v


def _dec(v: Any) -> Any:
    if type(v) is tuple:
        tag = v[0]
        if tag == "d":
            return Decimal(v[1])
        if tag == "t":
            return dt.date.fromordinal(v[1])
        if tag == "l":
            return list(v[1])
        return v[1].model_validate(v[2])
    return v


Encoded = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def encode_findings(findings: list[Finding]) -> Encoded:
    """(record parts, static parts, rows): each record's and each check version's fields sent once."""
    records: dict[tuple[Any, ...], int] = {}
    statics: dict[tuple[Any, ...], int] = {}
    rows = []
    for f in findings:
        d = f.__dict__
        rkey = (d["record_id"], d["kind"], d["record_name"], id(d["source"]))
        ri = records.get(rkey)
        if ri is None:
            ri = records[rkey] = len(records)
        skey = tuple(_enc(d[k]) if k in _LISTS else d[k] for k in _STATIC)
        si = statics.get(skey)
        if si is None:
            si = statics[skey] = len(statics)
        rows.append((ri, si, *(_enc(d[k]) for k in _OWN), tuple(_enc(d[k]) for k in _EXTRA)))
    sources = {id(f.__dict__["source"]): f.__dict__["source"] for f in findings}
    record_parts = [(rid, kind, name, _enc(sources[src])) for (rid, kind, name, src) in records]
    static_parts = [tuple(_enc(v) for v in key) for key in statics]
    return record_parts, static_parts, rows


def decode_findings(encoded: Encoded) -> list[Finding]:
    # Creating ~10^5 containers would trigger the cyclic collector many times over a large heap
    # (measured: most of the decoding time); they form no cycles, so it is paused meanwhile.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _decode(encoded)
    finally:
        if enabled:
            gc.enable()


def _decode(encoded: Encoded) -> list[Finding]:
    record_parts, static_parts, rows = encoded
    recs = [
        dict(zip(_RECORD, (rid, kind, name, _dec(src)), strict=True)) for rid, kind, name, src in record_parts
    ]
    # One dict per check version and status with every field in declaration order; a finding's dict
    # is a copy with its record's and its own values filled in (assignment keeps the order).
    templates = []
    for part in static_parts:
        t = dict.fromkeys(_FIELDS)
        t.update(zip(_STATIC, (_dec(v) for v in part), strict=True))
        templates.append(t)
    dates: dict[Any, dt.date] = {}
    out = []
    for ri, si, value, threshold, target, message, missing, as_of, extra in rows:
        d = templates[si].copy()
        d.update(recs[ri])
        d["value"] = _dec(value) if type(value) is tuple else value
        d["threshold"] = _dec(threshold) if type(threshold) is tuple else threshold
        d["target"] = _dec(target) if type(target) is tuple else target
        d["message"] = message
        d["missing_fields"] = list(missing[1])
        day = dates.get(as_of)
        if day is None:
            day = dates[as_of] = _dec(as_of)
        d["as_of"] = day
        for k, v in zip(_EXTRA, extra, strict=True):
            d[k] = _dec(v)
        for k in _LISTS:
            d[k] = list(d[k] or ())  # each finding owns its lists, as after validation
        out.append(Finding.trusted(d))
    return out


# A chunk on its way to a worker: its records as plain tuples (pickling pydantic models field by
# field cost as much as validating them), the rest as it is (rejected rows, problems: few).
SentChunk = tuple[
    int, list[tuple[Any, ...]], list[tuple[frozenset[str], frozenset[str]]], list[Any], list[Any], list[str]
]


_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _rebuild(cls: type[BaseModel], values: dict[str, Any], fields_set: frozenset[str]) -> Any:
    """A model from the field values of one the parent validated: model_construct() without its
    per-field loop (every field is given, in declaration order), as Finding.trusted does."""
    m = object.__new__(cls)
    _set_dict(m, values)
    _set_fields_set(m, set(fields_set))
    _set_extra(m, None)
    _set_private(m, None)
    return m


def send_chunk(chunk: ChunkResult) -> SentChunk:
    field_sets: dict[tuple[frozenset[str], frozenset[str]], int] = {}  # which fields were set, as sent (few)
    records = []
    for r in chunk.records:
        src = r.source
        sets = (frozenset(r.model_fields_set), frozenset(src.model_fields_set))
        k = field_sets.setdefault(sets, len(field_sets))
        records.append(
            (
                r.kind,
                r.id,
                r.name,
                r.values,
                src.file,
                src.sheet,
                src.row,
                r.conversions,
                r.warnings,
                r.invalid,
                k,
            )
        )
    # field_sets: each distinct (record fields set, source fields set) pair, by its number k
    return chunk.index, records, list(field_sets), chunk.errors, chunk.file_problems, chunk.warnings


def receive_chunk(sent: SentChunk) -> ChunkResult:
    """The chunk as the parent had it (records re-created without validating them a second time)."""
    index, records, field_sets, errors, file_problems, warnings = sent
    enabled = gc.isenabled()
    gc.disable()
    try:
        made = [
            _rebuild(
                Record,
                {
                    "kind": kind,
                    "id": rid,
                    "name": name,
                    "values": values,
                    "source": _rebuild(
                        SourceRef, {"file": file, "sheet": sheet, "row": row}, field_sets[k][1]
                    ),
                    "conversions": conversions,
                    "warnings": rec_warnings,
                    "invalid": invalid,
                },
                field_sets[k][0],
            )
            for kind, rid, name, values, file, sheet, row, conversions, rec_warnings, invalid, k in records
        ]
    finally:
        if enabled:
            gc.enable()
    return ChunkResult(
        index=index, records=made, errors=errors, file_problems=file_problems, warnings=warnings
    )
