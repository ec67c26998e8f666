"""Build the hostile-input corpus: the files of tests/corpus/files/, byte for byte.

Run `.venv/bin/python tests/corpus/build_corpus.py` after changing it; the generated files are
committed so tests read real files. The expected outcome of each file is in manifest.yaml (written
by hand, not by this script). Output is deterministic (fixed workbook timestamps), so a rebuild
without changes gives identical CSV/JSON/YAML files and equivalent workbooks.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

OUT = Path(__file__).resolve().parent / "files"
SENTINEL = "/tmp/heze-corpus-sentinel"  # the YAML escape attempt would create this file

HEADER = ["项目编号", "项目名称", "类型", "所在县区", "项目类别", "总投资(万元)", "用地面积(亩)", "申报日期"]
FIXED_TIME = dt.datetime(2024, 6, 1, 8, 0, 0)


def row(
    rid: str,
    name: str,
    inv: str = "600",
    land: str = "10",
    category: str = "技改项目",
    date: str = "2024-06-18",
    kind: str = "项目",
    county: str = "曹县",
) -> list[str]:
    return [rid, name, kind, county, category, inv, land, date]


def csv_text(rows: list[list[str]], header: list[str] = HEADER, eol: str = "\r\n") -> str:
    def cell(c: str) -> str:
        return f'"{c.replace(chr(34), chr(34) * 2)}"' if any(ch in c for ch in ',"\r\n') else c

    return "".join(",".join(cell(c) for c in r) + eol for r in [header, *rows])


def write(name: str, data: bytes | str, encoding: str = "utf-8") -> None:
    p = OUT / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


# --- CSV -----------------------------------------------------------------------------------------


def build_csv() -> None:
    rows = [row("ENC-1", "曹县汉服文化产业园"), row("ENC-2", "郓城县高端装备制造产业园", inv="480")]
    text = csv_text(rows)
    write("csv/utf8-bom-projects.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    write("csv/utf8-projects.csv", text)
    write("csv/gbk-projects.csv", text, "gbk")
    # 𠀾 (U+2003E) exists only in GB18030 (a four-byte sequence), not in GBK.
    write("csv/gb18030-projects.csv", csv_text([row("ENC-1", "𠀾镇新材料项目"), rows[1]]), "gb18030")
    write("csv/utf16-projects.csv", b"\xff\xfe" + text.encode("utf-16-le"))
    # Latin-1 text with accents: valid as neither UTF-8 nor GB18030.
    latin = "id,name,kind,total_investment\r\n" + "".join(
        f"LAT-{i},Café Zoë Müller {i},project,{i}00\r\n" for i in range(1, 6)
    )
    write("csv/latin1-projects.csv", latin, "latin-1")
    # A PNG picture renamed to .csv.
    write(
        "csv/binary-projects.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    )
    # UTF-8, but one row was pasted from a GBK file: that row is reported, the others are read.
    good = csv_text([row("MIX-1", "甲项目"), row("MIX-2", "乙项目")]).encode("utf-8")
    bad_row = ",".join(row("MIX-3", "丙项目")).encode("gbk") + b"\r\n"
    tail = ",".join(row("MIX-4", "丁项目")).encode("utf-8") + b"\r\n"
    write("csv/one-gbk-row-in-utf8-projects.csv", good + bad_row + tail)

    # Mixed line endings: CRLF, LF, CR, and a quoted cell holding a line break.
    lines = [
        ",".join(HEADER),
        ",".join(row("EOL-1", "甲")),
        ",".join(row("EOL-2", "乙")),
        ",".join(row("EOL-3", "丙")),
        ",".join(row("EOL-4", '"多行\n名称"')[:1]) + ',"多行\n名称",' + ",".join(row("EOL-4", "x")[2:]),
        ",".join(row("EOL-5", "戊")),
    ]
    write(
        "csv/mixed-line-endings-projects.csv",
        lines[0]
        + "\r\n"
        + lines[1]
        + "\n"
        + lines[2]
        + "\r"
        + lines[3]
        + "\r\n"
        + lines[4]
        + "\n"
        + lines[5]
        + "\n",
    )

    write(
        "csv/numbers-projects.csv",
        csv_text(
            [
                row("NUM-1", "千分位", inv="1,234.5"),
                row("NUM-2", "全角数字", inv="１２３４"),
                row("NUM-3", "全角千分位", inv="１，２３４．５"),
                row("NUM-4", "带单位亿元", inv="1.2亿元"),
                row("NUM-5", "负零", inv="-0"),
                row("NUM-6", "前后空格", inv="  500  "),
                row("NUM-7", "千分位写错", inv="1,23,4"),
                row("NUM-8", "两个小数点", inv="1.2.3"),
                row("NUM-9", "全角空格为空", inv="\u3000"),
            ]
        ),
    )
    write(
        "csv/nonfinite-projects.csv",
        csv_text(
            [
                row("NF-1", "NaN", inv="NaN"),
                row("NF-2", "inf", inv="inf"),
                row("NF-3", "-Infinity", inv="-Infinity"),
                row("NF-4", "1e308", inv="1e308"),
                row("NF-5", "空字符串", inv=""),
                row("NF-6", "负零点零", inv="-0.0"),
                row("NF-7", "科学计数", inv="6e2"),
                row("NF-8", "负数", inv="-5"),
                row("NF-9", "用地负零", land="-0"),
            ]
        ),
    )
    write(
        "csv/duplicates-a-projects.csv",
        csv_text(
            [
                row("DUP-1", "第一次"),
                row("DUP-2", "文件内"),
                row("DUP-2", "文件内重复"),
                row("ＤＵＰ－１", "全角重复"),
            ]
        ),
    )
    write("csv/duplicates-b-projects.csv", csv_text([row("DUP-1", "跨文件重复"), row("DUP-3", "新的")]))
    write(
        "csv/unknown-kinds.csv",
        csv_text(
            [
                row("UK-1", "正常项目"),
                row("UK-2", "飞船", kind="飞船"),
                row("UK-3", "空类型", kind=""),
                row("UK-4", "英文类型", kind="project"),
            ]
        ),
    )
    hdr = HEADER + ["备注", "联系电话"]
    write(
        "csv/unknown-columns-projects.csv",
        csv_text(
            [
                row("UC-1", "甲") + ["备注一", "0530-1234567"],
                row("UC-2", "乙") + ["备注二", "0530-7654321"],
                row("UC-3", "丙") + ["", ""],
            ],
            header=hdr,
        ),
    )
    write(
        "csv/hostile-names-projects.csv",
        csv_text(
            [
                row("HN-1", "<script>alert(1)</script><b>项目</b>"),
                row("HN-2", "{{ 7*7 }}{% for x in range(9) %}x{% endfor %}{{ config }}"),
                row("HN-3", "$(touch /tmp/heze-pwned); rm -rf / `id` | tee ; & >"),
                row("HN-4", "../../etc/passwd"),
                row("HN-5", "C:\\Windows\\System32\\..\\con"),
                row("HN-6", '=HYPERLINK("http://evil.example","点我")'),
                row("../HN-7", "{title}{value}{0}{__class__}"),
            ]
        ),
    )
    write(
        "csv/control-chars-projects.csv",
        csv_text(
            [
                row("CC-1", "正常"),
                row("CC-2", "含NUL\x00字符"),
                row("CC-3", "含响铃\x07字符"),
                row("CC-4", "含制表\t符"),
            ]
        ),
    )
    write(
        "csv/ragged-projects.csv",
        csv_text(
            [
                row("RG-1", "正常"),
                row("RG-2", "多一格") + ["多出来的值"],
                row("RG-3", "少几格")[:5],
                ["", "", "", "", "", "", "", ""],
                row("RG-4", "尾部空格") + ["", " "],
            ]
        ),
    )
    write("csv/empty-projects.csv", "")
    write("csv/header-only-projects.csv", ",".join(HEADER) + "\r\n")
    write("csv/semicolon-projects.csv", csv_text([row("SC-1", "分号")]).replace(",", ";"))
    write(
        "csv/duplicate-header-projects.csv",
        csv_text([row("DH-1", "甲") + ["9"]], header=HEADER + ["总投资(万元)"]),
    )
    county_hdr = ["编号", "名称", "类型", "报告年度", "城镇化率"]
    write(
        "csv/percent-counties.csv",
        csv_text(
            [
                ["PCT-1", "百分号", "县区", "2024", "57%"],
                ["PCT-2", "百分点", "县区", "2024", "57"],
                ["PCT-3", "小数歧义", "县区", "2024", "0.57"],
                ["PCT-4", "明确的零点五七", "县区", "2024", "0.57%"],
                ["PCT-5", "一歧义", "县区", "2024", "1"],
                ["PCT-6", "超过100", "县区", "2024", "157%"],
                ["PCT-7", "全角百分号", "县区", "2024", "５７．５％"],
            ],
            header=county_hdr,
        ),
    )


# --- XLSX ----------------------------------------------------------------------------------------


def _save(wb: openpyxl.Workbook, name: str) -> bytes:
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    write(name, data)
    return data


def build_layout() -> None:
    """Title row, blank row, two header rows with merged cells, blank column, blank rows, merged data cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目"
    ws["A1"] = "2024年菏泽市重点项目申报汇总表"
    ws.merge_cells("A1:J1")
    # row 2 blank; header rows 3-4
    top = ["项目编号", "项目名称", "类型", None, "所在县区", "项目类别", "投资与用地", None, "申报日期", None]
    sub = [None, None, None, None, None, None, "总投资(万元)", "用地面积", None, None]
    for c, v in enumerate(top, start=1):
        if v:
            ws.cell(3, c, v).font = Font(bold=True)
    for c, v in enumerate(sub, start=1):
        if v:
            ws.cell(4, c, v)
    ws.cell(4, 8, "用地面积")
    ws.cell(3, 8).value = None
    for rng in ("A3:A4", "B3:B4", "C3:C4", "E3:E4", "F3:F4", "G3:H3", "I3:I4"):
        ws.merge_cells(rng)
    # column D is entirely blank; column J has no header
    data = [
        ("LAY-1", "曹县项目一", "项目", "曹县", "技改项目", 600, 10, dt.date(2024, 6, 18)),
        (
            "LAY-2",
            "曹县项目二",
            "项目",
            None,
            "技改项目",
            450,
            12,
            dt.date(2024, 6, 19),
        ),  # county merged from row 5
        None,  # blank row
        ("LAY-3", "单县项目", "项目", "单县", "制造业重点项目", 12000, 80, dt.date(2024, 7, 1)),
    ]
    r = 5
    for d in data:
        if d is None:
            r += 1
            continue
        for c, v in zip((1, 2, 3, 5, 6, 7, 8, 9), d, strict=True):
            if v is not None:
                ws.cell(r, c, v)
        r += 1
    ws.merge_cells("E5:E6")  # 所在县区 merged over LAY-1 and LAY-2
    ws.cell(5, 10, "表外批注")  # a value in a column without a header
    # the unit of 用地面积 is in a merged second-row header over H: 用地面积 + (亩) would be combined;
    # here it has none, so the field's own unit (亩) applies.
    hidden = wb.create_sheet("隐藏数据")
    hidden.append(HEADER)
    hidden.append(row("HID-1", "隐藏表中的项目"))
    hidden.sheet_state = "hidden"
    very = wb.create_sheet("内部")
    very.append(HEADER)
    very.append(row("HID-2", "深度隐藏"))
    very.sheet_state = "veryHidden"
    notes = wb.create_sheet("填表说明")
    notes["A1"] = "填表说明"
    notes["A2"] = "1. 总投资单位为万元。"
    notes["A3"] = "2. 申报日期按2024-06-01格式填写。"
    _save(wb, "xlsx/layout-projects.xlsx")


