"""Names in a table: the columns that identify a record, a unit written in a header, the names a
header row may hold, and a sheet or file named after a kind."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from engine.records import units
from engine.records.catalog import Catalog

ID_KEYS = ("id", "编号", "项目编号", "记录编号", "代码", "项目代码", "统一社会信用代码", "单位代码")
KIND_KEYS = ("kind", "类型", "对象类型", "主体类型", "记录类型")
NAME_KEYS = (
    "name",
    "名称",
    "项目名称",
    "镇名称",
    "乡镇名称",
    "县区名称",
    "企业名称",
    "部门名称",
    "单位名称",
    "城市名称",
)
_UNIT_IN_HEADER = re.compile(r"^(?P<label>.+?)\s*[(（\[【]\s*(?P<unit>[^()（）\[\]【】]+?)\s*[)）\]】]\s*$")


@functools.lru_cache(maxsize=4096)  # called for every cell of every row, with a file's few headers
def split_header(header: str) -> tuple[str, str | None]:
    """'总投资(元)' -> ('总投资', '元'); '用地面积（亩）' -> ('用地面积', '亩')."""
    h = str(header).strip().replace("\n", "")
    m = _UNIT_IN_HEADER.match(h)
    if m and units.is_known(m.group("unit").strip()):
        return m.group("label").strip(), m.group("unit").strip()
    return h, None


# How many non-blank rows of a sheet may stand above the header row (titles, notes).
HEADER_SEARCH_ROWS = 10


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
