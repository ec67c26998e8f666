"""Reading record files: JSON, JSON Lines, YAML, CSV (UTF-8, UTF-8 BOM, GBK/GB18030) and XLSX.

Each reader yields ``RawRecord``s one at a time (so a large file streams) and raises ``ReadError``
for a file that cannot be used at all. A row that cannot be parsed yields a ``RecordError`` in
place of a record, so the rows around it are still read.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.records.catalog import Catalog
from engine.records.model import RawRecord, RecordError, SourceRef

SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".csv", ".xlsx", ".xlsm")


class ReadError(ValueError):
    def __init__(self, file: str, message: str):
        self.file, self.message = file, message
        super().__init__(f"{file}: {message}")


def kind_hint(catalog: Catalog, *names: str | None) -> str | None:
    """A sheet or file named after a kind ('项目', 'projects', 'towns.csv') defaults to that kind."""
    for name in names:
        if not name:
            continue
        stem = Path(name).stem.lower()
        for kname, spec in catalog.kinds.items():
            if stem == kname or stem.rstrip("s") == kname or stem == spec.label or stem in spec.aliases:
                return kname
        for kname, spec in catalog.kinds.items():
            if kname in stem or spec.label in stem:
                return kname
    return None


def read_records(path: str | Path, catalog: Catalog, kind: str | None = None) -> Iterator[RawRecord | RecordError]:
    p = Path(path)
    if not p.exists():
        raise ReadError(str(p), "file not found")
    if not p.is_file():
        raise ReadError(str(p), "not a file")
    suffix = p.suffix.lower()
    default_kind = kind or kind_hint(catalog, p.name)
    if suffix == ".csv":
        yield from _read_csv(p, default_kind)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(p, catalog, kind)
    elif suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(p, default_kind)
    elif suffix == ".json":
        yield from _read_json(p, default_kind)
    elif suffix in (".yaml", ".yml"):
        yield from _read_yaml(p, default_kind)
    else:
        raise ReadError(str(p), f"unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")


# --- CSV ---------------------------------------------------------------------------------------

def _detect_encoding(p: Path) -> str:
    """UTF-8 (with or without BOM) if the file decodes as such, else GB18030 (a superset of GBK)."""
    size = p.stat().st_size
    with p.open("rb") as fh:
        raw = fh.read(4 << 20)  # a sample is enough; a later undecodable row is reported as that row
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    truncated = len(raw) < size
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(raw) - 3:  # the sample ended inside a character
            return "utf-8"
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise ReadError(str(p), "text is neither UTF-8 nor GBK/GB18030; save the file as UTF-8 CSV") from None


def _read_csv(p: Path, default_kind: str | None) -> Iterator[RawRecord | RecordError]:
    enc = _detect_encoding(p)
    with p.open("r", encoding=enc, newline="", errors="strict") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ReadError(str(p), f"cannot read the header row: {exc}") from None
        if not header or not any(h.strip() for h in header):
            raise ReadError(str(p), "no header row")
        header = [h.strip() for h in header]
        _check_header(p, header)
        row_no = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError) as exc:
                row_no += 1
                yield RecordError(source=SourceRef(file=str(p), row=row_no), message=f"unreadable row: {exc}")
                break
            row_no = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) > len(header):
                extra = [c for c in row[len(header):] if c.strip()]
                if extra:
                    yield RecordError(source=SourceRef(file=str(p), row=row_no),
                                      message=f"row has {len(row)} cells but the header has {len(header)}")
                    continue
            data = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}
            yield RawRecord(source=SourceRef(file=str(p), row=row_no), data=data, default_kind=default_kind)


def _check_header(p: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for h in header:
        if h and h in seen:
            raise ReadError(str(p), f"column {h!r} appears twice in the header")
        seen.add(h)


# --- XLSX --------------------------------------------------------------------------------------

def _read_xlsx(p: Path, catalog: Catalog, kind: str | None) -> Iterator[RawRecord | RecordError]:
    import openpyxl  # only this reader needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only: a formula cell gives the value Excel cached when the file was saved.
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError, EOFError) as exc:
        raise ReadError(str(p), f"not a readable XLSX workbook: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile and friends from a truncated file
        raise ReadError(str(p), f"not a readable XLSX workbook ({type(exc).__name__}): {exc}") from None
    try:
        for ws in wb.worksheets:
            if ws.sheet_state != "visible":
                continue
            default_kind = kind or kind_hint(catalog, ws.title, p.name)
            yield from _read_sheet(p, ws, default_kind)
    finally:
        wb.close()


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return v.strip()
    return v


def _read_sheet(p: Path, ws: Any, default_kind: str | None) -> Iterator[RawRecord | RecordError]:
    header: list[str] | None = None
    try:
        rows = ws.iter_rows(values_only=True)
        for row_no, row in enumerate(rows, start=1):
            cells = [_cell(v) for v in row]
            if not any(c not in (None, "") for c in cells):
                continue
            if header is None:
                header = [str(c).strip() if c is not None else "" for c in cells]
                _check_header(p, header)
                continue
            data = {h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if h}
            src = SourceRef(file=str(p), sheet=ws.title, row=row_no)
            yield RawRecord(source=src, data=data, default_kind=default_kind)
    except ReadError:
        raise
    except Exception as exc:  # a truncated sheet part fails while streaming rows
        yield RecordError(source=SourceRef(file=str(p), sheet=ws.title), message=f"sheet unreadable: {exc}")


# --- JSON, JSON Lines, YAML --------------------------------------------------------------------

def _objects(p: Path, items: Any, default_kind: str | None) -> Iterator[RawRecord | RecordError]:
    if isinstance(items, dict) and "records" in items:
        items = items["records"]
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ReadError(str(p), "expected a list of records (or an object with a 'records' list)")
    for i, item in enumerate(items, start=1):
        src = SourceRef(file=str(p), row=i)
        if not isinstance(item, dict):
            yield RecordError(source=src, message=f"record is not an object but {type(item).__name__}")
            continue
        yield RawRecord(source=src, data=item, default_kind=default_kind)


def _read_json(p: Path, default_kind: str | None) -> Iterator[RawRecord | RecordError]:
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"), parse_constant=_reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ReadError(str(p), f"not valid JSON: {exc}") from None
    yield from _objects(p, data, default_kind)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _read_jsonl(p: Path, default_kind: str | None) -> Iterator[RawRecord | RecordError]:
    with p.open("r", encoding="utf-8-sig", errors="strict") as fh:
        line_no = 0
        while True:
            try:
                line = fh.readline()
            except UnicodeDecodeError as exc:
                yield RecordError(source=SourceRef(file=str(p), row=line_no + 1), message=f"not UTF-8: {exc}")
                return
            if not line:
                return
            line_no += 1
            if not line.strip():
                continue
            src = SourceRef(file=str(p), row=line_no)
            try:
                item = json.loads(line, parse_constant=_reject_constant)
            except (json.JSONDecodeError, ValueError) as exc:
                yield RecordError(source=src, message=f"not valid JSON: {exc}")
                continue
            if not isinstance(item, dict):
                yield RecordError(source=src, message=f"record is not an object but {type(item).__name__}")
                continue
            yield RawRecord(source=src, data=item, default_kind=default_kind)


def _read_yaml(p: Path, default_kind: str | None) -> Iterator[RawRecord | RecordError]:
    from engine.yamlsource import YamlSourceError, load_yaml_file

    try:
        doc = load_yaml_file(p)
    except YamlSourceError as exc:
        raise ReadError(str(p), exc.message if exc.line is None else f"line {exc.line}: {exc.message}") from None
    items = doc.data
    if isinstance(items, dict) and "records" in items:
        items = items["records"]
        base: tuple = ("records",)
    else:
        base = ()
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ReadError(str(p), "expected a list of records (or a mapping with a 'records' list)")
    for i, item in enumerate(items):
        line = doc.line_of(base + (i,))
        src = SourceRef(file=str(p), row=line)
        if not isinstance(item, dict):
            yield RecordError(source=src, message=f"record is not a mapping but {type(item).__name__}")
            continue
        yield RawRecord(source=src, data=item, default_kind=default_kind)
