"""The pydantic model of each subject kind: what a field takes, and the words for a value it refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from engine.records.catalog import MAX_MAGNITUDE, Catalog, FieldSpec


def _bounds(f: FieldSpec) -> tuple[Any, Any, Any]:
    """(gt, ge, le) of a number or integer field; None where there is no such bound."""
    if f.type == "number":
        gt = f.exclusive_min
        ge = f.min if f.min is not None else (-MAX_MAGNITUDE if gt is None else None)
        return gt, ge, f.max if f.max is not None else MAX_MAGNITUDE
    return (
        None if f.exclusive_min is None else int(f.exclusive_min),
        None if f.min is None else int(f.min),
        int(f.max) if f.max is not None else int(MAX_MAGNITUDE),
    )


def _annotation(f: FieldSpec) -> Any:
    if f.type in ("number", "integer"):
        gt, ge, le = _bounds(f)
        if f.type == "number":
            lo = {k: v for k, v in (("gt", gt), ("ge", ge)) if v is not None}
            return Annotated[Decimal | None, Field(le=le, **lo)]
        kw = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le)) if v is not None}
        return Annotated[int | None, Field(strict=True, **kw)]
    if f.type == "boolean":
        return Annotated[bool | None, Field(strict=True)]
    if f.type == "date":
        return dt.date | None
    return Annotated[str | None, Field(max_length=MAX_TEXT)]


MAX_TEXT = 2000


def _within(f: FieldSpec, value: Any) -> bool:
    """Whether the kind model would take this coerced value as it is (True means it surely would).

    A value this does not clear is left to the pydantic model, which words the error.
    """
    t = f.type
    if t == "number" or t == "integer":
        if type(value) is not (Decimal if t == "number" else int):
            return False
        gt, ge, le = _bounds(f)
        return (gt is None or value > gt) and (ge is None or value >= ge) and value <= le
    if t == "boolean":
        return type(value) is bool
    if t == "date":
        return type(value) is dt.date
    return type(value) is str and len(value) <= MAX_TEXT


# Keyed by catalog identity; the catalog itself is kept in the value so its id cannot be reused.
_MODELS: dict[tuple[int, str], tuple[Catalog, type[BaseModel]]] = {}


def kind_model(catalog: Catalog, kind: str) -> type[BaseModel]:
    """The pydantic model that validates the values of one subject kind."""
    key = (id(catalog), kind)
    if key not in _MODELS:
        spec = catalog.kind(kind)
        fields: dict[str, Any] = {name: (_annotation(f), None) for name, f in spec.fields.items()}
        model = create_model(f"{kind.capitalize()}Values", __config__=ConfigDict(extra="forbid"), **fields)
        _MODELS[key] = (catalog, model)
    return _MODELS[key][1]


def _explain(e: Mapping[str, Any], f: FieldSpec | None) -> str:
    ctx = e.get("ctx") or {}
    unit = f.unit if f and f.unit else ""
    if e["type"] == "greater_than":
        return f"must be greater than {ctx.get('gt')}{unit}, got {e.get('input')}"
    if e["type"] == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}{unit}, got {e.get('input')}"
    if e["type"] == "less_than_equal":
        return f"must be at most {ctx.get('le')}{unit}, got {e.get('input')}"
    if e["type"] == "string_too_long":
        return "text longer than 2000 characters"
    return str(e.get("msg"))
