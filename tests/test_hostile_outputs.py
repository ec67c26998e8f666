"""Outputs never run what the records hold: CSV cells that a spreadsheet would take for a formula are
neutralised (numbers stay numbers), and names are printed as text, never as rich markup."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from engine.cli import main
from engine.cli.export import EXPORT_COLUMNS, _csv_cell, write_csv
from engine.cli.output import FORMULA_STARTS, neutralise
from engine.store.finding_reads import FindingRow

CORPUS = Path(__file__).resolve().parent / "corpus" / "files" / "csv"
FORMULAS = CORPUS / "formula-names-projects.csv"
MARKUP = CORPUS / "rich-markup-projects.csv"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@given(st.text(max_size=20))
def test_neutralised_text_never_starts_a_formula_and_keeps_every_character(text: str) -> None:
    out = neutralise(text)
    assert not out.startswith(FORMULA_STARTS)
    assert out == text or out == "'" + text


@pytest.mark.parametrize("value", [-3.5, -3, 0, Decimal("-3.5"), True, None])
def test_numbers_are_not_neutralised(value: object) -> None:
    assert neutralise(value) == value or value is None
    assert not _csv_cell(Decimal("-3.5")).startswith("'") and _csv_cell(Decimal("-3.5")) == "-3.5"
    assert _csv_cell(-2) == "-2"


def test_evaluate_csv_output_neutralises_formula_text() -> None:
    code, out, err = _cli("evaluate", "--no-store", "--format", "csv", str(FORMULAS))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    names = {r["record_id"]: r["record_name"] for r in rows}
    assert names["FN-1"] == "'=1+1" and names["FN-2"] == "'+SUM(A1)" and names["FN-3"] == "'-2+3"
    assert names["FN-4"] == "'@cmd" and names["FN-5"] == "'=tab"  # the leading tab was trimmed on input
    assert "'-FN-6" in names  # an id is text too
    for r in rows:
        for key, cell in r.items():
            assert not cell.startswith(FORMULA_STARTS) or _is_number(cell), (key, cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _row(**over: object) -> FindingRow:
    base: dict = dict(
        run_id=1,
        kind="project",
        record_id="P1",
        period="",
        record_name="甲",
        record_version=1,
        record_version_id=1,
        file="f.csv",
        sheet=None,
        row=2,
        check_id="c",
        check_version="1",
        pack="heze-2024",
        measure=2,
        measure_title="t",
        check_title="ct",
        nature="binding",
        status="non_compliant",
        value=Decimal("-3.5"),
        threshold=Decimal(0),
        target=None,
        unit="万元",
        op="ge",
        due=None,
        as_of="2024-06-30",
        message="m",
        missing_fields=None,
    )
    base.update(over)
    return FindingRow(**base)


def test_export_csv_neutralises_text_cells_but_writes_negative_numbers_as_numbers() -> None:
    out = io.StringIO()
    write_csv(
        [_row(record_name='=HYPERLINK("http://evil")', record_id="@P1", message="\t=cmd", unit="-")], out
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    header, data = rows[0], rows[1]
    cell = dict(zip(header, data, strict=True))
    assert cell["名称"] == '\'=HYPERLINK("http://evil")' and cell["记录编号"] == "'@P1"
    assert cell["说明"] == "'\t=cmd" and cell["单位"] == "'-"
    assert cell["实际值"] == "-3.5"  # a number stays a number
    assert len(header) == len(EXPORT_COLUMNS)


def test_names_with_rich_markup_print_as_written_in_the_table() -> None:
    code, out, err = _cli("evaluate", "--no-store", "--all", str(MARKUP))
    assert code == 0, err
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    assert "[/bold]x" in flat and "[link=http://evil.example]点我[/link]" in flat and "[red]红[/red]" in flat
    assert "[bold" in flat


def test_history_runs_and_diff_print_markup_names_as_text(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert _cli("evaluate", str(MARKUP), "--db", db, "--format", "summary")[0] == 0
    assert _cli("evaluate", str(MARKUP), "--db", db, "--format", "summary", "--as-of", "2025-06-30")[0] == 0
    code, out, err = _cli("history", "RM-1", "--db", db)
    assert code == 0, err
    assert "[/bold]x" in out
    code, out, err = _cli("history", "RM-2", "--db", db)
    assert code == 0 and "[link=http://evil.example]点我[/link]" in out.replace("\n", "")
    code, out, err = _cli("diff", "1", "2", "--db", db)
    assert code == 0, err
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    assert "[/bold]x" in flat or "无变化" in out
    assert _cli("runs", "--db", db)[0] == 0
