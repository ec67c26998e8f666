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
