"""Reading an XLSX workbook: every visible sheet, its header among title rows, merged cells, Excel's values.

A cell Excel could not keep (a number rounded past 15 digits, an error value, a formula without a
saved result) becomes a ``BadCell``; a damaged sheet costs that sheet, not the workbook.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.records.catalog import Catalog
from engine.records.coerce import BadCell
from engine.records.headers import HEADER_SEARCH_ROWS, _header_names, _known, kind_hint
from engine.records.readitems import BlankRow, ReadError, ReadItem, ReadWarning, _check_cells, _check_header
from engine.records.record import RawRecord, RecordError, SourceRef
from engine.records.xlsxparts import _check_expansion, _scan_sheet, _SheetFacts


def _read_xlsx(p: Path, catalog: Catalog, kind: str | None) -> Iterator[ReadItem]:
    import openpyxl  # only this reader needs it

    _check_expansion(p)
    try:
        # read_only streams rows (memory stays flat for big files); data_only gives the value Excel
        # cached for a formula when the file was saved. Merged ranges and formulas without a cached
        # value are not visible this way, so _scan_sheet reads them from the sheet XML itself.
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, XML errors of a damaged file
        raise ReadError(
            str(p),
            f"not a readable XLSX workbook ({type(exc).__name__}: {exc}); "
            "the file may be truncated or not an Excel file — save it again from Excel/WPS",
        ) from None
    try:
        sheets = list(wb.worksheets)
        if not sheets:
            raise ReadError(str(p), "the workbook has no worksheets")
        for ws in sheets:
            if ws.sheet_state != "visible":
                yield ReadWarning(
                    SourceRef(file=str(p), sheet=ws.title),
                    f"隐藏的工作表 hidden sheet ({ws.sheet_state}) skipped; unhide it to evaluate it",
                )
                continue
            default_kind = kind or kind_hint(catalog, ws.title, p.name)
            try:
                part = getattr(ws, "_worksheet_path", None)
                # openpyxl keeps the open ZIP as a private attribute; the sheet XML scan reads it (no second open).
                facts = _scan_sheet(wb._archive, part) if part else _SheetFacts([], {})  # type: ignore[attr-defined]
            except Exception as exc:
                yield RecordError(
                    source=SourceRef(file=str(p), sheet=ws.title),
                    message=f"工作表无法读取 sheet unreadable ({type(exc).__name__}: {exc})",
                )
                continue
            try:
                yield from _read_sheet(p, ws, facts, catalog, default_kind)
            except ReadError as exc:
                # One sheet that cannot be used (a duplicate header) costs that sheet; the next is read.
                yield RecordError(
                    source=SourceRef(file=str(p), sheet=ws.title),
                    message=f"工作表无法使用 sheet unusable: {exc.message}",
                )
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
            return BadCell(
                f"数值单元格超过15位有效数字,Excel已舍入为 {v:.0f},原值无法恢复 (a number cell holds at most "
                "15 significant digits; the value was rounded by Excel); 请将该列设为文本格式后重新录入"
            )
        fmt = getattr(cell, "number_format", None) or ""
        if "%" in fmt.replace('"%"', "").replace("\\%", ""):
            # Shown as 57% in Excel, stored as 0.57: the reviewer typed 57%.
            return f"{Decimal(repr(float(v))) * 100}%"
    return v


class _ExcelError(str):
    """An error value (#DIV/0!, #N/A) Excel saved for a cell."""


EXCEL_DIGITS_LIMIT = 10**15  # from here on a number cell may have lost digits (15 significant digits kept)


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


def _read_sheet(
    p: Path, ws: Any, facts: _SheetFacts, catalog: Catalog, default_kind: str | None
) -> Iterator[ReadItem]:
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
                        yield ReadWarning(
                            SourceRef(file=str(p), sheet=ws.title),
                            "未找到表头 no header: none of the first rows names a known column "
                            "(编号, 名称, 类型 or a field label); the sheet is skipped",
                        )
                        return
                    continue
                header_row, header_cells = row_no, cells
                header = [str(c).strip() if c is not None else "" for c in cells]
                continue
            if header_row is not None:
                # A second header row right below the first (labels under a merged group heading):
                # only text, some of it known column names.
                second = (
                    row_no == header_row + 1
                    and any(_known(c, names) for c in cells)
                    and all(isinstance(c, str) or c is None for c in cells)
                )
                if second:
                    header = _combine_headers(header_cells, cells, names)
                header, spans = _merged_header(
                    header, facts.merges, header_row, row_no if second else header_row
                )
                spanned = {c for cols in spans.values() for c in cols}
                header_row = None
                _check_header(p, header, ws.title)
                if looked_at:
                    yield ReadWarning(
                        SourceRef(file=str(p), sheet=ws.title, row=looked_at[0]),
                        f"row(s) {', '.join(map(str, looked_at))} above the header are not records "
                        "(titles, notes); ignored",
                    )
                if second:
                    continue
            src = SourceRef(file=str(p), sheet=ws.title, row=row_no)
            if not blank_cols_reported and any(
                (i >= len(header) or not header[i]) and c not in (None, "") and i not in spanned
                for i, c in enumerate(cells)
            ):
                blank_cols_reported = True
                yield ReadWarning(
                    src,
                    "a column without a header holds values; they are ignored "
                    "(give the column a header to use it)",
                )
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
            yield ReadWarning(
                SourceRef(file=str(p), sheet=ws.title),
                "未找到表头 no header: no row names a known column (编号, 名称, 类型 or a field "
                "label); the sheet is skipped",
            )
        if header is not None and header_row is not None:
            _check_header(p, header, ws.title)  # a sheet with a header and no rows
    except ReadError:
        raise
    except Exception as exc:  # a damaged sheet part fails while streaming rows
        yield RecordError(
            source=SourceRef(file=str(p), sheet=ws.title),
            message=f"工作表从此处起无法读取 sheet unreadable from here on ({type(exc).__name__}: {exc})",
        )


def _sheet_cell_problems(src: SourceRef, header: list[str], cells: list[Any], facts: _SheetFacts) -> None:
    """A formula without a saved result or an Excel error value costs that cell (a BadCell in its place)."""
    for i, h in enumerate(header):
        if not h:
            continue
        formula = facts.unsaved_formulas.get((src.row or 0, i + 1))
        if formula is not None and (i >= len(cells) or cells[i] in (None, "")):
            while len(cells) <= i:
                cells.append(None)
            cells[i] = BadCell(
                f"单元格是公式 {formula} 但没有保存计算结果 (formula without a cached value); "
                "open and save the file in Excel/WPS"
            )
            continue
        v = cells[i] if i < len(cells) else None
        if isinstance(v, _ExcelError):
            cells[i] = BadCell(f"单元格为Excel错误值 {v} (the formula failed)")


def _merged_header(
    header: list[str], merges: list[tuple[int, int, int, int]], top: int | None, bottom: int | None
) -> tuple[list[str], dict[int, list[int]]]:
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
    return BadCell(
        f"表头合并了多列,这些列中有不同的值 {', '.join(repr(v) for v in given[:3])} (a header cell merged over "
        "several columns, and they hold different values): which one is meant?"
    )
