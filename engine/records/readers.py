"""Reading record files: JSON, JSON Lines, YAML, CSV (UTF-8, UTF-8 BOM, UTF-16, GBK/GB18030) and XLSX.

Each reader yields ``RawRecord``s one at a time (so a large file streams) and raises ``ReadError``
for a file that cannot be used at all. A row that cannot be parsed yields a ``RecordError`` in
place of a record, so the rows around it are still read; a blank row yields ``BlankRow`` (so every
row is accounted for); a cell that cannot be taken as a value (control characters, a YAML tag, a
duplicate key, a number Excel rounded, a formula without a result) becomes a ``coerce.BadCell`` with
the reason, so the record loses that field, not the row. Something a reviewer should know but that
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
from engine.records.coerce import BadCell, any_bad_text, bad_text
from engine.records.headers import ID_KEYS, KIND_KEYS, NAME_KEYS, split_header
from engine.records.record import RawRecord, RecordError, SourceRef

SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".csv", ".xlsx", ".xlsm")

# The block size of the encoding scan (the whole file decides; the first block is sniffed for a BOM
# and NUL bytes). A later row undecodable in the file's encoding is reported as that row.
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


class _BlankRow:
    """A blank row (counted, so every row of a file is accounted for; nothing else to say)."""

    def __repr__(self) -> str:
        return "BlankRow"


BlankRow = _BlankRow()

ReadItem = RawRecord | RecordError | ReadWarning | _BlankRow


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
        raise ReadError(str(p), f"unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")


# --- text checks shared by every reader ----------------------------------------------------------

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
    rid = next((data[k] for k in data if isinstance(k, str) and split_header(k)[0] in ID_KEYS
                and isinstance(data[k], (str, int)) and not bad_text(data[k])), None)
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


# --- CSV ---------------------------------------------------------------------------------------

def _decodes(p: Path, encoding: str) -> bool:
    """Whether the whole file decodes in `encoding` (read in blocks: memory stays flat)."""
    dec = codecs.getincrementaldecoder(encoding)()
    try:
        with p.open("rb") as fh:
            while block := fh.read(ENCODING_SAMPLE):
                dec.decode(block)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _detect_encoding(p: Path) -> str:
    """UTF-8 (BOM or not) or UTF-16 (BOM) if the file decodes as such, else GB18030 (a superset of GBK).

    The whole file decides, not a prefix: GBK rows after megabytes of ASCII make it GB18030. A file
    that is UTF-8 but for a few undecodable lines is read as UTF-8 and those rows are reported one by
    one ('utf-8-rows', 'utf-8-sig-rows'); anything else that decodes as neither is refused.
    """
    with p.open("rb") as fh:
        raw = fh.read(ENCODING_SAMPLE)
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if _decodes(p, "utf-8-sig") else _mostly_utf8(p, "utf-8-sig-rows")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if not _decodes(p, "utf-16"):
            raise ReadError(str(p), "UTF-16 文本中有无法解码的字节 the file starts as UTF-16 but holds bytes that are not "
                                    "UTF-16 text (damaged?); save it again as CSV UTF-8")
        return "utf-16"
    if b"\x00" in raw[:16] or raw.count(b"\x00") > len(raw) // 100:
        raise ReadError(str(p), "binary data (NUL bytes) in a CSV file: this is not a text table; "
                                "save it as CSV (UTF-8) or XLSX")
    if _decodes(p, "utf-8"):
        return "utf-8"
    if _decodes(p, "gb18030"):
        return "gb18030"
    return _mostly_utf8(p, "utf-8-rows")


def _mostly_utf8(p: Path, mode: str) -> str:
    """`mode` if the header and all but a few lines are UTF-8 (those rows are reported), else a file error."""
    lines = bad = 0
    header_ok = True
    with p.open("rb") as fh:
        for line in fh:
            lines += 1
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                bad += 1
                header_ok = header_ok and lines > 1
    if header_ok and lines and bad <= max(1, int(lines * BAD_LINE_SHARE)):
        return mode
    raise ReadError(str(p), "text is neither UTF-8 nor GBK/GB18030 (nor UTF-16 with a byte-order mark); "
                            "save the file as CSV UTF-8")


class _Lines:
    """The file's physical lines as the csv reader takes them, kept per record (to see swallowed rows)."""

    def __init__(self, fh: Any):
        self.taken: list[str] = []
        self._it = self._lines(fh)

    def _lines(self, fh: Any) -> Iterator[str]:
        for line in fh:  # a generator: cheaper per line than a __next__ method
            self.taken.append(line)
            yield line

    def __iter__(self) -> Iterator[str]:
        return self._it

    def __next__(self) -> str:
        return next(self._it)


