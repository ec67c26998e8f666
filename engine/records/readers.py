"""Reading record files: JSON, JSON Lines, YAML, CSV (UTF-8, UTF-8 BOM, UTF-16, GBK/GB18030) and XLSX.

Each reader yields ``RawRecord``s one at a time (so a large file streams) and raises ``ReadError``
for a file that cannot be used at all. A row that cannot be parsed yields a ``RecordError`` in
place of a record, so the rows around it are still read; something a reviewer should know but that
loses no data (a hidden sheet skipped, a title row above the header) yields a ``ReadWarning``.
How each kind of broken input is handled is listed in docs/robustness.md.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.records.catalog import Catalog
from engine.records.coerce import any_bad_text, bad_text
from engine.records.model import (
    ID_KEYS,
    KIND_KEYS,
    NAME_KEYS,
    RawRecord,
    RecordError,
    SourceRef,
    split_header,
)

SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".csv", ".xlsx", ".xlsm")

# How much of a CSV decides its encoding; a later undecodable row is reported as that row.
ENCODING_SAMPLE = 4 << 20
# A UTF-8 file with at most this share of undecodable lines is read as UTF-8 with those rows
# reported; more than that and the file is in some other encoding.
BAD_LINE_SHARE = 0.05
# How many non-blank rows of a sheet may stand above the header row (titles, notes).
HEADER_SEARCH_ROWS = 10


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


ReadItem = RawRecord | RecordError | ReadWarning


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


def read_records(path: str | Path, catalog: Catalog, kind: str | None = None) -> Iterator[ReadItem]:
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


# --- text checks shared by every reader ----------------------------------------------------------

def _printable(text: Any) -> str:
    return str(text).encode("utf-8", "backslashreplace").decode()


def _check_cells(src: SourceRef, data: dict[str, Any]) -> RecordError | None:
    """A row holding text that cannot be stored or printed is reported (with its id if that is clean)."""
    texts = [t for t in data if isinstance(t, str)]
    texts.extend(v for v in data.values() if isinstance(v, str))
    if not any_bad_text(texts):  # nearly every row: one scan of the whole row
        return None
    rid = next((data[k] for k in data if isinstance(k, str) and split_header(k)[0] in ID_KEYS
                and isinstance(data[k], (str, int)) and not bad_text(data[k])), None)
    rid = str(rid) if rid is not None else None
    for key in data:
        why = bad_text(key)
        if why:
            return RecordError(source=src, record_id=rid, field=_printable(key), message=f"column name {why}")
    for key, value in data.items():
        why = bad_text(value)
        if why:
            return RecordError(source=src, record_id=rid, field=_printable(key), message=f"cell {why}")
    return None


# --- CSV ---------------------------------------------------------------------------------------

def _detect_encoding(p: Path) -> str:
    """UTF-8 (BOM or not) or UTF-16 (BOM) if the file decodes as such, else GB18030 (a superset of GBK).

    A file that is mostly UTF-8 with a few undecodable lines is read as UTF-8 and those rows are
    reported one by one; anything else that decodes as neither is refused.
    """
    size = p.stat().st_size
    with p.open("rb") as fh:
        raw = fh.read(ENCODING_SAMPLE)
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw[:16] or raw.count(b"\x00") > len(raw) // 100:
        raise ReadError(str(p), "binary data (NUL bytes) in a CSV file: this is not a text table; "
                                "save it as CSV (UTF-8) or XLSX")
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
        pass
    lines = raw.splitlines()
    bad = 0
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    header_ok = True
    try:
        lines[0].decode("utf-8") if lines else None
    except UnicodeDecodeError:
        header_ok = False
    if header_ok and lines and bad <= max(1, int(len(lines) * BAD_LINE_SHARE)):
        return "utf-8-rows"
    raise ReadError(str(p), "text is neither UTF-8 nor GBK/GB18030 (nor UTF-16 with a byte-order mark); "
                            "save the file as CSV UTF-8")


def _read_csv(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    enc = _detect_encoding(p)
    # surrogateescape keeps undecodable bytes as markers, so the row holding them is reported and
    # the rows after it are still read.
    errors = "surrogateescape" if enc == "utf-8-rows" else "strict"
    enc = "utf-8" if enc == "utf-8-rows" else enc
    with p.open("r", encoding=enc, newline="", errors=errors) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ReadError(str(p), f"cannot read the header row: {exc}") from None
        if not header or not any(h.strip() for h in header):
            raise ReadError(str(p), "no header row")
        if len(header) == 1 and ("\t" in header[0] or ";" in header[0]):
            delim = "\t" if "\t" in header[0] else ";"
            raise ReadError(str(p), f"the header is one column holding {delim!r}: the file uses {delim!r} "
                                    "as separator; save it as CSV with commas")
        header = [h.strip().lstrip("\ufeff") for h in header]
        for h in header:
            if bad_text(h):
                raise ReadError(str(p), f"header cell {_printable(h)!r} "
                                        f"{bad_text(h)}")
        _check_header(p, header)
        blank_cols = [i for i, h in enumerate(header) if not h]
        blank_cols_reported = not blank_cols
        width = len(header)
        rows_seen = False
        while True:
            before = reader.line_num
            try:
                row = next(reader)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError) as exc:
                yield RecordError(source=SourceRef(file=str(p), row=before + 1), message=f"unreadable row: {exc}")
                if reader.line_num == before:
                    break  # the reader cannot move past it
                continue
            if not any(c.strip() for c in row):
                continue
            rows_seen = True
            src = SourceRef(file=str(p), row=before + 1)  # first line of the row (a quoted cell may span lines)
            if len(row) > len(header):
                extra = [c for c in row[len(header):] if c.strip()]
                if extra:
                    yield RecordError(source=src, message=f"row has {len(row)} cells but the header has "
                                                          f"{len(header)}; which column is {extra[0]!r} in?")
                    continue
            if not blank_cols_reported and any(i < len(row) and row[i].strip() for i in blank_cols):
                blank_cols_reported = True
                yield ReadWarning(src, "a column without a header holds values; they are ignored "
                                       "(give the column a header to use it)")
            if blank_cols or len(row) != width:
                data = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}
            else:
                data = dict(zip(header, row, strict=True))
            # The header is clean (checked above), so a row whose cells are all clean is too.
            bad = _check_cells(src, data) if any_bad_text(row) else None
            if bad:
                yield bad
                continue
            yield RawRecord(source=src, data=data, default_kind=default_kind)
        if not rows_seen:
            yield ReadWarning(SourceRef(file=str(p)), "the file has a header row but no records")


def _check_header(p: Path, header: list[str], sheet: str | None = None) -> None:
    seen: set[str] = set()
    where = f"sheet {sheet!r}: " if sheet else ""
    for h in header:
        if h and h in seen:
            raise ReadError(str(p), f"{where}column {h!r} appears twice in the header")
        seen.add(h)


# --- XLSX --------------------------------------------------------------------------------------

_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _ref(ref: str) -> tuple[int, int] | None:
    m = _CELL_REF.match(ref.replace("$", ""))
    return (int(m.group(2)), _col_index(m.group(1))) if m else None


@dataclass
class _SheetFacts:
    """What openpyxl's streaming reader does not expose: merged ranges and formulas without a saved value."""

    merges: list[tuple[int, int, int, int]]  # min_row, min_col, max_row, max_col
    unsaved_formulas: dict[tuple[int, int], str]  # (row, col) -> formula text


