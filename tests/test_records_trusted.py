"""Records built without validation (record.trusted_record, trusted_raw) are the objects validation builds.

The normaliser and the CSV reader build them for every row from parts that already have the declared
types; the result must be indistinguishable from Record(...) / RawRecord(...): fields, their order,
the fields set, pydantic's own slots, equality, dumps and pickling (records go to worker processes).
"""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from engine.records.record import (
    RAW_FIELDS,
    RECORD_FIELDS,
    SOURCE_FIELDS,
    Conversion,
    RawRecord,
    Record,
    SourceRef,
    trusted_raw,
    trusted_record,
    trusted_source,
)


def _state(m: BaseModel) -> Any:
    return (
        type(m),
        list(m.__dict__.items()),
        m.model_fields_set,
        m.__pydantic_extra__,
        m.__pydantic_private__,
        m.model_dump(),
        m.model_dump_json(),
        repr(m),
    )


def test_the_field_lists_are_the_models_fields() -> None:
    assert tuple(Record.model_fields) == RECORD_FIELDS
    assert tuple(RawRecord.model_fields) == RAW_FIELDS
    assert tuple(SourceRef.model_fields) == SOURCE_FIELDS


def test_a_trusted_source_is_the_source_validation_builds() -> None:
    built, validated = trusted_source("p.csv", 12), SourceRef(file="p.csv", row=12)
    assert built == validated and hash(built) == hash(validated) and str(built) == str(validated)
    assert _state(built) == _state(validated)
    assert _state(pickle.loads(pickle.dumps(built))) == _state(validated)
    assert built.model_fields_set is not trusted_source("p.csv", 12).model_fields_set


def test_a_trusted_record_is_the_record_validation_builds() -> None:
    src = SourceRef(file="p.csv", row=7)
    conv = Conversion(
        field="total_investment", original="1.2亿元", from_unit="亿元", to_unit="万元", value=Decimal(12000)
    )
    parts: dict[str, Any] = {
        "kind": "project",
        "id": "P-1",
        "name": "项目一",
        "values": {
            "total_investment": Decimal("12000"),
            "public_building": True,
            "submitted_on": dt.date(2024, 6, 1),
        },
        "source": src,
        "conversions": [conv],
        "warnings": ["w"],
        "invalid": {"land_area": "字段无效:x"},
    }
    built = trusted_record(**parts)
    validated = Record(**parts)
    assert built == validated
    assert _state(built) == _state(validated)
    again = pickle.loads(pickle.dumps(built))
    assert _state(again) == _state(validated)
    assert built.model_fields_set is not trusted_record(**parts).model_fields_set  # never shared
    assert built.content_hash() == validated.content_hash()


def test_a_trusted_raw_record_is_the_raw_record_validation_builds() -> None:
    src = SourceRef(file="p.csv", row=3)
    data = {"项目编号": "P-1", "总投资(万元)": "12"}
    built = trusted_raw(src, data, "project")
    validated = RawRecord(source=src, data=data, default_kind="project")
    assert built == validated and _state(built) == _state(validated)
    assert _state(trusted_raw(src, data, None)) == _state(RawRecord(source=src, data=data, default_kind=None))
