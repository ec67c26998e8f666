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


def row(rid: str, name: str, inv: str = "600", land: str = "10", category: str = "技改项目",
        date: str = "2024-06-18", kind: str = "项目", county: str = "曹县") -> list[str]:
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
        f"LAT-{i},Café Zoë Müller {i},project,{i}00\r\n" for i in range(1, 6))
    write("csv/latin1-projects.csv", latin, "latin-1")
    # A PNG picture renamed to .csv.
    write("csv/binary-projects.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)))
    # UTF-8, but one row was pasted from a GBK file: that row is reported, the others are read.
    good = csv_text([row("MIX-1", "甲项目"), row("MIX-2", "乙项目")]).encode("utf-8")
    bad_row = ",".join(row("MIX-3", "丙项目")).encode("gbk") + b"\r\n"
    tail = ",".join(row("MIX-4", "丁项目")).encode("utf-8") + b"\r\n"
    write("csv/one-gbk-row-in-utf8-projects.csv", good + bad_row + tail)

    # Mixed line endings: CRLF, LF, CR, and a quoted cell holding a line break.
    lines = [",".join(HEADER), ",".join(row("EOL-1", "甲")), ",".join(row("EOL-2", "乙")),
             ",".join(row("EOL-3", "丙")), ",".join(row("EOL-4", '"多行\n名称"')[:1]) + ',"多行\n名称",'
             + ",".join(row("EOL-4", "x")[2:]), ",".join(row("EOL-5", "戊"))]
    write("csv/mixed-line-endings-projects.csv",
          lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + lines[3] + "\r\n" + lines[4] + "\n" + lines[5] + "\n")

    write("csv/numbers-projects.csv", csv_text([
        row("NUM-1", "千分位", inv="1,234.5"),
        row("NUM-2", "全角数字", inv="１２３４"),
        row("NUM-3", "全角千分位", inv="１，２３４．５"),
        row("NUM-4", "带单位亿元", inv="1.2亿元"),
        row("NUM-5", "负零", inv="-0"),
        row("NUM-6", "前后空格", inv="  500  "),
        row("NUM-7", "千分位写错", inv="1,23,4"),
        row("NUM-8", "两个小数点", inv="1.2.3"),
        row("NUM-9", "全角空格为空", inv="\u3000"),
    ]))
    write("csv/nonfinite-projects.csv", csv_text([
        row("NF-1", "NaN", inv="NaN"),
        row("NF-2", "inf", inv="inf"),
        row("NF-3", "-Infinity", inv="-Infinity"),
        row("NF-4", "1e308", inv="1e308"),
        row("NF-5", "空字符串", inv=""),
        row("NF-6", "负零点零", inv="-0.0"),
        row("NF-7", "科学计数", inv="6e2"),
        row("NF-8", "负数", inv="-5"),
        row("NF-9", "用地负零", land="-0"),
    ]))
    write("csv/duplicates-a-projects.csv", csv_text([
        row("DUP-1", "第一次"), row("DUP-2", "文件内"), row("DUP-2", "文件内重复"), row("ＤＵＰ－１", "全角重复"),
    ]))
    write("csv/duplicates-b-projects.csv", csv_text([row("DUP-1", "跨文件重复"), row("DUP-3", "新的")]))
    write("csv/unknown-kinds.csv", csv_text([
        row("UK-1", "正常项目"), row("UK-2", "飞船", kind="飞船"), row("UK-3", "空类型", kind=""),
        row("UK-4", "英文类型", kind="project"),
    ]))
    hdr = HEADER + ["备注", "联系电话"]
    write("csv/unknown-columns-projects.csv", csv_text([
        row("UC-1", "甲") + ["备注一", "0530-1234567"],
        row("UC-2", "乙") + ["备注二", "0530-7654321"],
        row("UC-3", "丙") + ["", ""],
    ], header=hdr))
    write("csv/hostile-names-projects.csv", csv_text([
        row("HN-1", "<script>alert(1)</script><b>项目</b>"),
        row("HN-2", "{{ 7*7 }}{% for x in range(9) %}x{% endfor %}{{ config }}"),
        row("HN-3", "$(touch /tmp/heze-pwned); rm -rf / `id` | tee ; & >"),
        row("HN-4", "../../etc/passwd"),
        row("HN-5", "C:\\Windows\\System32\\..\\con"),
        row("HN-6", "=HYPERLINK(\"http://evil.example\",\"点我\")"),
        row("../HN-7", "{title}{value}{0}{__class__}"),
    ]))
    write("csv/control-chars-projects.csv", csv_text([
        row("CC-1", "正常"), row("CC-2", "含NUL\x00字符"), row("CC-3", "含响铃\x07字符"), row("CC-4", "含制表\t符"),
    ]))
    write("csv/ragged-projects.csv", csv_text([
        row("RG-1", "正常"),
        row("RG-2", "多一格") + ["多出来的值"],
        row("RG-3", "少几格")[:5],
        ["", "", "", "", "", "", "", ""],
        row("RG-4", "尾部空格") + ["", " "],
    ]))
    write("csv/empty-projects.csv", "")
    write("csv/header-only-projects.csv", ",".join(HEADER) + "\r\n")
    write("csv/semicolon-projects.csv", csv_text([row("SC-1", "分号")]).replace(",", ";"))
    write("csv/duplicate-header-projects.csv", csv_text([row("DH-1", "甲") + ["9"]], header=HEADER + ["总投资(万元)"]))
    county_hdr = ["编号", "名称", "类型", "报告年度", "城镇化率"]
    write("csv/percent-counties.csv", csv_text([
        ["PCT-1", "百分号", "县区", "2024", "57%"],
        ["PCT-2", "百分点", "县区", "2024", "57"],
        ["PCT-3", "小数歧义", "县区", "2024", "0.57"],
        ["PCT-4", "明确的零点五七", "县区", "2024", "0.57%"],
        ["PCT-5", "一歧义", "县区", "2024", "1"],
        ["PCT-6", "超过100", "县区", "2024", "157%"],
        ["PCT-7", "全角百分号", "县区", "2024", "５７．５％"],
    ], header=county_hdr))


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
        ("LAY-2", "曹县项目二", "项目", None, "技改项目", 450, 12, dt.date(2024, 6, 19)),  # county merged from row 5
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
                    text, n = re.subn(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/?>(</v>)?', rf"\1\2<v>{v}</v>", text)
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
    write("json/mixed-kinds.json", """[
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
""")
    write("json/nonfinite.json", """{"records": [
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
""")
    write("json/deep-nesting.json", "[" * 100_000 + "]" * 100_000)
    write("json/lone-surrogate.json", '[{"kind": "project", "id": "LS-1", "name": "\\ud800坏"},'
                                      ' {"kind": "project", "id": "LS-2", "name": "好", "submitted_on": "2024-06-18"},'
                                      ' {"kind": "project", "id": "LS-3\\u0000", "name": "NUL in id"}]')
    write("json/not-json.json", "{'kind': 'project', 'id': 'single quotes'}")
    write("json/scalar.json", "42")
    write("jsonl/mixed.jsonl", "\n".join([
        '{"kind": "project", "id": "JL-1", "total_investment": 600, "submitted_on": "2024-06-18"}',
        '{"kind": "project", "id": "JL-2", "total_investment": ',
        '[1, 2, 3]',
        '{"kind": "project", "id": "JL-3", "total_investment": NaN}',
        '',
        '{"kind": "project", "id": "JL-4", "total_investment": 700, "submitted_on": "2024-06-18"}',
    ]).encode() + b"\n\xff\xfe broken bytes\n")
    write("yaml/anchors-towns.yaml", """# anchors, aliases and merge keys are ordinary YAML: they are expanded
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
""")
    laughs = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        laughs.append(f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    write("yaml/billion-laughs.yaml", "records:\n  - kind: project\n    id: BL-1\n" + "\n".join(laughs) + "\n")
    write("yaml/python-tag.yaml", f"""records:
  - kind: project
    id: PY-1
    name: !!python/object/apply:os.system ["touch {SENTINEL}"]
""")
    write("yaml/deep-nesting.yaml", "records: " + "[" * 20_000 + "]" * 20_000 + "\n")
    write("yaml/duplicate-key.yaml", """records:
  - kind: project
    id: DK-1
    id: DK-2
""")
    write("yaml/gbk-text.yaml", "records:\n  - kind: project\n    id: GY-1\n    name: 郓城\n", "gbk")


if __name__ == "__main__":
    build_csv()
    build_layout()
    build_formulas()
    build_values()
    build_broken_xlsx()
    build_json()
    print(f"corpus written to {OUT}")
