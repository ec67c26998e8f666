"""Reading record files: JSON, JSON Lines, YAML, CSV (UTF-8, UTF-8 BOM, UTF-16, GBK/GB18030) and XLSX.

Each reader yields ``RawRecord``s one at a time (so a large file streams) and raises ``ReadError``
for a file that cannot be used at all. A row that cannot be parsed yields a ``RecordError`` in
place of a record, so the rows around it are still read; a blank row yields ``BlankRow`` (so every
row is accounted for); a cell that cannot be taken as a value (control characters, a YAML tag, a
duplicate key, a number Excel rounded, a formula without a result) becomes a ``coerce.BadCell`` with
the reason, so the record loses that field, not the row. Something a reviewer should know but that
loses no data (a hidden sheet skipped, a title row above the header) yields a ``ReadWarning``.
How each kind of broken input is handled is listed in docs/robustness.md.

This module finds the files and hands each to its format's reader: ``csvfile`` (with
``textencoding``), ``xlsxfile`` (with ``xlsxparts``) or ``jsonyaml``; what they yield is in ``readitems``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from engine.records.catalog import Catalog
from engine.records.csvfile import _read_csv
from engine.records.headers import _header_names, kind_hint
from engine.records.jsonyaml import _read_json, _read_jsonl, _read_yaml
from engine.records.readitems import ReadError, ReadItem
from engine.records.xlsxfile import _read_xlsx

SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".csv", ".xlsx", ".xlsm")


def record_files(paths: Sequence[str | Path]) -> list[str]:
    """Files to read: a folder stands for the record files in it (recursively), in a stable order."""
    out: list[str] = []
    for f in paths:
        p = Path(f)
        if p.is_dir():
            out.extend(str(q) for q in sorted(p.rglob("*")) if q.is_file() and q.suffix.lower() in SUFFIXES)
        else:
            out.append(str(f))
    return out


def read_records(path: str | Path, catalog: Catalog, kind: str | None = None) -> Iterator[ReadItem]:
    p = Path(path)
    if not p.exists():
        raise ReadError(str(p), "file not found")
    if not p.is_file():
        raise ReadError(str(p), "not a file")
    suffix = p.suffix.lower()
    default_kind = kind or kind_hint(catalog, p.name)
    if suffix == ".csv":
        yield from _read_csv(p, default_kind, _header_names(catalog))
    elif suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(p, catalog, kind)
    elif suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(p, default_kind)
    elif suffix == ".json":
        yield from _read_json(p, default_kind)
    elif suffix in (".yaml", ".yml"):
        yield from _read_yaml(p, default_kind)
    else:
        raise ReadError(
            str(p), f"unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}"
        )
