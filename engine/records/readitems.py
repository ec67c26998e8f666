"""What a reader yields for each row, and the checks of a header and of a row's text
that every reader makes.

A reader yields a ``RawRecord`` per row, a ``RecordError`` in place of a row that cannot be parsed,
``BlankRow`` for a blank row (so every row is accounted for) and a ``ReadWarning`` for something a
reviewer should know that loses no data; it raises ``ReadError`` for a file that cannot be used at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.records.coerce import BadCell, any_bad_text, bad_text
from engine.records.headers import ID_KEYS, split_header
from engine.records.record import RawRecord, RecordError, SourceRef


class ReadError(ValueError):
    def __init__(self, file: str, message: str):
        self.file, self.message = file, message
        super().__init__(f"{file}: {message}")


@dataclass
class ReadWarning:
    """Something skipped on purpose that a reviewer should know about (no record is lost by it)."""

    source: SourceRef
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


class _BlankRow:
    """A blank row (counted, so every row of a file is accounted for; nothing else to say)."""

    def __repr__(self) -> str:
        return "BlankRow"


BlankRow = _BlankRow()

ReadItem = RawRecord | RecordError | ReadWarning | _BlankRow


def _printable(text: Any) -> str:
    return str(text).encode("utf-8", "backslashreplace").decode()


def _check_cells(src: SourceRef, data: dict[str, Any], undecodable_row: bool = False) -> RecordError | None:
    """Text that cannot be stored or printed: a bad column name rejects the row; a bad value costs its cell.

    A bad value is replaced (in ``data``) by a ``BadCell`` with the reason, so the record loses that
    field only (or is rejected by the normaliser, naming the cell, if it is the id or kind). With
    ``undecodable_row`` (a CSV line in another encoding) bytes that are not text reject the row: the
    whole line was saved in another encoding, not one cell.
    """
    texts = [t for t in data if isinstance(t, str)]
    texts.extend(v for v in data.values() if isinstance(v, str))
    if not any_bad_text(texts):  # nearly every row: one scan of the whole row
        return None
    rid = next(
        (
            data[k]
            for k in data
            if isinstance(k, str)
            and split_header(k)[0] in ID_KEYS
            and isinstance(data[k], (str, int))
            and not bad_text(data[k])
        ),
        None,
    )
    rid = str(rid) if rid is not None else None
    for key in data:
        why = bad_text(key)
        if why:
            return RecordError(source=src, record_id=rid, field=_printable(key), message=f"column name {why}")
    for key, value in list(data.items()):
        why = bad_text(value)
        if why:
            if undecodable_row and "not valid text" in why:
                return RecordError(source=src, record_id=rid, field=_printable(key), message=f"cell {why}")
            data[key] = BadCell(f"cell {why}")
    return None


def _check_header(p: Path, header: list[str], sheet: str | None = None) -> None:
    seen: set[str] = set()
    where = f"sheet {sheet!r}: " if sheet else ""
    for h in header:
        if h and h in seen:
            raise ReadError(str(p), f"{where}column {h!r} appears twice in the header")
        seen.add(h)