_SEP_LINE = re.compile(r"^\ufeff?sep=(.)\s*$")


def _read_csv(p: Path, default_kind: str | None, names: set[str] | None = None) -> Iterator[ReadItem]:
    enc = _detect_encoding(p)
    # surrogateescape keeps undecodable bytes as markers, so the row holding them is reported and
    # the rows after it are still read.
    undecodable = enc.endswith("-rows")
    errors = "surrogateescape" if undecodable else "strict"
    enc = enc.removesuffix("-rows")
    with p.open("r", encoding=enc, newline="", errors=errors) as fh:
        lines = _Lines(fh)
        try:
            first = next(lines, None)
        except UnicodeDecodeError as exc:
            raise ReadError(str(p), f"cannot read the header row: {exc}") from None
        delimiter = ","
        skip = 0  # physical lines before the header row
        m = _SEP_LINE.match(first.rstrip("\r\n")) if first is not None else None
        if m:
            # Excel's 'sep=,' line names the separator; it is not the header.
            delimiter, skip = m.group(1), 1
            first = None
        reader = csv.reader(_chain(first, lines), delimiter=delimiter)
        header, above, pending = _csv_header(p, reader, names, skip)
        if m:
            yield ReadWarning(SourceRef(file=str(p), row=1), f"第1行 {m.group(0).strip()!r} 指定分隔符 names the "
                                                             f"separator {delimiter!r}; read with it")
        if above:
            yield ReadWarning(SourceRef(file=str(p), row=above[0]),
                              f"row(s) {', '.join(map(str, above))} above the header are not records "
                              "(titles, notes); ignored")
        line_base = skip  # reader.line_num counts from the first line given to it
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
        rows_seen = False
        warned = [not any(not h for h in header)]  # whether the headerless-values warning was given
        # pending: rows read while looking for the header, or recovered from a swallowed cell
        while True:
            if pending:
                row_no, row = pending.pop(0)
            else:
                before = reader.line_num
                lines.taken = []
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except (csv.Error, UnicodeDecodeError) as exc:
                    yield RecordError(source=SourceRef(file=str(p), row=line_base + before + 1),
                                      message=f"unreadable row: {exc}")
                    if reader.line_num == before:
                        break  # the reader cannot move past it
                    continue
                row_no = line_base + before + 1  # first line of the row (a quoted cell may span lines)
                swallowed = None if len(lines.taken) < 2 and not (row and row[-1].endswith(("\n", "\r"))) \
                    else _swallowed(row, lines.taken, len(header), delimiter)
                if swallowed is not None:
                    col, recovered = swallowed
                    over = (f"runs over the next {len(recovered)} line(s) (rows {row_no + 1}–{row_no + len(recovered)}); "
                            "this row is rejected, those lines are read on their own") if recovered else \
                        "runs to the end of the file; this row is rejected"
                    yield RecordError(source=SourceRef(file=str(p), row=row_no),
                                      field=header[col] if col < len(header) else None,
                                      message=f"引号未闭合 unbalanced quote: the cell opens a quote that {over}")
                    for i, text in enumerate(recovered, start=1):
                        if text.count('"') % 2:
                            yield RecordError(source=SourceRef(file=str(p), row=row_no + i),
                                              message="引号未闭合 unbalanced quote in this line; row rejected")
                            continue
                        parsed = next(csv.reader([text], delimiter=delimiter), [])
                        pending.append((row_no + i, parsed))
                    continue
            if not warned[0] and any(i < len(row) and row[i].strip() for i, h in enumerate(header) if not h):
                warned[0] = True
                yield ReadWarning(SourceRef(file=str(p), row=row_no), "a column without a header holds values; "
                                  "they are ignored (give the column a header to use it)")
            item = _csv_row(p, header, row, row_no, default_kind, undecodable)
            rows_seen = rows_seen or item is not BlankRow
            yield item
        if not rows_seen:
            yield ReadWarning(SourceRef(file=str(p)), "the file has a header row but no records")


def _chain(first: str | None, rest: Iterator[str]) -> Iterator[str]:
    if first is not None:
        yield first
    yield from rest


