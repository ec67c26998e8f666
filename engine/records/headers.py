"""Names in a table: the columns that identify a record, a unit written in a header."""

from __future__ import annotations

import functools
import re

from engine.records import units

ID_KEYS = ("id", "编号", "项目编号", "记录编号", "代码", "项目代码", "统一社会信用代码", "单位代码")
KIND_KEYS = ("kind", "类型", "对象类型", "主体类型", "记录类型")
NAME_KEYS = ("name", "名称", "项目名称", "镇名称", "乡镇名称", "县区名称", "企业名称", "部门名称", "单位名称", "城市名称")
_UNIT_IN_HEADER = re.compile(r"^(?P<label>.+?)\s*[(（\[【]\s*(?P<unit>[^()（）\[\]【】]+?)\s*[)）\]】]\s*$")


@functools.lru_cache(maxsize=4096)  # called for every cell of every row, with a file's few headers
def split_header(header: str) -> tuple[str, str | None]:
    """'总投资(元)' -> ('总投资', '元'); '用地面积（亩）' -> ('用地面积', '亩')."""
    h = str(header).strip().replace("\n", "")
    m = _UNIT_IN_HEADER.match(h)
    if m and units.is_known(m.group("unit").strip()):
        return m.group("label").strip(), m.group("unit").strip()
    return h, None