def _scan_sheet(archive: zipfile.ZipFile, part: str) -> _SheetFacts:
    import xml.etree.ElementTree as ET  # expat: no external entities, bounded entity expansion

    facts = _SheetFacts([], {})
    with archive.open(part) as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "c":
                f = v = None
                for child in el:
                    ctag = child.tag.rsplit("}", 1)[-1]
                    if ctag == "f":
                        f = child
                    elif ctag == "v":
                        v = child
                # A shared formula's followers have an empty <f>; they are still formulas.
                if f is not None and (v is None or v.text is None):
                    rc = _ref(el.get("r", ""))
                    if rc:
                        facts.unsaved_formulas[rc] = "=" + (f.text or "(shared formula)")
                el.clear()
            elif tag == "row":
                el.clear()
            elif tag == "mergeCell":
                a, _, b = (el.get("ref") or "").partition(":")
                ra, rb = _ref(a), _ref(b or a)
                if ra and rb:
                    facts.merges.append((min(ra[0], rb[0]), min(ra[1], rb[1]), max(ra[0], rb[0]), max(ra[1], rb[1])))
    return facts


def _read_xlsx(p: Path, catalog: Catalog, kind: str | None) -> Iterator[ReadItem]:
    import openpyxl  # only this reader needs it

    try:
        # read_only streams rows (memory stays flat for big files); data_only gives the value Excel
        # cached for a formula when the file was saved. Merged ranges and formulas without a cached
        # value are not visible this way, so _scan_sheet reads them from the sheet XML itself.
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, XML errors of a damaged file
        raise ReadError(str(p), f"not a readable XLSX workbook ({type(exc).__name__}: {exc}); "
                                "the file may be truncated or not an Excel file — save it again from Excel/WPS") from None
    try:
        sheets = list(wb.worksheets)
        if not sheets:
            raise ReadError(str(p), "the workbook has no worksheets")
        for ws in sheets:
            if ws.sheet_state != "visible":
                yield ReadWarning(SourceRef(file=str(p), sheet=ws.title),
                                  f"隐藏的工作表 hidden sheet ({ws.sheet_state}) skipped; unhide it to evaluate it")
                continue
            default_kind = kind or kind_hint(catalog, ws.title, p.name)
            try:
                part = getattr(ws, "_worksheet_path", None)
                facts = _scan_sheet(wb._archive, part) if part else _SheetFacts([], {})
            except Exception as exc:
                yield RecordError(source=SourceRef(file=str(p), sheet=ws.title),
                                  message=f"sheet unreadable ({type(exc).__name__}: {exc})")
                continue
            yield from _read_sheet(p, ws, facts, catalog, default_kind)
    finally:
        wb.close()