def _csv_header(p: Path, reader: Any, names: set[str] | None,
                skip: int) -> tuple[list[str] | None, list[int], list[tuple[int, list[str]]]]:
    """(header, lines of the title rows above it, rows read past it while looking).

    The header is the first row naming a known column among the first non-blank rows (titles and notes
    above it are reported and skipped, as in a workbook); if none does, the first row, as written.
    """
    seen: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            seen.append((skip + reader.line_num, row))
            if names is None or any(_known(c.strip().lstrip("\ufeff"), names) for c in row):
                return row, [n for n, _ in seen[:-1]], []
            if len(seen) >= HEADER_SEARCH_ROWS:
                break
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ReadError(str(p), f"cannot read the header row: {exc}") from None
    if not seen:
        return None, [], []
    return seen[0][1], [], seen[1:]


def _swallowed(row: list[str], taken: list[str], width: int, delimiter: str) -> tuple[int, list[str]] | None:
    """(column, the physical lines it swallowed) when a quoted cell ran over lines that look like rows.

    A record spanning several physical lines is a quoted cell with line breaks; if a line of that
    cell holds about a row's worth of separators, the quote was never meant to span it: an unbalanced
    quote swallowed the rest of its row and the rows below (an address or a note over several lines
    has few separators).
    """
    # One physical line is a swallowing record only if a quote ran to the end of the file (the last
    # cell then keeps the line break).
    if len(taken) < 2 and not (row and row[-1].endswith(("\n", "\r"))):
        return None
    for col, cell in enumerate(row):
        if ("\n" in cell or "\r" in cell) and any(line.count(delimiter) >= max(1, width - 2)
                                                  for line in cell.splitlines()):
            return col, [t.rstrip("\r\n") for t in taken[1:]]
    return None


def _csv_row(p: Path, header: list[str], row: list[str], row_no: int, default_kind: str | None,
             undecodable: bool) -> ReadItem:
    """One data row of a CSV file as a raw record, a blank row, or why it cannot be read."""
    if not any(c.strip() for c in row):
        return BlankRow
    src = SourceRef(file=str(p), row=row_no)
    if len(row) > len(header):
        extra = [c for c in row[len(header):] if c.strip()]
        if extra:
            return RecordError(source=src, message=f"row has {len(row)} cells but the header has "
                                                   f"{len(header)}; which column is {extra[0]!r} in?")
    if len(row) != len(header) or not all(header):
        data = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}
    else:
        data = dict(zip(header, row, strict=True))
    # The header is clean (checked above), so a row whose cells are all clean is too.
    bad = _check_cells(src, data, undecodable) if any_bad_text(row) else None
    return bad or RawRecord(source=src, data=data, default_kind=default_kind)


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


# Limits on what a workbook may expand to (docs/robustness.md): checked on the ZIP directory before
# anything is parsed. zipfile never returns more bytes than a part's declared size (and fails its
# CRC check if the data is longer), so a header that understates the size cannot get past them either.
MAX_SHEET_BYTES = 1 << 30  # one worksheet part, uncompressed (sheets are streamed)
MAX_PART_BYTES = 64 << 20  # any other part (shared strings, styles: loaded whole into memory)
MAX_WORKBOOK_BYTES = 2 << 30  # all parts together, uncompressed
MAX_RATIO = 200  # uncompressed / compressed, for parts over RATIO_FLOOR bytes
RATIO_FLOOR = 1 << 20


def _check_expansion(p: Path) -> None:
    """Refuse a workbook whose parts expand past the limits (a ZIP bomb), before memory grows."""
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # openpyxl reports it as not a readable workbook
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        sheet = info.filename.startswith("xl/worksheets/")
        limit = MAX_SHEET_BYTES if sheet else MAX_PART_BYTES
        if size > limit:
            raise ReadError(str(p), f"工作簿部件过大 workbook part {info.filename!r} expands to {size:,} bytes, over the "
                                    f"limit of {limit:,} bytes (ZIP bomb?); refused")
        if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
            raise ReadError(str(p), f"工作簿压缩比异常 workbook part {info.filename!r} expands {size // max(info.compress_size, 1):,}"
                                    f"-fold ({info.compress_size:,} → {size:,} bytes), over the limit of "
                                    f"{MAX_RATIO}-fold (ZIP bomb?); refused")
    if total > MAX_WORKBOOK_BYTES:
        raise ReadError(str(p), f"工作簿过大 workbook expands to {total:,} bytes, over the limit of "
                                f"{MAX_WORKBOOK_BYTES:,} bytes; refused")


