"""Validated records: what the evaluation stage receives.

A ``RawRecord`` is a row as read (file, sheet, row, raw keys and values). ``normalise`` turns it
into a ``Record`` whose values are typed and in canonical units, validated by a pydantic model
generated per subject kind from the catalog, or into ``RecordError``s naming file, row and field.

A cell that cannot be used costs its field, not the record: when the kind and id are usable, the
record comes with that field left out of ``values`` and listed in ``invalid`` (field → reason in
Chinese), and the error has ``row_rejected=False``. Without a usable kind or id there is no record
and one error (``row_rejected=True``). Invisible and bidi control characters are removed from ids
and names with a warning on the record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.records import coerce, units
from engine.records.catalog import FieldSpec
from engine.records.identity import _identity_problem, _identity_text, _kind_text
from engine.records.kindmodel import _within
from engine.records.layout import (
    _MISSING,
    IDENT,
    LAYOUTS,
    MEMO_ENTRIES,
    MEMO_SIZE,
    PLAIN,
    REPEAT,
    UNKNOWN,
    _Column,
    _Layout,
    _Outcome,
)
from engine.records.normalise_general import GeneralNormaliser, dropper
from engine.records.record import Conversion, RawRecord, Record, RecordError

_SIMPLE = coerce._SIMPLE.fullmatch


class Normaliser(GeneralNormaliser):
    """Validates raw records of any kind against a catalog.

    ``normalise`` works out once per header what the column names decide, keeps the outcome of
    each repeated text cell per column, and leaves the kind model only the rows it may refuse;
    ``normalise_general`` does all of it cell by cell, and both give the same answers
    (tests/test_records_fast_path.py).
    """

    def normalise(self, raw: RawRecord) -> tuple[Record | None, list[RecordError], list[str]]:
        """Return (record or None, errors, unknown column names).

        Without a record, the errors hold the row's one reason; with one, the fields left out.
        """
        data = raw.data
        keys = tuple(data)
        layout = self._layouts.get(keys)
        if layout is None:
            if not all(type(k) is str for k in keys):  # a str subclass might print otherwise
                return self.normalise_general(raw)  # YAML keys such as 1 or true: rare, no layout
            if len(self._layouts) >= LAYOUTS:
                self._layouts.clear()
                self._memo_room = MEMO_ENTRIES
            layout = self._layouts[keys] = _Layout(self, keys)
        return self._normalise_fast(raw, layout)

    def _normalise_fast(
        self, raw: RawRecord, layout: _Layout
    ) -> tuple[Record | None, list[RecordError], list[str]]:
        data = raw.data
        src = raw.source
        errors: list[RecordError] = []
        is_missing = coerce.is_missing
        rid = None
        for k in layout.id_keys:
            if not is_missing(data[k]):
                rid = data[k]
                break
        rid_text, id_problem, id_hidden = _identity_text(rid)

        kind_key = kind_raw = None
        for k in layout.kind_keys:
            if not is_missing(data[k]):
                kind_key, kind_raw = k, data[k]
                break
        if kind_raw is not None:
            kind = self._kind_name(kind_raw)
        else:
            kind = raw.default_kind
            if kind is None:
                if layout.inferred is False:
                    layout.inferred = self.infer_kind(list(layout.keys))
                kind = layout.inferred  # type: ignore[assignment]
        problem = _identity_problem(kind, kind_key, kind_raw, id_problem, rid_text, self.catalog)
        if problem is not None:
            errors.append(RecordError(source=src, record_id=rid_text, field=problem[0], message=problem[1]))
            return None, errors, []
        assert kind is not None and rid_text is not None
        name_key = name_raw = None
        for k in layout.name_keys:
            if not is_missing(data[k]):
                name_key, name_raw = k, data[k]
                break

        plan = layout.plans.get(kind)
        if plan is None:
            plan = self._plan(layout, kind)
        # In the kind's field order when that gives the same outcome (values then need no sorting);
        # a row that may tell the two orders apart (two fields left out or converted, a value the
        # kind model checks) is read again in column order, as are rows of other layouts.
        cells = layout.in_kind_order[kind] or plan
        out: _Outcome
        simple = _SIMPLE
        while True:
            values: dict[str, Any] = {}
            invalid: dict[str, str] = {}
            conversions: list[Conversion] = []
            unknown: list[str] = []
            drop = None  # made for the first field left out: most rows have none
            sure = True  # every value is one the kind model takes as it is
            for key, fname, good, memo, route, col in cells:
                if route:
                    if route & IDENT and (key == kind_key or key == name_key):
                        continue
                    if route & UNKNOWN:
                        if not is_missing(data[key]):
                            unknown.append(key)
                        continue
                    if route & REPEAT and (fname in values or fname in invalid):
                        drop = drop or dropper(errors, src, rid_text, invalid, values)
                        drop(fname, fname, f"given twice (column {key!r} repeats field {fname})")
                        continue
                    if route & PLAIN:
                        cell = data[key]
                        # coerce.to_decimal's own first step, and all _coerce does with its result here
                        if type(cell) is str and len(cell) <= 20 and simple(cell):
                            value = values[fname] = Decimal(cell) + 0
                            gt, ge, le = col.bounds
                            if sure and not (
                                (gt is None or value > gt) and (ge is None or value >= ge) and value <= le
                            ):
                                sure = False
                            continue
                cell = data[key]
                if type(cell) is str:  # equal non-text cells (1, 1.0, True) coerce differently
                    hit = good.get(cell)
                    if hit is not None:
                        if hit is not _MISSING:
                            values[fname] = hit
                        continue
                    out = memo.get(cell)
                    if out is None:
                        out = self._outcome(col.field, cell, col.unit)  # type: ignore[arg-type]
                        if self._memo_room > 0 and len(memo) + len(good) < MEMO_SIZE:
                            self._memo_room -= 1
                            if out is _MISSING:
                                good[cell] = out
                            elif type(out) is tuple and out[1] and out[2] is None:
                                good[cell] = out[0]
                            else:
                                memo[cell] = out
                else:
                    out = self._outcome(col.field, cell, col.unit)  # type: ignore[arg-type]
                if out is _MISSING:
                    continue
                if type(out) is str:
                    drop = drop or dropper(errors, src, rid_text, invalid, values)
                    drop(fname, f"{col.field.label}/{fname}", out)  # type: ignore[union-attr]
                    continue
                value, within, conversion = out
                values[fname] = value
                if not within:
                    sure = False
                if conversion is not None:
                    conversions.append(conversion.model_copy())
            if cells is plan or (sure and len(errors) < 2 and len(conversions) < 2):
                break
            cells, errors = plan, []
        if sure:
            # What the kind model would give: the same values, in the kind's field order.
            order = layout.order[kind] if cells is plan else None
            typed = values if order is None else {k: values[k] for k in order if k in values}
        else:
            typed = self._validate(kind, values, drop or dropper(errors, src, rid_text, invalid, values))
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
            sure=sure,
            values=values,
        )

    def _kind_name(self, cell: Any) -> str | None:
        if type(cell) is not str:
            return self.catalog.resolve_kind(_kind_text(cell))
        if cell not in self._kind_names:
            if len(self._kind_names) >= MEMO_SIZE:
                self._kind_names.clear()
            self._kind_names[cell] = self.catalog.resolve_kind(_kind_text(cell))
        return self._kind_names[cell]

    def _plan(
        self, layout: _Layout, kind: str
    ) -> list[tuple[str, str, dict[str, Any], dict[str, Any], int, _Column]]:
        spec = self.catalog.kind(kind)
        columns = []
        named: set[str] = set()
        for key in layout.keys:
            if key in layout.id_columns:
                continue
            resolved = self.resolve_header(kind, key)
            f, unit = (spec.fields[resolved[0]], resolved[1]) if resolved else (None, None)
            repeat = f is not None and f.name in named
            named.add(f.name if f is not None else "")
            columns.append(_Column(key, f, unit, key in layout.kind_keys or key in layout.name_keys, repeat))
        position = {name: i for i, name in enumerate(spec.fields)}
        given = [c.fname for c in columns if c.field is not None]
        in_order = sorted(given, key=position.__getitem__)
        layout.order[kind] = None if given == in_order else tuple(dict.fromkeys(in_order))
        plan = layout.plans[kind] = [(c.key, c.fname, c.good, c.memo, c.route, c) for c in columns]
        layout.in_kind_order[kind] = None
        if layout.order[kind] is not None and not any(c.route & REPEAT for c in columns):
            # the columns of fields by the kind's field order, then the others in column order
            last = len(position)
            layout.in_kind_order[kind] = sorted(plan, key=lambda e: position.get(e[1], last))
        return plan

    def _outcome(self, f: FieldSpec, cell: Any, header_unit: str | None) -> _Outcome:
        if coerce.is_missing(cell):
            return _MISSING
        conversions: list[Conversion] = []
        try:
            value = self._coerce(f, cell, header_unit, conversions)
        except (coerce.CoerceError, units.UnitError) as exc:
            return str(exc)
        return value, _within(f, value), conversions[0] if conversions else None
