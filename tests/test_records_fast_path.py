"""The fast record path gives exactly what the cell-by-cell path gives.

``Normaliser.normalise`` works out the columns once per header, keeps the outcome of repeated text
cells per column, and skips the kind model for values it surely takes; ``normalise_general`` does
everything per cell. Rows sharing a header (as in a file) are normalised both ways, with one
normaliser kept across examples so cached outcomes meet other rows: the records (values, their types
and order, conversions), the errors and their messages, and the unknown columns must be identical.
The screens the fast path relies on (one scan for hostile text, plain numbers parsed without
folding) are held to the checks they stand in for.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.policy.policy import load_policy
from engine.records import coerce, units
from engine.records.catalog import MAX_MAGNITUDE, FieldSpec
from engine.records.intake import iter_intake
from engine.records.model import Normaliser, RawRecord, Record, SourceRef

SETTINGS = settings(
    max_examples=1000 if os.environ.get("CI") == "true" else 120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CATALOG = load_policy().catalog
NORMALISER = Normaliser(CATALOG)  # shared on purpose: cached layouts and outcomes outlive an example

UNITS = [
    "元",
    "万元",
    "亿元",
    "亩",
    "公顷",
    "平方米",
    "m²",
    "公里",
    "米",
    "人",
    "万人",
    "个",
    "家",
    "%",
    "倍",
    "条",
]
BRACKETS = ["()", "（）", "[]", "【】"]
HOSTILE = [
    "a\x01b",
    "x\x7fy",
    "\x00",
    "\x85",
    "\ud800",
    "ok\tok",
    "line\nbreak",
    "é\u0301",
    "ａｂｃ",
    "\u3000",
]
BLANKS = [
    "",
    " ",
    "-",
    "—",
    "--",
    "/",
    "n/a",
    " N/A ",
    "null",
    "None",
    "无数据",
    "暂无",
    "\u3000",
    "－",
    None,
]


def _numbers(f: FieldSpec) -> tuple[list[Any], list[Any]]:
    good: list[Any] = ["1", "57", "1,234", "１２３", "+7", "1E3", "12.0", "", "-", 12, str(MAX_MAGNITUDE)]
    if f.type == "number":
        good += ["12.50", "1,234.5", "１２．５", ".5", 12.5, Decimal("2.50"), f"-{MAX_MAGNITUDE}", "0"]
        good += [f"3{u}" for u in UNITS if f.unit and units.compatible(u, f.unit)]
    else:
        good += ["2024", "２０２５年度", "2024年"]
    for e in (f.min, f.exclusive_min, f.max):
        if e is not None:
            good += [str(e), str(e + Decimal("0.000001")), str(e - Decimal("0.000001")), str(int(e)), int(e)]
    bad = [
        "-0",
        "0.5",
        "0.57",
        "-1",
        "57%",
        "0.57%",
        "12.5",
        "12,34",
        "5.",
        "1e400",
        "nan",
        "inf",
        "#DIV/0!",
        "abc",
        "3倍",
        "2024年",
        "２０２５年度",
        "3个",
        str(MAX_MAGNITUDE + Decimal("0.000001")),
        "10000000000",
        "1" * 40,
        -0.0,
        float("nan"),
        True,
        [1],
        {"a": 1},
    ]
    return good, bad


def _cells(f: FieldSpec) -> tuple[list[Any], list[Any]]:
    """(cells a careful clerk types, cells that go wrong) for a field."""
    if f.type in ("number", "integer"):
        return _numbers(f)
    if f.type == "boolean":
        return (
            [
                "是",
                "否",
                "Y",
                "n",
                "TRUE",
                "false",
                "1",
                "0",
                "√",
                "×",
                "有",
                "无",
                "是 ",
                "\u3000否",
                True,
                False,
                1,
                0,
                1.0,
                "",
            ],
            ["maybe", 2, "是否"],
        )
    if f.type == "date":
        return (
            [
                "2024-06-01",
                "2024/6/1",
                "2024.06.01",
                "2024年6月1日",
                "45444",
                "45444.0",
                "2024-06-01T10:00:00",
                "２０２４－０６－０１",
                45444,
                dt.date(2024, 6, 1),
                dt.datetime(2024, 6, 1, 8, 30),
                "-",
            ],
            ["2024-13-01", "June", "2025-02-29", 45444.5, 12],
        )
    if f.type == "enum":
        return f.choices[:4] + [c + " " for c in f.choices[:2]] + [""], ["其它", "ｘ", 3]
    return ["申报单位A", "  有空格  ", "e\u0301", "Ｆｕｌｌ", "x" * 2000, 7, 7.0, 7.5, ""], ["x" * 2001, [1]]


def _header(f: FieldSpec, style: int, unit: str, bracket: str) -> str:
    base = [f.name, f.label, *f.aliases][style % (2 + len(f.aliases))]
    if style % 3 == 0 and f.type in ("number", "integer"):
        return f"{base}{bracket[0]}{unit}{bracket[1]}"
    return base + ("(必填)" if style % 7 == 1 else "")


@st.composite
def files(draw: st.DrawFn) -> tuple[str | None, list[dict[str, Any]]]:
    """(default kind, rows sharing one header) of some kind, clean or messy the way submissions are."""
    kind = draw(st.sampled_from(sorted(CATALOG.kinds)))
    fields = list(CATALOG.kind(kind).fields.values())
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=12, unique_by=lambda f: f.name))
    columns: dict[str, tuple[list[Any], list[Any]]] = {}
    for f in chosen:
        fitting = [u for u in UNITS if f.unit and units.compatible(u, f.unit)]
        unit = draw(st.sampled_from(fitting or UNITS) if draw(st.integers(0, 5)) else st.sampled_from(UNITS))
        columns.setdefault(
            _header(f, draw(st.integers(0, 20)), unit, draw(st.sampled_from(BRACKETS))), _cells(f)
        )
    if draw(st.integers(0, 3)) == 0:  # the same field under a second name
        f = chosen[0]
        columns.setdefault(draw(st.sampled_from([f.name, f.label, *f.aliases])), _cells(f))
    ids = draw(st.sampled_from(["编号", "项目编号", "id", "代码", "编号(必填)", "记录编号"]))
    columns[ids] = (["A-1", "Ａ-2", " b3 ", 123], ["", "-", "x" * 201, "c\x03", 4.0, None, [1]])
    kind_col = draw(st.sampled_from([None, "类型", "kind", "对象类型", "类型(必填)"]))
    if kind_col:
        columns[kind_col] = ([kind, CATALOG.kind(kind).label, ""], ["-", "星球", "town", "项目", None])
    name_col = draw(st.sampled_from([None, "名称", "name", "项目名称", "单位名称"]))
    if name_col:
        columns[name_col] = (["名1", "", 5], ["x" * 501, "b\x04", {"x": 1}, None])
    if draw(st.booleans()):
        columns[draw(st.sampled_from(["备注", "未知列", "总投资（美元）"]))] = (["", "注", "-", 3], [])
    order = draw(st.permutations(list(columns)))
    wrong = {
        h: st.one_of(st.sampled_from(bad + BLANKS + HOSTILE), st.text(max_size=6))
        for h, (_, bad) in columns.items()
    }
    messy = draw(st.integers(0, 2))  # 0: clean cells, 1: one wrong cell in some rows, 2: any cell wrong
    pools = {
        h: st.one_of(st.sampled_from(good), wrong[h]) if messy == 2 else st.sampled_from(good)
        for h, (good, _) in columns.items()
    }
    rows = draw(st.lists(st.fixed_dictionaries({h: pools[h] for h in order}), min_size=1, max_size=15))
    if messy == 1:
        for row in rows:
            h = draw(st.sampled_from(order))
            row[h] = draw(st.one_of(st.just(row[h]), wrong[h]))
    default_kind = draw(st.sampled_from([None, kind, kind]))
    return default_kind, rows


def _outcome(result: tuple[Record | None, list, list[str]]) -> Any:
    rec, errors, unknown = result
    record = None
    if rec is not None:
        record = (
            rec.model_dump(),
            [(k, type(v), repr(v)) for k, v in rec.values.items()],
            [(c.field, c.original, repr(c.value)) for c in rec.conversions],
            sorted(rec.model_fields_set),
        )
    return record, [(e.model_dump(), str(e)) for e in errors], unknown


@SETTINGS
@given(files())
def test_fast_and_general_paths_give_the_same_records_errors_and_unknown_columns(file: Any) -> None:
    default_kind, rows = file
    for i, data in enumerate(rows, start=2):
        raw = RawRecord(source=SourceRef(file="t.csv", row=i), data=data, default_kind=default_kind)
        assert _outcome(NORMALISER.normalise(raw)) == _outcome(NORMALISER.normalise_general(raw)), data


def test_equal_cells_of_other_types_are_not_taken_for_each_other() -> None:
    # 1 == 1.0 == True and all hash alike: only text cells share a kept outcome.
    normaliser = Normaliser(CATALOG)
    got = []
    for cell in ["1", 1, True, 1.0, "1"]:
        raw = RawRecord(
            source=SourceRef(file="t.json", row=1),
            data={"编号": "P1", "总投资": cell, "是否公共建筑": cell},
            default_kind="project",
        )
        rec, errors, _ = normaliser.normalise(raw)
        got.append((rec and [(type(v), v) for v in rec.values.values()], [e.message for e in errors]))
    assert got[0] == got[4] == ([(Decimal, Decimal(1)), (bool, True)], [])
    # True loses the number field (not the record) and is a yes/no value for the boolean field
    assert got[2] == ([(bool, True)], ["expected a number, got a yes/no value True"])
    assert got[1][0] == got[3][0] == [(Decimal, Decimal(1)), (bool, True)]


def test_rows_whose_kind_column_is_blank_use_it_as_an_ordinary_column() -> None:
    normaliser = Normaliser(CATALOG)
    rows = [
        {"编号": "P1", "类型": "项目", "总投资": "5"},
        {"编号": "P2", "类型": "", "总投资": "6"},
        {"编号": "P3", "类型": "星球", "总投资": "7"},
    ]
    for row in rows * 2:
        raw = RawRecord(source=SourceRef(file="t.csv", row=2), data=row, default_kind="project")
        assert _outcome(normaliser.normalise(raw)) == _outcome(normaliser.normalise_general(raw))
    rec, _, _ = normaliser.normalise(
        RawRecord(source=SourceRef(file="t.csv", row=3), data=rows[1], default_kind="project")
    )
    assert rec is not None and rec.values == {"total_investment": Decimal(6)}


def test_non_text_column_names_take_the_general_path() -> None:
    # YAML allows keys such as 1 and true; they cannot be told apart by a header tuple.
    normaliser = Normaliser(CATALOG)
    for data in ({"编号": "P1", 1: "x", "总投资": "5"}, {"编号": "P1", True: "x", "总投资": "5"}):
        raw = RawRecord.model_construct(
            source=SourceRef(file="t.yaml", row=1), data=data, default_kind="project"
        )
        rec, errors, unknown = normaliser.normalise(raw)
        assert (
            rec is not None
            and not errors
            and unknown == [str(next(k for k in data if k not in ("编号", "总投资")))]
        )


def test_a_csv_file_gives_the_same_intake_both_ways(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "projects.csv"
    lines = ["项目编号,项目名称,总投资(亿元),用地面积（公顷）,年税收,是否公共建筑,申报日期,备注"]
    cells = [
        ("0.2", "3", "１２３", "是", "2024-06-01"),
        ("", "-", "12,345.5", "否", "2024年6月1日"),
        ("abc", "1", "57%", "maybe", "2024-13-01"),
        ("1e400", "0", "-1", "√", "45444"),
        ("0.2", "3", "１２３", "是", "2024-06-01"),
    ]
    for i in range(60):
        inv, land, tax, pub, day = cells[i % len(cells)]
        lines.append(f"P{i % 50},项目{i},{inv},{land},{tax},{pub},{day},{'注' if i % 9 == 0 else ''}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def items() -> list[str]:
        return [
            repr(_outcome((it, [], [])) if isinstance(it, Record) else it)
            for it in iter_intake([path], CATALOG, "project")
        ]

    fast = items()
    monkeypatch.setattr(Normaliser, "normalise", Normaliser.normalise_general)
    assert fast == items()
    # every row with its cells (bad ones left out as invalid fields), ids P0..P49 once, less the one
    # row with a cell more than the header
    assert sum(s.startswith("((") for s in fast) == 49


@SETTINGS
@given(st.lists(st.one_of(st.text(), st.sampled_from(HOSTILE)), max_size=8))
def test_one_scan_finds_hostile_text_exactly_when_some_cell_has_it(texts: list[str]) -> None:
    assert coerce.any_bad_text(texts) == any(coerce.bad_text(t) for t in texts)


@SETTINGS
@given(st.from_regex(r"-?[0-9]{1,40}(\.[0-9]{1,30})?", fullmatch=True), st.sampled_from([None, "万元", "%"]))
def test_plain_numbers_parse_as_the_general_parser_parses_them(text: str, unit: str | None) -> None:
    # A space around the text sends it through the general parser (NFKC, separators, units).
    def parse(t: str) -> tuple[str, str | None]:
        try:
            d, u = coerce.to_decimal(t, unit)
        except coerce.CoerceError as exc:  # beyond the exponent bounds: refused the same way
            return "refused", str(exc).split(":")[0]
        return repr(d), u

    assert parse(text) == parse(f" {text} ")


def _edge_rows() -> list[tuple[str, dict[str, Any]]]:
    """A row per bound of every number, integer and text field: on it, just inside and just outside."""
    rows = []
    for kind, spec in CATALOG.kinds.items():
        for f in spec.fields.values():
            if f.type == "text":
                cells: list[Any] = ["x" * 2000, "x" * 2001]
            elif f.type in ("number", "integer"):
                tiny = Decimal("0.000001") if f.type == "number" else Decimal(1)
                edges = [
                    e for e in (f.min, f.exclusive_min, f.max, MAX_MAGNITUDE, -MAX_MAGNITUDE) if e is not None
                ]
                cells = [str(e + d) for e in edges for d in (-tiny, 0, tiny)]
            else:
                continue
            rows += [(kind, {"编号": "E1", f.name: c}) for c in cells]
    return rows


def test_values_on_and_beyond_every_bound_give_the_same_outcome_both_ways() -> None:
    normaliser = Normaliser(CATALOG)
    refused = 0
    for kind, data in _edge_rows():
        raw = RawRecord(source=SourceRef(file="t.csv", row=2), data=data, default_kind=kind)
        fast = _outcome(normaliser.normalise(raw))
        assert fast == _outcome(normaliser.normalise_general(raw)), data
        refused += fast[0] is not None and bool(fast[0][0]["invalid"])
    assert refused > 100  # the bounds were reached: the kind model refused the values beyond them