def _read_xlsx(p: Path, catalog: Catalog, kind: str | None) -> Iterator[ReadItem]:
    import openpyxl  # only this reader needs it

    _check_expansion(p)
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
                                  message=f"工作表无法读取 sheet unreadable ({type(exc).__name__}: {exc})")
                continue
            try:
                yield from _read_sheet(p, ws, facts, catalog, default_kind)
            except ReadError as exc:
                # One sheet that cannot be used (a duplicate header) costs that sheet; the next is read.
                yield RecordError(source=SourceRef(file=str(p), sheet=ws.title),
                                  message=f"工作表无法使用 sheet unusable: {exc.message}")
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
        if abs(v) >= EXCEL_DIGITS_LIMIT:
            # Excel keeps 15 significant digits: an 18-digit id typed into a number cell is already
            # rounded in the file (913717001234567890 -> 913717001234567936); the digits are gone.
            return BadCell(f"数值单元格超过15位有效数字,Excel已舍入为 {v:.0f},原值无法恢复 (a number cell holds at most "
                           "15 significant digits; the value was rounded by Excel); 请将该列设为文本格式后重新录入")
        fmt = getattr(cell, "number_format", None) or ""
        if "%" in fmt.replace('"%"', "").replace("\\%", ""):
            # Shown as 57% in Excel, stored as 0.57: the reviewer typed 57%.
            return f"{Decimal(repr(float(v))) * 100}%"
    return v


class _ExcelError(str):
    """An error value (#DIV/0!, #N/A) Excel saved for a cell."""


EXCEL_DIGITS_LIMIT = 10 ** 15  # from here on a number cell may have lost digits (15 significant digits kept)


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
    spans: dict[int, list[int]] = {}
    spanned: set[int] = set()
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
                if header is not None:
                    yield BlankRow
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
                header, spans = _merged_header(header, facts.merges, header_row, row_no if second else header_row)
                spanned = {c for cols in spans.values() for c in cols}
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
                    (i >= len(header) or not header[i]) and c not in (None, "") and i not in spanned
                    for i, c in enumerate(cells)):
                blank_cols_reported = True
                yield ReadWarning(src, "a column without a header holds values; they are ignored "
                                       "(give the column a header to use it)")
            _sheet_cell_problems(src, header, cells, facts)
            data = {h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if h}
            for first, cols in spans.items():
                data[header[first]] = _span_value([cells[c] if c < len(cells) else None for c in cols])
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
                          message=f"工作表从此处起无法读取 sheet unreadable from here on ({type(exc).__name__}: {exc})")


def _sheet_cell_problems(src: SourceRef, header: list[str], cells: list[Any], facts: _SheetFacts) -> None:
    """A formula without a saved result or an Excel error value costs that cell (a BadCell in its place)."""
    for i, h in enumerate(header):
        if not h:
            continue
        formula = facts.unsaved_formulas.get((src.row or 0, i + 1))
        if formula is not None and (i >= len(cells) or cells[i] in (None, "")):
            while len(cells) <= i:
                cells.append(None)
            cells[i] = BadCell(f"单元格是公式 {formula} 但没有保存计算结果 (formula without a cached value); "
                               "open and save the file in Excel/WPS")
            continue
        v = cells[i] if i < len(cells) else None
        if isinstance(v, _ExcelError):
            cells[i] = BadCell(f"单元格为Excel错误值 {v} (the formula failed)")


def _merged_header(header: list[str], merges: list[tuple[int, int, int, int]], top: int | None,
                   bottom: int | None) -> tuple[list[str], dict[int, list[int]]]:
    """A header cell merged over several columns names one column: (header, first column -> its columns).

    The merge fill copied the label into every column of the range; only the first keeps it, and a
    data row's value is the one non-empty cell of the range (_span_value).
    """
    spans: dict[int, list[int]] = {}
    if top is None or bottom is None:
        return header, spans
    out = list(header)
    for r0, c0, r1, c1 in merges:
        if c1 <= c0 or r1 < top or r0 > bottom:
            continue
        cols = [c - 1 for c in range(c0, c1 + 1) if c - 1 < len(out)]
        labels = {out[c] for c in cols}
        if len(cols) > 1 and len(labels) == 1 and next(iter(labels)):
            for c in cols[1:]:
                out[c] = ""
            spans[cols[0]] = cols
    return out, spans


def _span_value(values: list[Any]) -> Any:
    given = [v for v in values if v not in (None, "")]
    if not given:
        return None
    if all(v == given[0] for v in given):
        return given[0]
    return BadCell(f"表头合并了多列,这些列中有不同的值 {', '.join(repr(v) for v in given[:3])} (a header cell merged over "
                   "several columns, and they hold different values): which one is meant?")


# --- JSON, JSON Lines, YAML --------------------------------------------------------------------