def _cell_value(cell: Any) -> Any:
    v = cell.value
    if isinstance(v, str):
        v = v.strip()
        if getattr(cell, "data_type", None) == "e":
            return _ExcelError(v)
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        fmt = getattr(cell, "number_format", None) or ""
        if "%" in fmt.replace('"%"', "").replace("\\%", ""):
            # Shown as 57% in Excel, stored as 0.57: the reviewer typed 57%.
            return f"{Decimal(repr(float(v))) * 100}%"
    return v


class _ExcelError(str):
    """An error value (#DIV/0!, #N/A) Excel saved for a cell."""


def _header_names(catalog: Catalog) -> set[str]:
    names = set(ID_KEYS) | set(KIND_KEYS) | set(NAME_KEYS)
    for spec in catalog.kinds.values():
        for fname, f in spec.fields.items():
            names.add(fname)
            names.add(f.label)
            names.update(f.aliases)
    return names


def _known(text: Any, names: set[str]) -> bool:
    if not isinstance(text, str) or not text:
        return False
    return text in names or split_header(text)[0] in names


def _combine_headers(upper: list[Any], lower: list[Any], names: set[str]) -> list[str]:
    """Two header rows (a group label above, the column labels below, merged cells in either) -> one."""
    out = []
    for i in range(max(len(upper), len(lower))):
        u = str(upper[i]).strip() if i < len(upper) and upper[i] not in (None, "") else ""
        lo = str(lower[i]).strip() if i < len(lower) and lower[i] not in (None, "") else ""
        if lo and not _known(lo, names) and u and _known(u + lo, names):
            out.append(u + lo)  # '用地面积' above '(亩)'
        else:
            out.append(lo or u)
    return out


def _read_sheet(p: Path, ws: Any, facts: _SheetFacts, catalog: Catalog,
                default_kind: str | None) -> Iterator[ReadItem]:
    names = _header_names(catalog)
    header: list[str] | None = None
    header_row: int | None = None  # set while the row below the header may be a second header row
    header_cells: list[Any] = []
    looked_at: list[int] = []  # non-blank rows before the header
    merges_by_row: dict[int, list[tuple[int, int, int, int]]] = {}
    for m in facts.merges:
        merges_by_row.setdefault(m[0], []).append(m)
    active: list[tuple[tuple[int, int, int, int], Any]] = []
    blank_cols_reported = False
    try:
        for row_no, row in enumerate(ws.iter_rows(), start=1):
            cells = [_cell_value(c) for c in row]
            # Merged ranges: the value sits in the top-left cell and applies to the whole range.
            active = [(m, v) for m, v in active if m[2] >= row_no]
            for m in merges_by_row.get(row_no, ()):
                active.append((m, cells[m[1] - 1] if m[1] - 1 < len(cells) else None))
            for m, v in active:
                for col in range(m[1], min(m[3], len(cells)) + 1):
                    if cells[col - 1] in (None, ""):
                        cells[col - 1] = v
            if not any(c not in (None, "") for c in cells):
                continue
            if header is None:
                if not any(_known(c, names) for c in cells):
                    looked_at.append(row_no)
                    if len(looked_at) >= HEADER_SEARCH_ROWS:
                        yield ReadWarning(SourceRef(file=str(p), sheet=ws.title),
                                          "未找到表头 no header: none of the first rows names a known column "
                                          "(编号, 名称, 类型 or a field label); the sheet is skipped")
                        return
                    continue
                header_row, header_cells = row_no, cells
                header = [str(c).strip() if c is not None else "" for c in cells]
                continue
            if header_row is not None:
                # A second header row right below the first (labels under a merged group heading):
                # only text, some of it known column names.
                second = row_no == header_row + 1 and any(_known(c, names) for c in cells) \
                    and all(isinstance(c, str) or c is None for c in cells)
                if second:
                    header = _combine_headers(header_cells, cells, names)
                header_row = None
                _check_header(p, header, ws.title)
                if looked_at:
                    yield ReadWarning(SourceRef(file=str(p), sheet=ws.title, row=looked_at[0]),
                                      f"row(s) {', '.join(map(str, looked_at))} above the header are not records "
                                      "(titles, notes); ignored")
                if second:
                    continue
            src = SourceRef(file=str(p), sheet=ws.title, row=row_no)
            if not blank_cols_reported and any(
                    (i >= len(header) or not header[i]) and c not in (None, "") for i, c in enumerate(cells)):
                blank_cols_reported = True
                yield ReadWarning(src, "a column without a header holds values; they are ignored "
                                       "(give the column a header to use it)")
            data = {h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if h}
            problem = _sheet_cell_problem(src, header, cells, facts)
            if problem is None:
                problem = _check_cells(src, data)
            if problem is not None:
                yield problem
                continue
            yield RawRecord(source=src, data=data, default_kind=default_kind)
        if header is None and looked_at:
            yield ReadWarning(SourceRef(file=str(p), sheet=ws.title),
                              "未找到表头 no header: no row names a known column (编号, 名称, 类型 or a field "
                              "label); the sheet is skipped")
        if header is not None and header_row is not None:
            _check_header(p, header, ws.title)  # a sheet with a header and no rows
    except ReadError:
        raise
    except Exception as exc:  # a damaged sheet part fails while streaming rows
        yield RecordError(source=SourceRef(file=str(p), sheet=ws.title),
                          message=f"sheet unreadable from here on ({type(exc).__name__}: {exc})")


