"""What a row's column names alone decide, worked out once per header for ``Normaliser.normalise``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.records.catalog import FieldSpec
from engine.records.headers import ID_KEYS, KIND_KEYS, NAME_KEYS, split_header
from engine.records.kindmodel import _bounds

if TYPE_CHECKING:
    from engine.records.normalise import Normaliser

# An outcome of one cell: _MISSING, an error message, or (value, whether the kind model surely
# takes it, the Conversion it took).
_MISSING = object()
_Outcome = Any
# Bounds of the outcomes kept (per column and in all) and of the layouts kept: a file has a few
# headers and its yes/no, enum and date columns a few values; ids, names and most numbers never
# repeat, and JSON rows that leave out different keys have many layouts.
MEMO_SIZE = 1024
MEMO_ENTRIES = 50_000
LAYOUTS = 256

# What a column asks of each cell beyond the kept outcomes (bit flags of _Column.route; 0 for most):
IDENT = 1  # it may be the row's kind or name column: skipped then
UNKNOWN = 2  # it names no field of the kind
REPEAT = 4  # an earlier column names the same field
PLAIN = 8  # a number field whose header unit is the field's own (or none), not a percentage:
# a plain number cell ('37403', '-12.5') is its value as written, no conversion, no percent check


class _Column:
    """One column of a layout, as a field of one kind."""

    __slots__ = ("key", "field", "fname", "unit", "maybe_identity", "good", "memo", "route", "bounds")

    def __init__(
        self, key: str, field: FieldSpec | None, unit: str | None, maybe_identity: bool, repeat: bool
    ):
        self.key, self.field, self.unit = key, field, unit
        self.fname = field.name if field is not None else ""
        self.maybe_identity = maybe_identity  # the kind or name column of some rows
        # The kept outcomes of text cells: a value the kind model surely takes as it is (no
        # conversion) or _MISSING in `good` (most), any other outcome in `memo`.
        self.good: dict[str, Any] = {}
        self.memo: dict[str, _Outcome] = {}
        self.route = (IDENT if maybe_identity else 0) | (UNKNOWN if field is None else 0)
        self.route |= REPEAT if repeat else 0
        self.bounds: tuple[Any, Any, Any] = (None, None, None)
        if (
            field is not None
            and field.type == "number"
            and field.unit != "%"
            and (unit is None or unit == field.unit)
        ):
            self.route |= PLAIN
            self.bounds = _bounds(field)  # (gt, ge, le), as _within checks them


class _Layout:
    """What a row's column names alone decide, worked out once per header (every row of a file shares it)."""

    __slots__ = (
        "keys",
        "id_keys",
        "kind_keys",
        "name_keys",
        "id_columns",
        "plans",
        "in_kind_order",
        "order",
        "inferred",
    )

    def __init__(self, normaliser: Normaliser, keys: tuple[str, ...]):
        self.keys = keys
        # The columns _identity looks at, in the order it looks.
        self.id_keys, self.kind_keys, self.name_keys = (
            normaliser._candidates(keys, k) for k in (ID_KEYS, KIND_KEYS, NAME_KEYS)
        )
        self.id_columns = frozenset(k for k in keys if split_header(k)[0] in ID_KEYS)
        # Per kind, in column order, id columns left out, each column as (key, field name, good
        # values, other outcomes, route, column): what the loop over a row reads.
        self.plans: dict[str, list[tuple[str, str, dict[str, Any], dict[str, _Outcome], int, _Column]]] = {}
        # Per kind, the plan in the kind's field order, if the columns are in another and no field
        # is given twice; else None.
        self.in_kind_order: dict[
            str, list[tuple[str, str, dict[str, Any], dict[str, _Outcome], int, _Column]] | None
        ] = {}
        # Per kind, the fields of the columns in the kind's field order; None if the columns have it.
        self.order: dict[str, tuple[str, ...] | None] = {}
        self.inferred: str | None | bool = False  # infer_kind's answer, False until asked
