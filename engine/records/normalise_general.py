"""Validating a raw record cell by cell: the reference path of ``Normaliser`` and the parts both paths share.

The header and kind look-ups, the identity, the record built from typed values, the kind model's
verdict and one cell's coercion; engine/records/normalise.py adds the fast path on top.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from engine.records import coerce, units
from engine.records.catalog import Catalog, FieldSpec
from engine.records.headers import ID_KEYS, KIND_KEYS, NAME_KEYS, split_header
from engine.records.identity import MAX_NAME, _identity_problem, _identity_text, _kind_text
from engine.records.kindmodel import _explain, kind_model
from engine.records.layout import MEMO_ENTRIES, _Layout
from engine.records.record import Conversion, RawRecord, Record, RecordError, SourceRef, trusted_record

Drop = Callable[[str, str | None, str], None]


def dropper(
    errors: list[RecordError], src: SourceRef, rid_text: str, invalid: dict[str, str], values: dict[str, Any]
) -> Drop:
    """What leaves a field out of a record: drop(field name, label, message) reports it and removes it."""

    def drop(fname: str, label: str | None, message: str) -> None:
        errors.append(
            RecordError(source=src, record_id=rid_text, field=label, message=message, row_rejected=False)
        )
        invalid[fname] = f"字段无效:{message}"
        values.pop(fname, None)

    return drop


class GeneralNormaliser:
    """Validates raw records of any kind against a catalog, cell by cell (``normalise_general``)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._header_cache: dict[tuple[str, str], tuple[str, str | None] | None] = {}
        self._kind_cache: dict[tuple[str, ...], str | None] = {}
        self._layouts: dict[tuple[str, ...], _Layout] = {}
        self._kind_names: dict[str, str | None] = {}
        self._memo_room = MEMO_ENTRIES

    def resolve_header(self, kind: str, header: str) -> tuple[str, str | None] | None:
        key = (kind, header)
        if key not in self._header_cache:
            label, unit = split_header(header)
            fname = self.catalog.resolve_field(kind, label) or self.catalog.resolve_field(kind, header)
            self._header_cache[key] = (fname, unit) if fname else None
        return self._header_cache[key]

    def infer_kind(self, headers: list[str]) -> str | None:
        """The kind whose own (non-common) fields the headers name most, if exactly one leads.

        A sheet of 项目编号/总投资/用地面积 columns is a sheet of projects without a 类型 column.
        """
        key = tuple(headers)
        if key not in self._kind_cache:
            common = set.intersection(*(set(k.fields) for k in self.catalog.kinds.values()))
            scores: dict[str, int] = {}
            for kind in self.catalog.kinds:
                hits = {
                    r[0] for h in headers if (r := self.resolve_header(kind, str(h))) and r[0] not in common
                }
                scores[kind] = len(hits)
            ranked = sorted(scores.items(), key=lambda kv: -kv[1])
            best = ranked[0] if ranked and ranked[0][1] > 0 else None
            tie = len(ranked) > 1 and best is not None and ranked[1][1] == best[1]
            self._kind_cache[key] = None if best is None or tie else best[0]
        return self._kind_cache[key]

    @staticmethod
    def _candidates(keys: tuple[str, ...], wanted: tuple[str, ...]) -> tuple[str, ...]:
        """The columns ``_identity`` looks at, in its order: exact names first, then labels like '编号(必填)'."""
        exact = [k for k in wanted if k in keys]
        return tuple(exact + [k for k in keys if split_header(k)[0] in wanted and k not in exact])

    def _identity(self, data: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
        for k in keys:
            if k in data and not coerce.is_missing(data[k]):
                return k, data[k]
        for k, v in data.items():  # headers like '项目编号(必填)'
            if split_header(str(k))[0] in keys and not coerce.is_missing(v):
                return k, v
        return None, None

    def normalise_general(self, raw: RawRecord) -> tuple[Record | None, list[RecordError], list[str]]:
        """``normalise`` cell by cell, nothing kept between rows: the reference the fast path is held to."""
        src = raw.source
        errors: list[RecordError] = []
        _, rid = self._identity(raw.data, ID_KEYS)
        rid_text, id_problem, id_hidden = _identity_text(rid)

        def err(field: str | None, message: str) -> None:
            errors.append(RecordError(source=src, record_id=rid_text, field=field, message=message))

        kind_key, kind_raw = self._identity(raw.data, KIND_KEYS)
        kind = self.catalog.resolve_kind(_kind_text(kind_raw)) if kind_raw is not None else raw.default_kind
        if kind is None and kind_raw is None:
            kind = self.infer_kind(list(raw.data))
        problem = _identity_problem(kind, kind_key, kind_raw, id_problem, rid_text, self.catalog)
        if problem is not None:
            err(*problem)
            return None, errors, []
        assert kind is not None and rid_text is not None
        name_key, name_raw = self._identity(raw.data, NAME_KEYS)
        identity_keys = {k for k in (kind_key, name_key) if k} | {
            k for k in raw.data if split_header(str(k))[0] in ID_KEYS
        }

        spec = self.catalog.kind(kind)
        values: dict[str, Any] = {}
        invalid: dict[str, str] = {}
        conversions: list[Conversion] = []
        unknown: list[str] = []

        drop = dropper(errors, src, rid_text, invalid, values)
        for key, cell in raw.data.items():
            if key in identity_keys:
                continue
            resolved = self.resolve_header(kind, str(key))
            if resolved is None:
                if not coerce.is_missing(cell):
                    unknown.append(str(key))
                continue
            fname, header_unit = resolved
            if fname in values or fname in invalid:
                drop(fname, fname, f"given twice (column {key!r} repeats field {fname})")
                continue
            if coerce.is_missing(cell):
                continue
            f = spec.fields[fname]
            try:
                values[fname] = self._coerce(f, cell, header_unit, conversions)
            except (coerce.CoerceError, units.UnitError) as exc:
                drop(fname, f"{f.label}/{fname}", str(exc))
        typed = self._validate(kind, values, drop)
        return self._record(
            kind,
            rid_text,
            id_hidden,
            name_key,
            name_raw,
            typed,
            src,
            conversions,
            invalid,
            drop,
            errors,
            unknown,
        )

    def _record(
        self,
        kind: str,
        rid_text: str,
        id_hidden: list[str],
        name_key: str | None,
        name_raw: Any,
        typed: dict[str, Any],
        src: SourceRef,
        conversions: list[Conversion],
        invalid: dict[str, str],
        drop: Drop | None,
        errors: list[RecordError],
        unknown: list[str],
        sure: bool = False,
        values: dict[str, Any] | None = None,
    ) -> tuple[Record | None, list[RecordError], list[str]]:
        """The record of a usable identity: its name (or why not), warnings, the fields left out.

        Without `drop`, one is made on `values` (the values as coerced) if the name is refused.
        """
        name, name_problem, name_hidden = _identity_text(name_raw)
        if name_problem is None and name is not None and len(name) > MAX_NAME:
            name_problem = f"longer than {MAX_NAME} characters"
        if name_problem is not None:
            if drop is None:
                assert values is not None
                drop = dropper(errors, src, rid_text, invalid, values)
            drop("name", name_key, f"record name {name_problem}")
            name = None
        warnings = (
            [
                f"{what}中的不可见或控制方向的字符 {', '.join(chars)} 已删除 (invisible/bidi characters removed "
                f"from the {en})"
                for what, en, chars in (("编号", "id", id_hidden), ("名称", "name", name_hidden))
                if chars
            ]
            if id_hidden or name_hidden
            else []
        )
        if invalid:
            conversions = [c for c in conversions if c.field not in invalid]
        if sure:
            # Every part already has the exact type Record declares (text, a SourceRef, values that
            # _within cleared), so validating would hand back these very objects: build it directly,
            # as Record(...) would have (same fields set).
            rec = trusted_record(kind, rid_text, name, typed, src, conversions, warnings, invalid)
        else:
            rec = Record(
                kind=kind,
                id=rid_text,
                name=name,
                values=typed,
                source=src,
                conversions=conversions,
                warnings=warnings,
                invalid=invalid,
            )
        return rec, errors, unknown

    def _validate(self, kind: str, values: dict[str, Any], drop: Drop) -> dict[str, Any]:
        """The kind model's verdict: the typed values; a value it refuses is dropped and reported by `drop`."""
        spec = self.catalog.kind(kind)
        model = kind_model(self.catalog, kind)
        while True:
            try:
                validated = model.model_validate(values)
            except ValidationError as exc:
                removed = False
                for e in exc.errors():
                    fname = str(e["loc"][0]) if e["loc"] else None
                    f = spec.fields.get(fname or "")
                    label = f"{f.label}/{fname}" if f else fname
                    removed = removed or fname in values
                    drop(fname or "?", label, _explain(e, f))
                if not removed:  # not a value's fault (cannot happen with the catalog's own fields)
                    return {}
                continue
            return {k: v for k, v in validated.model_dump().items() if v is not None}

    def _coerce(self, f: FieldSpec, cell: Any, header_unit: str | None, conversions: list[Conversion]) -> Any:
        if type(cell) is coerce.BadCell:
            raise coerce.CoerceError(cell.reason)
        if f.type == "number":
            d, written = coerce.to_decimal(cell, f.unit, f.percent_points)
            given_unit = written or header_unit
            if f.unit == "%" and given_unit in (None, "%"):
                coerce.check_percent(d, written if written else header_unit, f.percent_points)
            if given_unit and f.unit and given_unit != f.unit:
                converted = units.convert(d, given_unit, f.unit)
                conversions.append(
                    Conversion(
                        field=f.name,
                        original=f"{d}{given_unit}",
                        from_unit=given_unit,
                        to_unit=f.unit,
                        value=converted,
                    )
                )
                d = converted
            elif given_unit and not f.unit:
                raise coerce.CoerceError(f"field has no unit but {given_unit} was given")
            return d
        if f.type == "integer":
            if not f.unit:
                return coerce.to_int(cell)  # a year
            # A count takes units as amounts do (7,600人, 2.0万户, a header '(万户)'), converted exactly
            # to the field's unit; the result must be a whole number of it.
            n, written = coerce.to_decimal(cell, f.unit, f.percent_points)
            given_unit = written or header_unit
            if given_unit and given_unit != f.unit:
                converted = units.convert(n, given_unit, f.unit)
                whole = coerce.whole(converted, cell, f.unit)
                conversions.append(
                    Conversion(
                        field=f.name,
                        original=f"{n}{given_unit}",
                        from_unit=given_unit,
                        to_unit=f.unit,
                        value=Decimal(whole),
                    )
                )
                return whole
            return coerce.whole(n, cell, f.unit)
        if f.type == "boolean":
            return coerce.to_bool(cell)
        if f.type == "date":
            return coerce.to_date(cell)
        if f.type == "enum":
            return coerce.to_enum(cell, f.choices)
        return coerce.to_text(cell)
