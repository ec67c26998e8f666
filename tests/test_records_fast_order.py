"""Rows whose columns are not in the kind's field order: the fast path reads them in the kind's order
and, when the order could show (two fields left out or converted, a value the kind model refuses),
again in column order. Either way the outcome is the cell-by-cell path's, errors and conversions in
column order.
"""

from __future__ import annotations

from typing import Any

from engine.policy.policy import load_policy
from engine.records.model import Normaliser, RawRecord, SourceRef

CATALOG = load_policy().catalog

# 年税收 and 总投资 come before 所在县区 and 用地面积 here; the kind has them the other way round.
ROWS = [
    {"编号": "P1", "年税收(亿元)": "0.1", "总投资(亿元)": "2", "所在县区": "曹县", "用地面积(公顷)": "3"},
    {"编号": "P2", "年税收(亿元)": "x", "总投资(亿元)": "y", "所在县区": "曹县", "用地面积(公顷)": "3"},
    {
        "编号": "P3",
        "年税收(亿元)": "-1",
        "总投资(亿元)": "99999999",
        "所在县区": "火星",
        "用地面积(公顷)": "-3",
    },
    {"编号": "P4", "年税收(亿元)": "", "总投资(亿元)": "", "所在县区": "", "用地面积(公顷)": ""},
    {"编号": "P5", "年税收(亿元)": "0.1", "总投资(亿元)": "z", "所在县区": "曹县", "用地面积(公顷)": "3"},
    {"编号": "P6", "年税收(亿元)": "1", "总投资(亿元)": "2", "所在县区": "曹县", "用地面积(公顷)": "-"},
]


def _outcome(result: Any) -> Any:
    rec, errors, unknown = result
    record = None
    if rec is not None:
        record = (
            rec.model_dump(),
            list(rec.values),
            [(c.field, c.original, repr(c.value)) for c in rec.conversions],
            list(rec.invalid),
        )
    return record, [str(e) for e in errors], unknown


def test_rows_out_of_the_kinds_order_give_the_cell_by_cell_outcome() -> None:
    normaliser = Normaliser(CATALOG)
    seen = set()
    for _ in range(3):  # kept outcomes met again
        for i, data in enumerate(ROWS, start=2):
            raw = RawRecord(source=SourceRef(file="t.csv", row=i), data=data, default_kind="project")
            fast = _outcome(normaliser.normalise(raw))
            assert fast == _outcome(normaliser.normalise_general(raw)), data
            seen.add((len(fast[1]), len(fast[0][2]) if fast[0] else 0))
    assert any(n >= 2 for n, _ in seen) and any(c >= 2 for _, c in seen)  # both orders were asked
