"""What a row's column names alone decide, worked out once per header for ``Normaliser.normalise``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.records.catalog import FieldSpec
from engine.records.headers import ID_KEYS, KIND_KEYS, NAME_KEYS, split_header

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


class _Column:
    """One column of a layout, as a field of one kind."""

    __slots__ = ("key", "field", "fname", "unit", "maybe_identity", "memo")

    def __init__(self, key: str, field: FieldSpec | None, unit: str | None, maybe_identity: bool):
        self.key, self.field, self.unit = key, field, unit
        self.fname = field.name if field is not None else ""
        self.maybe_identity = maybe_identity  # the kind or name column of some rows
        self.memo: dict[str, _Outcome] = {}


class _Layout:
    """What a row's column names alone decide, worked out once per header (every row of a file shares it)."""

    __slots__ = ("keys", "id_keys", "kind_keys", "name_keys", "id_columns", "columns", "order", "inferred")

    def __init__(self, normaliser: Normaliser, keys: tuple[str, ...]):
        self.keys = keys
        # The columns _identity looks at, in the order it looks.
        self.id_keys, self.kind_keys, self.name_keys = (
            normaliser._candidates(keys, k) for k in (ID_KEYS, KIND_KEYS, NAME_KEYS)
        )
        self.id_columns = frozenset(k for k in keys if split_header(k)[0] in ID_KEYS)
        self.columns: dict[str, list[_Column]] = {}  # per kind, in column order, id columns left out
        # Per kind, the fields of the columns in the kind's field order; None if the columns have it.
        self.order: dict[str, tuple[str, ...] | None] = {}
        self.inferred: str | None | bool = False  # infer_kind's answer, False until asked