def _set_cached(data: bytes, sheet_part: str, values: dict[str, str]) -> bytes:
    """Give formula cells a cached value, as Excel would on save (openpyxl writes none)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            raw = src.read(info.filename)
            if info.filename == sheet_part:
                text = raw.decode()
                for ref, v in values.items():
                    text, n = re.subn(
                        rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(</v>)?', rf"\1\2<v>{v}</v>", text
                    )
                    if n != 1:
                        text, n = re.subn(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)', rf"\1\2<v>{v}</v>", text)
                    assert n == 1, (ref, text[:2000])
                raw = text.encode()
            info.date_time = (2024, 6, 1, 8, 0, 0)
            dst.writestr(info, raw)
    return out.getvalue()


def build_formulas() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目"
    ws.append(HEADER)
    ws.append(row("FX-1", "有缓存值的公式", inv="0"))
    ws["F2"] = "=300*2"  # cached 600
    ws.append(row("FX-2", "没有缓存值的公式", inv="0"))
    ws["F3"] = "=SUM(F2,100)"  # never calculated: no cached value
    ws.append(row("FX-3", "除零错误", inv="0"))
    ws["F4"] = "=1/0"  # cached #DIV/0!
    ws.append(row("FX-4", "普通值"))
    ws["F5"] = 800
    data = _save(wb, "xlsx/formulas-projects.xlsx")
    data = _set_cached(data, "xl/worksheets/sheet1.xml", {"F2": "600", "F4": "#DIV/0!"})
    # an error value is stored with t="e"
    data = _retype(data, "xl/worksheets/sheet1.xml", "F4", "e")
    write("xlsx/formulas-projects.xlsx", data)


def _retype(data: bytes, part: str, ref: str, t: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            raw = src.read(info.filename)
            if info.filename == part:
                text = re.sub(rf'<c r="{ref}"( t="[a-z]+")?', f'<c r="{ref}" t="{t}"', raw.decode(), count=1)
                raw = text.encode()
            dst.writestr(info, raw)
    return out.getvalue()


def build_values() -> None:
    """Dates as serial numbers, numbers as text, booleans, and percent-formatted cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目"
    ws.append(HEADER + ["是否位于省级特色小镇"])
    ws.append([*row("XV-1", "序列号日期")[:7], 45461, "是"])  # 45461 = 2024-06-18, number format General
    ws.append([*row("XV-2", "日期单元格")[:7], dt.datetime(2024, 6, 18, 0, 0), True])
    ws.append([*row("XV-3", "中文日期")[:7], "2024年6月18日", "否"])
    ws.append([*row("XV-4", "文本千分位", inv="1,234.5")[:7], "2024/6/18", "否"])
    ws.append([*row("XV-5", "全角数字文本", inv="１２３４")[:7], "2024.6.18", "否"])
    ws.append(["XV-6", "数值单元格", "项目", "曹县", "技改项目", 1234.5, 10.25, "2024-06-18", "是"])
    ws.append(["XV-7", "日期写成数字过小", "项目", "曹县", "技改项目", 600, 10, 123, "否"])
    ws.append(["XV-8", "布尔值当数字", "项目", "曹县", "技改项目", True, 10, "2024-06-18", "否"])
    ws.append([1001, "数字编号", "项目", "曹县", "技改项目", 600, 10, "2024-06-18", "否"])
    counties = wb.create_sheet("县区")
    counties.append(["编号", "名称", "类型", "报告年度", "城镇化率"])
    counties.append(["XP-1", "百分比格式0.57", "县区", 2024, 0.57])
    counties["E2"].number_format = "0%"
    counties.append(["XP-2", "数值57", "县区", 2024, 57])
    counties.append(["XP-3", "数值0.57无格式", "县区", 2024, 0.57])
    counties.append(["XP-4", "文本57%", "县区", 2024, "57%"])
    counties.append(["XP-5", "百分比格式57.25%", "县区", 2024, 0.5725])
    counties["E6"].number_format = "0.00%"
    _save(wb, "xlsx/values-projects.xlsx")


