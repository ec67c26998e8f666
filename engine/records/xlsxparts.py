"""What a workbook's ZIP directory and sheet XML tell before openpyxl reads it.

The limits a workbook may expand to (a ZIP bomb is refused before memory grows), and from each
sheet's XML what openpyxl's streaming reader does not expose: merged ranges and formulas without a
saved result.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from engine.records.readitems import ReadError

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
                    facts.merges.append(
                        (min(ra[0], rb[0]), min(ra[1], rb[1]), max(ra[0], rb[0]), max(ra[1], rb[1]))
                    )
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
            raise ReadError(
                str(p),
                f"工作簿部件过大 workbook part {info.filename!r} expands to {size:,} bytes, over the "
                f"limit of {limit:,} bytes (ZIP bomb?); refused",
            )
        if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
            raise ReadError(
                str(p),
                f"工作簿压缩比异常 workbook part {info.filename!r} expands {size // max(info.compress_size, 1):,}"
                f"-fold ({info.compress_size:,} → {size:,} bytes), over the limit of "
                f"{MAX_RATIO}-fold (ZIP bomb?); refused",
            )
    if total > MAX_WORKBOOK_BYTES:
        raise ReadError(
            str(p),
            f"工作簿过大 workbook expands to {total:,} bytes, over the limit of "
            f"{MAX_WORKBOOK_BYTES:,} bytes; refused",
        )
