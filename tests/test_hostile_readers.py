"""Readers under hostile input, beyond the corpus: the encoding is decided on the whole file, an
unbalanced quote costs its own row only, ZIP bombs are refused before memory grows, rule files keep
PyYAML's dates while record files keep every value as written, and numbers of any size fail cleanly."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.policy.policy import load_policy
from engine.records import coerce, textencoding, xlsxparts
from engine.records.intake import load_records, rows_rejected
from engine.records.yamlsource import YamlSourceError, load_record_documents, load_yaml_text

CATALOG = load_policy().catalog
CORPUS = Path(__file__).resolve().parent / "corpus" / "files"
HEADER = "项目编号,项目名称,类型,所在县区,项目类别,总投资(万元),用地面积(亩),申报日期"


def _row(i: int, name: str) -> str:
    return f"Q-{i},{name},项目,曹县,技改项目,600,10,2024-06-18"


def test_gbk_rows_after_the_first_megabytes_of_ascii_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample that once decided the encoding is made small, so the GBK rows fall past it.
    monkeypatch.setattr(textencoding, "ENCODING_SAMPLE", 256)
    ascii_part = "id,name,kind,total_investment,submitted_on\r\n" + "".join(
        f"A-{i},Project {i},project,600,2024-06-18\r\n" for i in range(40)
    )
    gbk_part = "".join(f"G-{i},郓城县项目{i},项目,700,2024-06-18\r\n" for i in range(5)).encode("gbk")
    path = tmp_path / "late-gbk.csv"
    path.write_bytes(ascii_part.encode("ascii") + gbk_part)
    assert path.stat().st_size > 4 * textencoding.ENCODING_SAMPLE
    got = load_records([path], CATALOG)
    assert not got.errors and not got.file_problems
    assert [r.id for r in got.records][-5:] == [f"G-{i}" for i in range(5)]
    assert got.records[-1].name == "郓城县项目4"
    assert got.tallies[0].rows_read == 45


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 9), data=st.data())
def test_an_unbalanced_quote_costs_its_own_row_and_every_other_row_is_read(
    tmp_path: Path, n: int, data: st.DataObject
) -> None:
    bad = data.draw(st.integers(1, n))
    eol = data.draw(st.sampled_from(["\r\n", "\n"]))
    lines = [HEADER] + [_row(i, ('"未闭合' if i == bad else f"项目{i}")) for i in range(1, n + 1)]
    path = tmp_path / f"quote-{n}-{bad}.csv"
    path.write_text(eol.join(lines) + eol, encoding="utf-8")
    got = load_records([path], CATALOG)
    assert [r.id for r in got.records] == [f"Q-{i}" for i in range(1, n + 1) if i != bad]
    assert [e.source.row for e in got.errors] == [bad + 1]  # the row of the quote, as people count rows
    assert "引号未闭合" in got.errors[0].message
    for r in got.records:
        assert r.source.row == int(r.id[2:]) + 1
    t = got.tallies[0]
    assert t.rows_read == n == len(got.records) + rows_rejected(got.errors) + t.blank_rows


def test_a_zip_bomb_is_refused_from_the_directory_before_openpyxl_parses_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import openpyxl

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("openpyxl was asked to open a ZIP bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    tracemalloc.start()
    try:
        for name in ("zip-bomb-sheet-projects.xlsx", "zip-bomb-strings-projects.xlsx"):
            got = load_records([CORPUS / "xlsx" / name], CATALOG)
            assert len(got.file_problems) == 1 and "ZIP bomb" in got.file_problems[0].message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20  # nothing expanded: the limits were checked on the declared sizes


def test_the_limits_are_named_in_the_error() -> None:
    got = load_records([CORPUS / "xlsx" / "zip-bomb-sheet-projects.xlsx"], CATALOG)
    assert f"{xlsxparts.MAX_RATIO}-fold" in got.file_problems[0].message
    got = load_records([CORPUS / "xlsx" / "zip-bomb-strings-projects.xlsx"], CATALOG)
    assert f"{xlsxparts.MAX_PART_BYTES:,} bytes" in got.file_problems[0].message


def test_rule_files_keep_dates_and_record_files_keep_text() -> None:
    rule = load_yaml_text("from: 2024-05-06\nn: 0600\n", "rule.yaml").data
    assert rule["from"] == dt.date(2024, 5, 6)  # the rule-file path is PyYAML's schema, as before
    doc = load_record_documents(
        "from: 2024-05-06\nn: 0600\nt: 1:30\nid: 0012\nb: yes\nc: true\nz: ~\n", "r.yaml"
    )
    assert doc[0].data == {
        "from": "2024-05-06",
        "n": "0600",
        "t": "1:30",
        "id": "0012",
        "b": "yes",
        "c": True,
        "z": None,
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("n: !!int 12x\n", "cannot read '12x' as !!int"),
        ("from: 2024-02-30\n", "cannot read '2024-02-30' as !!timestamp"),
        ("n: " + "1" * 5001 + "\n", "整数过长 integer longer than 4300 digits"),
    ],
)
def test_a_rule_file_value_yaml_cannot_build_is_an_error_at_its_line(text: str, fragment: str) -> None:
    with pytest.raises(YamlSourceError) as info:
        load_yaml_text(text, "rule.yaml")
    assert info.value.line == 1 and fragment in info.value.message
    assert "set_int_max_str_digits" not in str(info.value)


def test_several_yaml_documents_in_a_record_file_are_all_read(tmp_path: Path) -> None:
    path = tmp_path / "projects.yaml"
    path.write_text("id: Y1\nkind: project\n---\n- id: Y2\n  kind: project\n---\n--- 5\n", encoding="utf-8")
    got = load_records([path], CATALOG)
    assert [r.id for r in got.records] == ["Y1", "Y2"]
    assert len(got.errors) == 1 and "YAML document 4" in got.errors[0].message


@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**7), 10**7), st.sampled_from(["", "-", "+"]), st.integers(1, 6000))
def test_numbers_of_any_exponent_or_length_parse_or_are_refused_cleanly(
    exp: int, sign: str, digits: int
) -> None:
    for text in (f"{sign}1e{exp}", sign + "7" * digits, f"{sign}0.{'0' * min(digits, 500)}1"):
        try:
            d, _ = coerce.to_decimal(text, "万元")
        except coerce.CoerceError as exc:
            assert "set_int_max_str_digits" not in str(exc) and len(str(exc)) < 300
            continue
        assert isinstance(d, Decimal) and d.is_finite()
        assert coerce.MIN_EXPONENT <= d.adjusted() <= coerce.MAX_EXPONENT or d.is_zero()


def test_a_json_integer_past_the_digit_limit_costs_its_field_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        '[{"kind": "project", "id": "J1", "total_investment": ' + "9" * 6000 + "},"
        ' {"kind": "project", "id": "J2", "total_investment": 5}]',
        encoding="utf-8",
    )
    got = load_records([path], CATALOG)
    assert [r.id for r in got.records] == ["J1", "J2"] and "total_investment" in got.records[0].invalid
    assert not got.file_problems and "set_int_max_str_digits" not in str(got.errors)
