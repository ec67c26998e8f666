"""The records themselves: a row as read (``RawRecord``), a validated ``Record``, where each came from
(``SourceRef``) and why a row or a field could not be used (``RecordError``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.records.catalog import Catalog

Value = Decimal | bool | int | str | dt.date


class SourceRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    sheet: str | None = None
    row: int | None = None  # the row number a person sees (spreadsheet row, JSON array index + 1)

    def __str__(self) -> str:
        s = self.file
        if self.sheet:
            s += f"[{self.sheet}]"
        if self.row is not None:
            s += f" row {self.row}"
        return s


class RecordError(BaseModel):
    source: SourceRef
    record_id: str | None = None
    field: str | None = None
    message: str
    # False for a field-level error of a record that is still evaluated without that field (the row
    # is not rejected); True when the row gives no record.
    row_rejected: bool = True

    def __str__(self) -> str:
        parts = [str(self.source)]
        if self.record_id:
            parts.append(f"record {self.record_id}")
        if self.field:
            parts.append(f"field {self.field}")
        tail = (
            ""
            if self.row_rejected
            else " (该字段不参与评价,记录其余部分照常评价 field left out, record still evaluated)"
        )
        return ": ".join(parts) + f": {self.message}{tail}"


class Conversion(BaseModel):
    field: str
    original: str
    from_unit: str
    to_unit: str
    value: Decimal


class RawRecord(BaseModel):
    source: SourceRef
    data: dict[str, Any]
    default_kind: str | None = None


class Record(BaseModel):
    """A validated record of one subject kind, values in canonical units."""

    kind: str
    id: str
    name: str | None = None
    values: dict[str, Value]
    source: SourceRef
    conversions: list[Conversion] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    # Fields whose cell could not be used (field name -> the reason, in Chinese): the record is still
    # evaluated, and the checks that need such a field are insufficient_data with that reason.
    invalid: dict[str, str] = Field(default_factory=dict)

    def content_hash(self) -> str:
        payload = json.dumps(
            {
                "kind": self.kind,
                "id": self.id,
                "name": self.name,
                "values": {k: _jsonable(v) for k, v in sorted(self.values.items())},
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


# model_construct() without its per-field loop (as evaluation.findings.Finding.trusted does): the
# parent builds a Record and a RawRecord per row, and that loop cost more than the rest of a Record.
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
RECORD_FIELDS = ("kind", "id", "name", "values", "source", "conversions", "warnings", "invalid")
RAW_FIELDS = ("source", "data", "default_kind")
SOURCE_FIELDS = ("file", "sheet", "row")


def trusted_record(
    kind: str,
    id: str,
    name: str | None,
    values: dict[str, Value],
    source: SourceRef,
    conversions: list[Conversion],
    warnings: list[str],
    invalid: dict[str, str],
) -> Record:
    """Record(...) of parts that already have the exact types it declares, which it would hand back as they are."""
    m = _new(Record)
    _set_dict(
        m,
        {
            "kind": kind,
            "id": id,
            "name": name,
            "values": values,
            "source": source,
            "conversions": conversions,
            "warnings": warnings,
            "invalid": invalid,
        },
    )
    _set_fields_set(m, set(RECORD_FIELDS))
    _set_extra(m, None)
    _set_private(m, None)
    return m


def trusted_source(file: str, row: int) -> SourceRef:
    """SourceRef(file=file, row=row) of a text and an int, as validation would build it (no sheet)."""
    m = _new(SourceRef)
    _set_dict(m, {"file": file, "sheet": None, "row": row})
    _set_fields_set(m, {"file", "row"})
    _set_extra(m, None)
    _set_private(m, None)
    return m


def trusted_raw(source: SourceRef, data: dict[str, Any], default_kind: str | None) -> RawRecord:
    """RawRecord(source=..., data=..., default_kind=...) of a SourceRef, a dict with text keys and a kind or None.

    Validating would copy `data`; this keeps it (a reader's fresh dict of one row).
    """
    m = _new(RawRecord)
    _set_dict(m, {"source": source, "data": data, "default_kind": default_kind})
    _set_fields_set(m, set(RAW_FIELDS))
    _set_extra(m, None)
    _set_private(m, None)
    return m


def _jsonable(v: Value) -> Any:
    if isinstance(v, Decimal):
        return str(v.normalize()) if v != v.to_integral_value() else str(v.quantize(Decimal(1)))
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def record_date(record: Record, catalog: Catalog) -> dt.date | None:
    """The date a record speaks for: its submission date, or the end of the year it reports on."""
    spec = catalog.kind(record.kind)
    v = record.values.get(spec.date_field)
    if isinstance(v, dt.date):
        return v
    if isinstance(v, int):
        rd = record.values.get("report_date")
        if isinstance(rd, dt.date) and rd.year == v:
            return rd
        return dt.date(v, 12, 31)
    for fallback in ("submitted_on", "report_date"):
        fv = record.values.get(fallback)
        if isinstance(fv, dt.date):
            return fv
    ry = record.values.get("report_year")
    if isinstance(ry, int):
        return dt.date(ry, 12, 31)
    return None
