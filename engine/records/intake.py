"""The records stage: files in, validated records and per-row errors out.

``iter_intake`` streams: it yields validated records and errors as they are read, so a caller can
evaluate and store in chunks. Duplicate ids (same kind and id) within a batch, in one file or across
files, are errors for every occurrence after the first; for kinds dated by their reporting year, the
same subject may report once per year (cumulative targets sum those yearly records), so there the
key is kind, id and year. Unknown columns are reported once per file.

Every input row is accounted for: after each file a ``FileTally`` gives the rows read and the blank
rows among them, so rows read = records evaluated + rows rejected + blank rows (``rows_rejected``
counts the rejected rows of a list of errors).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.records.catalog import Catalog
from engine.records.normalise import Normaliser
from engine.records.readers import read_records
from engine.records.readitems import ReadError, ReadWarning
from engine.records.record import RawRecord, Record, RecordError, SourceRef


@dataclass
class FileProblem:
    """A whole file that could not be used."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class FileTally:
    """How many rows a file gave (data rows below the header, or items of a list) and how many were blank."""

    file: str
    rows_read: int
    blank_rows: int


@dataclass
class Intake:
    records: list[Record] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    file_problems: list[FileProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tallies: list[FileTally] = field(default_factory=list)


IntakeItem = Record | RecordError | FileProblem | FileTally | str  # str = a warning


def rows_rejected(errors: list[RecordError]) -> int:
    """Rows that gave no record: the distinct rows of the errors that reject their row."""
    return len(
        {
            (e.source.file, e.source.sheet, e.source.row)
            for e in errors
            if e.row_rejected and e.source.row is not None
        }
    )


def iter_intake(
    paths: Sequence[str | Path], catalog: Catalog, kind: str | None = None
) -> Iterator[IntakeItem]:
    normaliser = Normaliser(catalog)
    # Kept for every record of the input (1,000,000 rows in the benchmark): compact on purpose,
    # a string key and the place packed in one int, (file and sheet number) << 32 | row + 1
    # (a SourceRef object costs ~700 bytes an entry, this ~140).
    seen: dict[str, int] = {}
    places: dict[tuple[str, str | None], int] = {}
    dated_by_year: dict[str, bool] = {}  # per kind: whether its records are dated by report_year
    for path in paths:
        unknown_reported: set[str] = set()
        rows = blank = 0
        try:
            for item in read_records(path, catalog, kind):
                if type(item) is not RawRecord:  # nearly every item is one: no tests then
                    if isinstance(item, RecordError):
                        if item.row_rejected and item.source.row is not None:
                            rows += 1  # a row the reader could not take
                        yield item
                        continue
                    if isinstance(item, ReadWarning):
                        yield str(item)
                        continue
                    if not isinstance(item, RawRecord):  # BlankRow, the one other ReadItem
                        rows += 1
                        blank += 1
                        continue
                rows += 1
                rec, errors, unknown = normaliser.normalise(item)
                for col in unknown:
                    if col not in unknown_reported:
                        unknown_reported.add(col)
                        yield f"{path}: 未识别的列 unknown column {col!r} ignored (first seen at {item.source})"
                if rec is None:
                    yield from errors
                    continue
                yearly = dated_by_year.get(rec.kind)
                if yearly is None:
                    yearly = dated_by_year[rec.kind] = catalog.kind(rec.kind).date_field == "report_year"
                # Ids typed with full-width characters or in another case are the same id.
                rid = rec.id
                same_id = (rid if rid.isascii() else unicodedata.normalize("NFKC", rid)).casefold()
                year_of = rec.values.get("report_year") if yearly else None
                key = f"{rec.kind}\x00{same_id}\x00{year_of}"
                if key in seen:
                    year = f" and year {year_of}" if yearly else ""
                    yield RecordError(
                        source=rec.source,
                        record_id=rec.id,
                        field="id",
                        message=f"duplicate record id {rec.id!r} for kind {rec.kind}{year} "
                        f"(first at {_unpack(seen[key], places)})",
                    )
                    continue
                src = rec.source
                place = places.setdefault((src.file, src.sheet), len(places))
                seen[key] = place << 32 | (0 if src.row is None else src.row + 1)
                if errors:
                    yield from errors  # fields left out of a record that is still evaluated
                if rec.warnings:
                    for w in rec.warnings:
                        yield f"{src}: record {rid}: {w}"
                yield rec
        except ReadError as exc:
            yield FileProblem(exc.file, exc.message)
        yield FileTally(str(path), rows, blank)


def _unpack(packed: int, places: dict[tuple[str, str | None], int]) -> SourceRef:
    file, sheet = next(k for k, v in places.items() if v == packed >> 32)
    row = packed & 0xFFFFFFFF
    return SourceRef(file=file, sheet=sheet, row=row - 1 if row else None)


def sort_item(item: IntakeItem, into: Any) -> None:
    """Append an intake item to the matching list of `into` (records, errors, file_problems, warnings, tallies).

    A target without a ``tallies`` list gets one (set as an attribute) when it can take it; else the
    tally is left out.
    """
    if isinstance(item, Record):
        into.records.append(item)
    elif isinstance(item, RecordError):
        into.errors.append(item)
    elif isinstance(item, FileProblem):
        into.file_problems.append(item)
    elif isinstance(item, FileTally):
        tallies = getattr(into, "tallies", None)
        if tallies is None:
            try:
                into.tallies = tallies = []
            except AttributeError:  # a target with slots: no room for tallies
                return
        tallies.append(item)
    else:
        into.warnings.append(item)


def load_records(paths: Sequence[str | Path], catalog: Catalog, kind: str | None = None) -> Intake:
    out = Intake()
    for item in iter_intake(paths, catalog, kind):
        sort_item(item, out)
    return out