def _objects(p: Path, items: Any, default_kind: str | None) -> Iterator[ReadItem]:
    if isinstance(items, dict) and "records" in items:
        items = items["records"]
    if isinstance(items, BadCell):
        raise ReadError(str(p), f"'records': {items.reason}")
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
    if isinstance(item, BadCell):
        return RecordError(source=src, message=f"record is not {what}: {item.reason}")
    if not isinstance(item, dict):
        return RecordError(source=src, message=f"record is not {what} but {_type_name(item)}")
    return _check_cells(src, item) or RawRecord(source=src, data=item, default_kind=default_kind)


def _type_name(v: Any) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false",
            type(None): "null"}.get(type(v), type(v).__name__)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is not last-wins: its value becomes a BadCell naming the key."""
    out: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for k, v in pairs:
        if k in out:
            counts[k] = counts.get(k, 1) + 1
            out[k] = BadCell(f"重复的键 duplicate key {k!r} (given {counts[k]} times): which value is meant?")
        else:
            out[k] = v
    return out


def _json_int(text: str) -> int | Decimal:
    # Beyond Python's digit limit int() would fail with a message about sys.set_int_max_str_digits();
    # as a Decimal the number reaches the field, which refuses it as an overflow.
    return int(text) if len(text) <= 4000 else Decimal(text)


def _json_float(text: str) -> float | Decimal:
    v = float(text)
    return v if v not in (float("inf"), float("-inf")) else Decimal(text)  # 1e400: overflow, named as such


def _json_loads(text: str) -> Any:
    return json.loads(text, parse_constant=_keep_constant, object_pairs_hook=_unique_keys,
                      parse_int=_json_int, parse_float=_json_float)


def _text_of(p: Path) -> str:
    """A text file as str: UTF-8 (BOM or not), or UTF-16/UTF-32 with a byte-order mark."""
    raw = p.read_bytes()
    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(enc)
    return raw.decode("utf-8")


def _read_json(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    try:
        data = _json_loads(_text_of(p))
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise ReadError(str(p), f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ReadError(str(p), "JSON nested too deeply to be a list of records; refused") from None
    yield from _objects(p, data, default_kind)


def _keep_constant(name: str) -> str:
    # NaN / Infinity are not JSON; keep them as text so the one field is reported, not the file.
    return name


def _read_jsonl(p: Path, default_kind: str | None) -> Iterator[ReadItem]:
    with p.open("rb") as fh:
        head = fh.read(4)
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(codecs.BOM_UTF32_LE)
    # UTF-16 (with its BOM) strictly: surrogateescape does not apply to it; a damaged line fails the file.
    enc, errors = ("utf-16", "strict") if utf16 else ("utf-8-sig", "surrogateescape")
    try:
        yield from _jsonl_lines(p, default_kind, enc, errors)
    except UnicodeDecodeError as exc:
        raise ReadError(str(p), f"UTF-16 文本中有无法解码的字节 not UTF-16 text: {exc}") from None


def _jsonl_lines(p: Path, default_kind: str | None, enc: str, errors: str) -> Iterator[ReadItem]:
    with p.open("r", encoding=enc, errors=errors) as fh:
        line_no = 0
        for line in fh:
            line_no += 1
            if not line.strip():
                yield BlankRow
                continue
            src = SourceRef(file=str(p), row=line_no)
            if bad_text(line.rstrip("\n")) and _has_surrogate(line):
                yield RecordError(source=src, message="line is not UTF-8 text")
                continue
            try:
                item = _json_loads(line)
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
    from engine.records.yamlsource import YamlSourceError, load_record_documents

    try:
        docs = load_record_documents(_text_of(p), str(p))
    except UnicodeDecodeError as exc:
        raise ReadError(str(p), f"not UTF-8 text: {exc}") from None
    except YamlSourceError as exc:
        raise ReadError(str(p), exc.message if exc.line is None else f"line {exc.line}: {exc.message}") from None
    for n, doc in enumerate(docs, start=1):
        items = doc.data
        where = f"YAML document {n}: " if len(docs) > 1 else ""
        if items is None and len(docs) > 1:
            continue  # an empty document between two '---'
        if isinstance(items, dict) and "records" in items:
            items = items["records"]
            base: tuple = ("records",)
        else:
            base = ()
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            if len(docs) == 1:
                raise ReadError(str(p), "expected a list of records (or a mapping with a 'records' list)")
            # One document that holds no records costs that document; the others are read.
            yield RecordError(source=SourceRef(file=str(p), row=doc.line_of(())),
                              message=f"{where}expected a list of records (or a mapping with a 'records' list), "
                                      f"got {_type_name(items)}")
            continue
        for i, item in enumerate(items):
            line = doc.line_of(base + (i,))
            src = SourceRef(file=str(p), row=line)
            yield _object_record(src, item, default_kind, "a mapping")
