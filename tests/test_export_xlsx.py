"""`compliance export RUN --format xlsx`: a workbook an office opens ready to filter, read and print."""

from __future__ import annotations

import datetime as dt
import errno
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from tests.test_letters_support import write_projects


def cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def run_db(tmp_path: Path) -> str:
    src = tmp_path / "srv" / "uploads" / "2026"
    src.mkdir(parents=True)
    write_projects(src)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    code, _, err = cli("evaluate", str(src), "--db", url, "--format", "summary", "--quiet")
    assert code in (0, 1), err
    return url


@pytest.fixture
def sheet(run_db: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    import openpyxl

    out = tmp_path / "x.xlsx"
    code, _, err = cli("export", "1", "--format", "xlsx", "-o", str(out), "--db", run_db)
    assert code == 0, err
    return openpyxl.load_workbook(out).active


def _col(ws, name: str) -> list:  # type: ignore[no-untyped-def]
    header = [c.value for c in ws[1]]
    i = header.index(name)
    return [row[i] for row in ws.iter_rows(min_row=2)]


def test_xlsx_has_widths_filter_frozen_header_and_print_settings(sheet) -> None:  # type: ignore[no-untyped-def]
    ws = sheet
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
    assert ws.print_title_rows == "$1:$1"  # header row on every printed page
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0 and ws.page_setup.orientation == "landscape"
    widths = {c.value: ws.column_dimensions[c.column_letter].width for c in ws[1]}
    assert widths["检查项"] >= 30 and widths["说明"] >= 40 and widths["年度"] < 10
    assert all(c.font.bold for c in ws[1])


def test_xlsx_numbers_years_and_dates_are_typed_with_formats(sheet) -> None:  # type: ignore[no-untyped-def]
    values = [c for c in _col(sheet, "实际值") if isinstance(c.value, int | float)]
    assert values and all(c.number_format.startswith("#,##0") for c in values)
    assert any(c.value == 480 and c.number_format == "#,##0" for c in values)
    years = _col(sheet, "年度")
    assert all(isinstance(c.value, int) and c.number_format == "0" for c in years if c.value is not None)
    dates = [c for c in _col(sheet, "评价日期")]
    assert all(isinstance(c.value, dt.datetime) and c.number_format == "yyyy-mm-dd" for c in dates)


def test_xlsx_names_kinds_in_chinese_and_source_files_without_their_folder(sheet) -> None:  # type: ignore[no-untyped-def]
    assert {c.value for c in _col(sheet, "类型")} == {
        "建设项目"
    }  # the record vocabulary's label, not `project`
    assert {c.value for c in _col(sheet, "来源文件")} == {
        "projects.csv"
    }  # never /srv/uploads/… on the server


def test_xlsx_on_a_full_disk_fails_clearly_without_tracebacks_or_an_empty_file(
    run_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from engine.render import files

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    out = tmp_path / "full.xlsx"
    code, _, err = cli("export", "1", "--format", "xlsx", "-o", str(out), "--db", run_db)
    import gc

    gc.collect()  # an unclosed zip would complain now ("Exception ignored in …")
    captured = capfd.readouterr()
    assert code == 2 and "磁盘空间不足" in err
    assert "Exception ignored" not in err + captured.err and "Traceback" not in err + captured.err
    assert not out.exists() and list(tmp_path.glob(".full.xlsx*")) == []
