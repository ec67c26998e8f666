"""Reading a CSV file: the header row among title rows, a separator line, rows an unbalanced quote swallowed.

The encoding is decided by ``textencoding``; a row undecodable in it is reported as that row.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.records.coerce import bad_text, has_bad_text
from engine.records.headers import HEADER_SEARCH_ROWS, _known
from engine.records.readitems import (
    BlankRow,
    ReadError,
    ReadItem,
    ReadWarning,
    _check_cells,
    _check_header,
    _printable,
)
from engine.records.record import RecordError, SourceRef, trusted_raw, trusted_source
from engine.records.textencoding import _detect_encoding


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
            yield ReadWarning(
                SourceRef(file=str(p), row=1),
                f"第1行 {m.group(0).strip()!r} 指定分隔符 names the separator {delimiter!r}; read with it",
            )
        if above:
            yield ReadWarning(
                SourceRef(file=str(p), row=above[0]),
                f"row(s) {', '.join(map(str, above))} above the header are not records "
                "(titles, notes); ignored",
            )
        line_base = skip  # reader.line_num counts from the first line given to it
        if not header or not any(h.strip() for h in header):
            raise ReadError(str(p), "no header row")
        if len(header) == 1 and ("\t" in header[0] or ";" in header[0]):
            delim = "\t" if "\t" in header[0] else ";"
            raise ReadError(
                str(p),
                f"the header is one column holding {delim!r}: the file uses {delim!r} "
                "as separator; save it as CSV with commas",
            )
        header = [h.strip().lstrip("\ufeff") for h in header]
        for h in header:
            if bad_text(h):
                raise ReadError(str(p), f"header cell {_printable(h)!r} {bad_text(h)}")
        _check_header(p, header)
        rows_seen = False
        named = all(header)  # every column has a name
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
                    yield RecordError(
                        source=SourceRef(file=str(p), row=line_base + before + 1),
                        message=f"unreadable row: {exc}",
                    )
                    if reader.line_num == before:
                        break  # the reader cannot move past it
                    continue
                row_no = line_base + before + 1  # first line of the row (a quoted cell may span lines)
                swallowed = (
                    None
                    if len(lines.taken) < 2 and not (row and row[-1].endswith(("\n", "\r")))
                    else _swallowed(row, lines.taken, len(header), delimiter)
                )
                if swallowed is not None:
                    col, recovered = swallowed
                    over = (
                        (
                            f"runs over the next {len(recovered)} line(s) (rows {row_no + 1}–{row_no + len(recovered)}); "
                            "this row is rejected, those lines are read on their own"
                        )
                        if recovered
                        else "runs to the end of the file; this row is rejected"
                    )
                    yield RecordError(
                        source=SourceRef(file=str(p), row=row_no),
                        field=header[col] if col < len(header) else None,
                        message=f"引号未闭合 unbalanced quote: the cell opens a quote that {over}",
                    )
                    for i, text in enumerate(recovered, start=1):
                        if text.count('"') % 2:
                            yield RecordError(
                                source=SourceRef(file=str(p), row=row_no + i),
                                message="引号未闭合 unbalanced quote in this line; row rejected",
                            )
                            continue
                        parsed = next(csv.reader([text], delimiter=delimiter), [])
                        pending.append((row_no + i, parsed))
                    continue
            if not warned[0] and any(i < len(row) and row[i].strip() for i, h in enumerate(header) if not h):
                warned[0] = True
                yield ReadWarning(
                    SourceRef(file=str(p), row=row_no),
                    "a column without a header holds values; "
                    "they are ignored (give the column a header to use it)",
                )
            item = _csv_row(p, header, row, row_no, default_kind, undecodable, named)
            rows_seen = rows_seen or item is not BlankRow
            yield item
        if not rows_seen:
            yield ReadWarning(SourceRef(file=str(p)), "the file has a header row but no records")


def _chain(first: str | None, rest: Iterator[str]) -> Iterator[str]:
    if first is not None:
        yield first
    yield from rest


def _csv_header(
    p: Path, reader: Any, names: set[str] | None, skip: int
) -> tuple[list[str] | None, list[int], list[tuple[int, list[str]]]]:
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
        if ("\n" in cell or "\r" in cell) and any(
            line.count(delimiter) >= max(1, width - 2) for line in cell.splitlines()
        ):
            return col, [t.rstrip("\r\n") for t in taken[1:]]
    return None


def _csv_row(
    p: Path,
    header: list[str],
    row: list[str],
    row_no: int,
    default_kind: str | None,
    undecodable: bool,
    named: bool = False,
) -> ReadItem:
    """One data row of a CSV file as a raw record, a blank row, or why it cannot be read.

    `named`: every column of the header has a name (all(header)).
    """
    # One text of the row answers both screens: blank when it is all whitespace (the line feeds
    # joining it are whitespace too), hostile text when any_bad_text would find some.
    joined = "\n".join(row)
    if not joined.strip():
        return BlankRow
    src = trusted_source(str(p), row_no)
    if len(row) > len(header):
        extra = [c for c in row[len(header) :] if c.strip()]
        if extra:
            return RecordError(
                source=src,
                message=f"row has {len(row)} cells but the header has "
                f"{len(header)}; which column is {extra[0]!r} in?",
            )
    if len(row) != len(header) or not (named or all(header)):
        data = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header) if h}
    else:
        data = dict(zip(header, row, strict=False))  # as many cells as names: checked above
    # The header is clean (checked above), so a row whose cells are all clean is too.
    bad = _check_cells(src, data, undecodable) if has_bad_text(joined) else None
    # the header's text cells and a fresh dict: what RawRecord(...) would take as they are
    return bad or trusted_raw(src, data, default_kind)