def _sheet_cell_problem(src: SourceRef, header: list[str], cells: list[Any], facts: _SheetFacts) -> RecordError | None:
    for i, h in enumerate(header):
        if not h:
            continue
        formula = facts.unsaved_formulas.get((src.row or 0, i + 1))
        if formula is not None and (i >= len(cells) or cells[i] in (None, "")):
            return RecordError(source=src, field=h, message=f"单元格是公式 {formula} 但没有保存计算结果 (formula without "
                                                            "a cached value); open and save the file in Excel/WPS")
        v = cells[i] if i < len(cells) else None
        if isinstance(v, _ExcelError):
            return RecordError(source=src, field=h, message=f"单元格为Excel错误值 {v} (the formula failed)")
    return None


# --- JSON, JSON Lines, YAML --------------------------------------------------------------------

def _objects(p: Path, items: Any, default_kind: str | None) -> Iterator[ReadItem]:
    if isinstance(items, dict) and "records" in items:
        items = items["records"]
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ReadError(str(p), "expected a list of records (or an object with a 'records' list)")
    for i, item in enumerate(items, start=1):
        src = SourceRef(file=str(p), row=i)
        yield _object_record(src, item, default_kind)


def _object_record(src: SourceRef, item: Any, default_kind: str | None,
                   what: str = "an object") -> RawRecord | RecordError:
    """One JSON object or YAML mapping as a raw record, or why it cannot be one."""
    if not isinstance(item, dict):
        return RecordError(source=src, message=f"record is not {what} but {_type_name(item)}")
    return _check_cells(src, item) or RawRecord(source=src, data=item, default_kind=default_kind)


def _type_name(v: Any) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false",
            type(None): "null"}.get(type(v), type(v).__name__)


def _read_json(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"), parse_constant=_keep_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ReadError(str(p), f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ReadError(str(p), "JSON nested too deeply to be a list of records; refused") from None
    yield from _objects(p, data, default_kind)


def _keep_constant(name: str) -> str:
    # NaN / Infinity are not JSON; keep them as text so the one field is reported, not the file.
    return name


def _read_jsonl(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    with p.open("r", encoding="utf-8-sig", errors="surrogateescape") as fh:
        line_no = 0
        for line in fh:
            line_no += 1
            if not line.strip():
                continue
            src = SourceRef(file=str(p), row=line_no)
            if bad_text(line.rstrip("\n")) and _has_surrogate(line):
                yield RecordError(source=src, message="line is not UTF-8 text")
                continue
            try:
                item = json.loads(line, parse_constant=_keep_constant)
            except (json.JSONDecodeError, ValueError) as exc:
                yield RecordError(source=src, message=f"not valid JSON: {exc}")
                continue
            except RecursionError:
                yield RecordError(source=src, message="JSON nested too deeply; refused")
                continue
            yield _object_record(src, item, default_kind)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _read_yaml(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
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
        yield _object_record(src, item, default_kind, "a mapping")