def build_broken_xlsx() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i in range(1, 200):
        ws.append(row(f"TR-{i}", f"截断{i}"))
    data = _save(wb, "xlsx/truncated-projects.xlsx")
    write("xlsx/truncated-projects.xlsx", data[: len(data) // 2])
    write("xlsx/csv-renamed-projects.xlsx", csv_text([row("RN-1", "其实是CSV")]))
    write("xlsx/empty-projects.xlsx", b"")


# --- JSON, JSON Lines, YAML ----------------------------------------------------------------------


def build_json() -> None:
    write(
        "json/mixed-kinds.json",
        """[
  {"kind": "project", "id": "MK-1", "name": "项目", "category": "技改项目", "total_investment": 600,
   "submitted_on": "2024-06-18"},
  {"kind": "town", "id": "MK-2", "name": "镇", "report_year": 2024, "resident_population": 35000},
  {"kind": "city", "id": "MK-3", "name": "菏泽市", "report_year": 2024, "tech_upgrade_projects_500w": 310},
  {"kind": "county", "id": "MK-4", "name": "曹县", "report_year": 2024, "resident_urbanization_rate": 57},
  42,
  null,
  ["MK-5", "项目"],
  "MK-6",
  {"kind": "spaceship", "id": "MK-7"},
  {"kind": "project", "name": "没有编号"},
  {"kind": "project", "id": {"nested": "MK-8"}},
  {"kind": "project", "id": "MK-9", "name": ["列表", "名称"]},
  {"kind": "project", "id": "MK-10", "total_investment": {"value": 600}},
  {"kind": "project", "id": "MK-11", "total_investment": "600", "category": "技改项目", "submitted_on": "2024-06-18",
   "applicant": ["a", "b"]}
]
""",
    )
    write(
        "json/nonfinite.json",
        """{"records": [
  {"kind": "project", "id": "JN-1", "total_investment": NaN},
  {"kind": "project", "id": "JN-2", "total_investment": Infinity},
  {"kind": "project", "id": "JN-3", "total_investment": -Infinity},
  {"kind": "project", "id": "JN-4", "total_investment": 1e308},
  {"kind": "project", "id": "JN-5", "total_investment": 1e999},
  {"kind": "project", "id": "JN-6", "total_investment": -0.0, "submitted_on": "2024-06-18"},
  {"kind": "project", "id": "JN-7", "total_investment": "", "submitted_on": "2024-06-18"},
  {"kind": "project", "id": "JN-8", "total_investment": 5e-324, "submitted_on": "2024-06-18"},
  {"kind": "project", "id": "JN-9", "total_investment": 12345678901234567890123}
]}
""",
    )
    write("json/deep-nesting.json", "[" * 100_000 + "]" * 100_000)
    write(
        "json/lone-surrogate.json",
        '[{"kind": "project", "id": "LS-1", "name": "\\ud800坏"},'
        ' {"kind": "project", "id": "LS-2", "name": "好", "submitted_on": "2024-06-18"},'
        ' {"kind": "project", "id": "LS-3\\u0000", "name": "NUL in id"}]',
    )
    write("json/not-json.json", "{'kind': 'project', 'id': 'single quotes'}")
    write("json/scalar.json", "42")
    write(
        "jsonl/mixed.jsonl",
        "\n".join(
            [
                '{"kind": "project", "id": "JL-1", "total_investment": 600, "submitted_on": "2024-06-18"}',
                '{"kind": "project", "id": "JL-2", "total_investment": ',
                "[1, 2, 3]",
                '{"kind": "project", "id": "JL-3", "total_investment": NaN}',
                "",
                '{"kind": "project", "id": "JL-4", "total_investment": 700, "submitted_on": "2024-06-18"}',
            ]
        ).encode()
        + b"\n\xff\xfe broken bytes\n",
    )
    write(
        "yaml/anchors-towns.yaml",
        """# anchors, aliases and merge keys are ordinary YAML: they are expanded
defaults: &defaults
  kind: town
  report_year: 2024
records:
  - <<: *defaults
    id: AN-1
    name: 甲镇
    resident_population: 61000
  - <<: *defaults
    id: AN-2
    name: 乙镇
    resident_population: &pop 30500
  - <<: *defaults
    id: AN-3
    name: 丙镇
    resident_population: *pop
""",
    )
    laughs = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        laughs.append(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    write(
        "yaml/billion-laughs.yaml", "records:\n  - kind: project\n    id: BL-1\n" + "\n".join(laughs) + "\n"
    )
    write(
        "yaml/python-tag.yaml",
        f"""records:
  - kind: project
    id: PY-1
    name: !!python/object/apply:os.system ["touch {SENTINEL}"]
  - kind: project
    id: PY-2
    name: 同一文件中的正常记录
    submitted_on: 2024-06-18
    total_investment: 600
""",
    )
    write("yaml/deep-nesting.yaml", "records: " + "[" * 20_000 + "]" * 20_000 + "\n")
    write(
        "yaml/duplicate-key.yaml",
        """records:
  - kind: project
    id: DK-1
    id: DK-2
""",
    )
    write("yaml/gbk-text.yaml", "records:\n  - kind: project\n    id: GY-1\n    name: 郓城\n", "gbk")


# --- Round 2 (issue 13, issue 12 points 7-8) -------------------------------------------------------

CITY_HDR = ["编号", "名称", "类型", "报告年度"]


def _zip_parts(parts: dict[str, bytes], lie: dict[str, int] | None = None) -> bytes:
    """A ZIP of the given parts; `lie` sets a part's declared uncompressed size (a lying header)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 6, 1, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    data = buf.getvalue()
    for name, size in (lie or {}).items():
        # Patch the declared size in the local header and the central directory entry of `name`.
        enc = name.encode()
        out = bytearray(data)
        i = 0
        while (i := out.find(enc, i)) != -1:
            if out[i - 30 : i - 26] == b"PK\x03\x04":
                out[i - 8 : i - 4] = size.to_bytes(4, "little")
            elif out[i - 46 : i - 42] == b"PK\x01\x02":
                out[i - 22 : i - 18] = size.to_bytes(4, "little")
            i += 1
        data = bytes(out)
    return data


def _workbook_parts(wb: openpyxl.Workbook) -> dict[str, bytes]:
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    return {n: z.read(n) for n in z.namelist()}


def build_round2_csv() -> None:
    # 1a: an unbalanced quote swallows the rows below it into one cell
    lines = [
        ",".join(HEADER),
        ",".join(row("UQ-1", "正常")),
        ",".join(row("UQ-2", '"引号未闭合')),
        ",".join(row("UQ-3", "被吞的行一")),
        ",".join(row("UQ-4", "被吞的行二")),
        ",".join(row("UQ-5", "被吞的行三")),
    ]
    write("csv/unbalanced-quote-projects.csv", "\r\n".join(lines) + "\r\n")
    lines = [
        ",".join(HEADER),
        ",".join(row("UE-1", "正常")),
        ",".join(row("UE-2", "正常二")),
        ",".join(row("UE-3", '"到文件末尾')),
        ",".join(row("UE-4", '含"一个引号')),
    ]
    write("csv/unbalanced-quote-at-end-projects.csv", "\r\n".join(lines) + "\r\n")
    # a legitimate quoted cell with line breaks (an address) is not taken for swallowed rows
    write(
        "csv/multiline-cell-projects.csv", csv_text([row("ML-1", "多行\n地址\n第三行"), row("ML-2", "单行")])
    )
    # 1b: GB18030 decided on the whole file, not a prefix: ASCII rows first (English header), GBK rows
    # after (tests/test_hostile_readers.py repeats this past the first megabytes)
    ascii_part = "id,name,kind,total_investment,submitted_on\r\n" + "".join(
        f"GA-{i},Project {i},project,600,2024-06-18\r\n" for i in range(1, 4)
    )
    write(
        "csv/gbk-after-ascii-projects.csv",
        ascii_part.encode("ascii")
        + "GA-4,郓城县项目,项目,700,2024-06-18\r\nGA-5,曹县项目,项目,800,2024-06-18\r\n".encode("gbk"),
    )
    # UTF-8 with BOM and one row pasted from GBK: that row reported, the rest read
    good = csv_text([row("BG-1", "甲项目")]).encode("utf-8")
    write(
        "csv/bom-one-gbk-row-projects.csv",
        b"\xef\xbb\xbf"
        + good
        + ",".join(row("BG-2", "乙项目")).encode("gbk")
        + b"\r\n"
        + ",".join(row("BG-3", "丙项目")).encode("utf-8")
        + b"\r\n",
    )
    # UTF-16 with a BOM but a broken byte pair: refused with the reason
    write(
        "csv/utf16-damaged-projects.csv",
        b"\xff\xfe"
        + csv_text([row("U16-1", "甲")]).encode("utf-16-le")
        + b"\x00\xd8"
        + csv_text([row("U16-2", "乙")]).encode("utf-16-le"),
    )
    # 6: a title row above the header; Excel's sep= first line
    write(
        "csv/title-row-projects.csv",
        "2024年重点项目申报汇总表,,,,,,,\r\n\r\n"
        + csv_text([row("TT-1", "标题下的项目"), row("TT-2", "第二个")]),
    )
    write("csv/sep-line-projects.csv", "sep=,\r\n" + csv_text([row("SP-1", "有sep行")]))
    write(
        "csv/sep-semicolon-projects.csv", "sep=;\r\n" + csv_text([row("SS-1", "分号分隔")]).replace(",", ";")
    )
    # 2: overflow, digit limit, impossible dates
    write(
        "csv/overflow-projects.csv",
        csv_text(
            [
                row("OV-1", "溢出", inv="1e1000000"),
                row("OV-2", "5001位整数", inv="1" * 5001),
                row("OV-3", "负溢出", inv="-1e1000000"),
                row("OV-4", "过小", inv="1e-1000000"),
                row("OV-5", "正常", inv="600"),
                ["9" * 5001, "5001位编号", "项目", "曹县", "技改项目", "600", "10", "2024-06-18"],
            ]
        ),
    )
    write(
        "csv/impossible-dates-projects.csv",
        csv_text(
            [
                row("ID-1", "2月30日", date="2024-02-30"),
                row("ID-2", "非闰年2月29日", date="2025-02-29"),
                row("ID-3", "13月", date="2024/13/01"),
                row("ID-4", "中文2月30日", date="2024年2月30日"),
                row("ID-5", "闰年2月29日之后的正常日期", date="2024-06-30"),
            ]
        ),
    )
    # 3d: invisible and bidi characters in ids and names
    write(
        "csv/invisible-chars-projects.csv",
        csv_text(
            [
                row("IV-1", "正常"),
                row("IV\u200b-1", "零宽空格重复"),
                row("\ufeffIV-2", "BOM在编号前"),
                row("IV-3\u2060", "词连接符"),
                row("IV-4", "\u202e反向显示名称"),
                row("IV-5", "隔离\u2067名称\u2069"),
            ]
        ),
    )
    # 9: counts with units, in the cell and in the header
    write(
        "csv/count-units-city.csv",
        csv_text(
            [
                ["CT-1", "菏泽市", "市", "2024", "7,600户", "1.3万个", "2.0万人次"],
                ["CT-2", "非整数", "市", "2024", "1.23456万户", "12000", "3000"],
                ["CT-3", "人与人次", "市", "2024", "500", "100个", "5000人"],
                ["CT-4", "单位不符", "市", "2024", "3亩", "1.5万", "2000人次"],
            ],
            header=CITY_HDR + ["开工改造老旧小区户数", "5G基站数", "农民工培训人次"],
        ),
    )
    write(
        "csv/count-units-header-city.csv",
        csv_text(
            [
                ["CH-1", "万户表头", "市", "2024", "2.0", "1.5"],
                ["CH-2", "万户表头非整数", "市", "2024", "0.00001", "3"],
                ["CH-3", "单元格单位覆盖表头", "市", "2024", "3000户", "2"],
            ],
            header=CITY_HDR + ["开工改造老旧小区户数(万户)", "5G基站数（万个）"],
        ),
    )
    # 4: text that a spreadsheet or rich would run
    write(
        "csv/formula-names-projects.csv",
        csv_text(
            [
                row("FN-1", "=1+1"),
                row("FN-2", "+SUM(A1)"),
                row("FN-3", "-2+3"),
                row("FN-4", "@cmd"),
                row("FN-5", "\t=tab"),
                row("-FN-6", "负号开头的编号"),
            ]
        ),
    )
    write(
        "csv/rich-markup-projects.csv",
        csv_text(
            [
                row("RM-1", "[/bold]x"),
                row("RM-2", "[link=http://evil.example]点我[/link]"),
                row("RM-3", "[red]红[/red]"),
                row("RM-4", "[bold"),
            ]
        ),
    )
    # 5: nothing can be judged
    write(
        "csv/undated-projects.csv",
        csv_text([row("UD-1", "无日期", date=""), row("UD-2", "无日期二", date="")]),
    )
    write(
        "csv/out-of-period-projects.csv",
        csv_text([row("OP-1", "1900年", date="1900-01-01"), row("OP-2", "2099年", date="2099-12-31")]),
    )
    # 1d: blank rows are counted
    write(
        "csv/blank-rows-projects.csv",
        csv_text([row("BR-1", "甲"), [""] * 8, row("BR-2", "乙"), [""] * 3, [" "] * 8, row("BR-3", "丙")]),
    )
    # a quote inside an unquoted cell is text, not the start of a quoted cell
    write(
        "csv/quote-inside-cell-projects.csv",
        csv_text([row("QI-1", '5"寸屏项目'), row("QI-2", "正常")]).replace('"5""寸屏项目"', '5"寸屏项目'),
    )
    # 10: one bad cell costs its field, the record is kept
    write(
        "csv/one-bad-cell-projects.csv",
        csv_text(
            [
                row("BC-1", "投资写错", inv="六百"),
                row("BC-2", "面积为零", land="0"),
                row("BC-3", "全对"),
                row("BC-4", "两处错误", inv="abc", date="2024-13-01"),
            ]
        ),
    )


def build_round2_xlsx() -> None:
    # 1c: a sheet with an error does not stop the sheets after it
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目一"
    ws.append(HEADER)
    ws.append(row("SH-1", "第一张表"))
    bad = wb.create_sheet("重复表头")
    bad.append(HEADER + ["总投资(万元)"])
    bad.append(row("SH-2", "重复表头表") + ["9"])
    last = wb.create_sheet("项目三")
    last.append(HEADER)
    last.append(row("SH-3", "第三张表"))
    _save(wb, "xlsx/sheet-error-then-more-projects.xlsx")
    # 1c: a damaged sheet part in the middle: that sheet reported, the next one read
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目一"
    ws.append(HEADER)
    ws.append(row("DS-1", "第一张表"))
    mid = wb.create_sheet("损坏")
    mid.append(HEADER)
    mid.append(row("DS-2", "损坏表"))
    last = wb.create_sheet("项目三")
    last.append(HEADER)
    last.append(row("DS-3", "第三张表"))
    parts = _workbook_parts(wb)
    parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"][:400]  # cut inside the XML
    write("xlsx/damaged-sheet-then-more-projects.xlsx", _zip_parts(parts))
    # 6: a header cell merged over two columns
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目"
    hdr = [
        "项目编号",
        "项目名称",
        "类型",
        "所在县区",
        "项目类别",
        "总投资(万元)",
        None,
        "用地面积(亩)",
        "申报日期",
    ]
    for c, v in enumerate(hdr, start=1):
        if v:
            ws.cell(1, c, v)
    ws.merge_cells("F1:G1")
    data = [
        ("MH-1", "值在左列", 600, None),
        ("MH-2", "值在右列", None, 700),
        ("MH-3", "两列不同", 600, 800),
        ("MH-4", "两列相同", 900, 900),
    ]
    for r, (rid, name, left, right) in enumerate(data, start=2):
        for c, v in zip(
            (1, 2, 3, 4, 5, 6, 7, 8, 9),
            (rid, name, "项目", "曹县", "技改项目", left, right, 10, "2024-06-18"),
            strict=True,
        ):
            if v is not None:
                ws.cell(r, c, v)
    _save(wb, "xlsx/merged-header-projects.xlsx")
    # 3c: an 18-digit id in a number cell was rounded by Excel; as text it is kept
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append(["统一社会信用代码", "企业名称", "类型", "报告年度", "建筑业总产值(亿元)"])
    ws.append([913717001234567890, "数值单元格编号", "企业", 2024, 12])
    ws.append(["913717001234567890", "文本单元格编号", "企业", 2024, 12])
    ws.append([123456789012345, "15位数值编号", "企业", 2024, 12])
    _save(wb, "xlsx/long-id-number-cell-enterprises.xlsx")
    # 9: a percent-formatted cell and counts under a unit header
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "县区"
    ws.append(["编号", "名称", "类型", "报告年度", "城镇化率"])
    ws.append(["PF-1", "45%格式", "县区", 2024, 0.45])
    ws["E2"].number_format = "0%"
    ws.append(["PF-2", "45.5%格式", "县区", 2024, 0.455])
    ws["E3"].number_format = "0.0%"
    ws.append(["PF-3", "0.1+0.2", "县区", 2024, 0.1 + 0.2])
    ws["E4"].number_format = "0%"
    city = wb.create_sheet("市")
    city.append(["编号", "名称", "类型", "报告年度", "开工改造老旧小区户数(万户)"])
    city.append(["PC-1", "万户列", "市", 2024, 2.0])
    city.append(["PC-2", "万户列非整数", "市", 2024, 1.23456])
    _save(wb, "xlsx/percent-and-counts.xlsx")
    # 8: expansion bombs: a sheet part that expands 1000-fold, a shared-strings part past its limit,
    # and a part whose header understates its size
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目"
    ws.append(HEADER)
    ws.append(row("ZB-1", "炸弹"))
    parts = _workbook_parts(wb)
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"<sheetData>", b"<sheetData>" + b" " * (40 << 20), 1)
    write("xlsx/zip-bomb-sheet-projects.xlsx", _zip_parts(parts))
    parts = _workbook_parts(wb)
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main">' + b"<si><t>x</t></si>" * 5_000_000 + b"</sst>"
    )
    write("xlsx/zip-bomb-strings-projects.xlsx", _zip_parts(parts))
    parts = _workbook_parts(wb)
    real = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = real.replace(b"<sheetData>", b"<sheetData>" + b" " * (4 << 20), 1)
    write("xlsx/lying-size-projects.xlsx", _zip_parts(parts, lie={"xl/worksheets/sheet1.xml": 1000}))


def build_round2_text() -> None:
    # 3b: duplicate keys
    write(
        "json/duplicate-keys.json",
        """[
  {"kind": "project", "id": "JD-1", "total_investment": 600, "total_investment": 6000, "submitted_on": "2024-06-18"},
  {"kind": "project", "id": "JD-2", "id": "JD-3", "submitted_on": "2024-06-18"},
  {"kind": "project", "id": "JD-4", "total_investment": 700, "submitted_on": "2024-06-18"}
]
""",
    )
    write(
        "jsonl/duplicate-keys.jsonl",
        "\n".join(
            [
                '{"kind": "project", "id": "LD-1", "name": "甲", "name": "乙", "submitted_on": "2024-06-18"}',
                '{"kind": "project", "id": "LD-2", "submitted_on": "2024-06-18"}',
                "",
                "",
                '{"kind": "project", "kind": "town", "id": "LD-3"}',
            ]
        )
        + "\n",
    )
    # 6: JSON saved as UTF-16 with a byte-order mark (Windows Notepad "Unicode")
    doc = '[{"kind": "project", "id": "U16J-1", "name": "记事本保存", "submitted_on": "2024-06-18"}]'
    write("json/utf16le-bom.json", b"\xff\xfe" + doc.encode("utf-16-le"))
    write(
        "jsonl/utf16-bom.jsonl",
        b"\xff\xfe"
        + (
            '{"kind": "project", "id": "U16L-1", "submitted_on": "2024-06-18"}\r\n'
            '\r\n{"kind": "project", "id": "U16L-2", "name": "乙",'
            ' "submitted_on": "2024-06-18"}\r\n'
        ).encode("utf-16-le"),
    )
    write("json/utf16be-bom.json", b"\xfe\xff" + doc.replace("U16J-1", "U16J-2").encode("utf-16-be"))
    # 2: integers past Python's digit limit, floats past the double range
    write(
        "json/big-numbers.json",
        "["
        + ",".join(
            [
                '{"kind": "project", "id": "BN-1", "total_investment": '
                + "1" * 5001
                + ', "submitted_on": "2024-06-18"}',
                '{"kind": "project", "id": "BN-2", "total_investment": 1e1000000, "submitted_on": "2024-06-18"}',
                '{"kind": "project", "id": ' + "7" * 5001 + ', "submitted_on": "2024-06-18"}',
                '{"kind": "project", "id": "BN-3", "total_investment": 600, "submitted_on": "2024-06-18"}',
            ]
        )
        + "]\n",
    )
    write(
        "jsonl/big-numbers.jsonl",
        '{"kind": "project", "id": "JB-1", "total_investment": '
        + "3" * 5001
        + ', "submitted_on": "2024-06-18"}\n{"kind": "project", "id": "JB-2", "total_investment": 600, '
        '"submitted_on": "2024-06-18"}\n',
    )
    write(
        "json/undated.json",
        '[{"kind": "project", "id": "JU-1", "total_investment": 600},'
        ' {"kind": "project", "id": "JU-2", "submitted_on": "1900-01-01"}]\n',
    )
    # 3a: the loader decides nothing: 0600, 1:30, 0012, yes stay as written
    write(
        "yaml/core-schema-projects.yaml",
        """records:
  - kind: project
    id: 0012
    name: 0600
    applicant: 1:30
    in_provincial_characteristic_town: yes
    total_investment: 0600
    submitted_on: 2024-06-18
  - kind: project
    id: 1001
    name: ~
    in_provincial_characteristic_town: true
    total_investment: 1_000
    submitted_on: 2024-06-18
""",
    )
    write(
        "yaml/multi-doc-projects.yaml",
        """kind: project
id: YD-1
submitted_on: 2024-06-18
---
- kind: project
  id: YD-2
  submitted_on: 2024-06-18
- kind: project
  id: YD-3
  submitted_on: 2024-06-18
---
""",
    )
    write(
        "yaml/multi-doc-bad-doc-projects.yaml",
        """- kind: project
  id: YB-1
  submitted_on: 2024-06-18
--- 42
---
- kind: project
  id: YB-2
  submitted_on: 2024-06-18
""",
    )
    write(
        "yaml/tags-projects.yaml",
        f"""records:
  - kind: project
    id: YT-1
    total_investment: !!int 12x
    submitted_on: 2024-06-18
  - kind: project
    id: YT-2
    applicant: !!binary aGVsbG8=
    submitted_on: 2024-06-18
  - kind: project
    id: YT-3
    applicant: !!python/name:os.system
    submitted_on: 2024-06-18
  - kind: project
    id: YT-4
    applicant: !!str 0600
    submitted_on: 2024-06-18
  - kind: project
    id: !!python/object/apply:os.system ["touch {SENTINEL}"]
  - !!python/object/apply:os.system ["touch {SENTINEL}"]
""",
    )
    write(
        "yaml/big-numbers-projects.yaml",
        "records:\n  - kind: project\n    id: YN-1\n    total_investment: "
        + "1" * 5001
        + "\n    submitted_on: 2024-06-18\n  - kind: project\n    id: YN-2\n"
        "    total_investment: 1e1000000\n    submitted_on: 2024-06-18\n",
    )
    # YAML 1.1 booleans (on/off, Yes/No, y/n) are text to the loader; the boolean field reads yes/no
    write(
        "yaml/yes-no-words-projects.yaml",
        """records:
  - {kind: project, id: YW-1, in_provincial_characteristic_town: Yes, submitted_on: 2024-06-18}
  - {kind: project, id: YW-2, in_provincial_characteristic_town: off, submitted_on: 2024-06-18}
  - {kind: project, id: YW-3, in_provincial_characteristic_town: n, submitted_on: 2024-06-18}
  - {kind: project, id: YW-4, in_provincial_characteristic_town: NULL, submitted_on: 2024-06-18}
""",
    )
    write(
        "yaml/impossible-date-projects.yaml",
        """records:
  - kind: project
    id: YI-1
    submitted_on: 2024-02-30
  - kind: project
    id: YI-2
    submitted_on: 2024-06-30
""",
    )


if __name__ == "__main__":
    build_csv()
    build_layout()
    build_formulas()
    build_values()
    build_broken_xlsx()
    build_json()
    build_round2_csv()
    build_round2_xlsx()
    build_round2_text()
    print(f"corpus written to {OUT}")
