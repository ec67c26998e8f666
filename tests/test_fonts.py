"""Without any Chinese font: HTML, DOCX and Markdown letters and notices are written; only the PDF is
refused, and its message names the Debian/Ubuntu packages to install."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.render import pdf as pdf_mod

ROOT = Path(__file__).resolve().parents[1]

EMPTY_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><cachedir>{cache}</cachedir></fontconfig>
"""


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def no_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fontconfig (fc-list, fc-match) pointed at a configuration with no font folder at all."""
    conf = tmp_path / "empty-fonts.conf"
    conf.write_text(EMPTY_FONTCONFIG.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.delenv("FONTCONFIG_PATH", raising=False)
    assert pdf_mod.cjk_fonts() == []


@pytest.fixture
def stored(tmp_path: Path) -> str:
    db = str(tmp_path / "store.db")
    src = tmp_path / "in"
    src.mkdir()
    for name in ("projects-2024.csv", "towns.yaml"):
        shutil.copy(ROOT / "samples" / name, src / name)
    code, _, err = cli("evaluate", str(src), "--db", db, "--format", "summary")
    assert code in (0, 1), err
    return db


def test_html_docx_and_markdown_letters_and_notices_need_no_chinese_font(
    no_fonts, stored, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, _, err = cli(
        "letter", "HZ-2024-004", "-f", "html", "-f", "docx", "-f", "md", "-o", str(out), "--db", stored
    )
    assert code == 0, err
    assert {p.suffix for p in out.glob("*HZ-2024-004.*")} == {".html", ".docx", ".md"}
    code, _, err = cli(
        "notice", "town", "单县浮岗镇", "-f", "html", "-f", "docx", "-f", "md", "-o", str(out), "--db", stored
    )
    assert code == 0, err
    assert {p.suffix for p in out.glob("达标情况通报_*")} == {".html", ".docx", ".md"}


def test_only_the_pdf_needs_a_chinese_font_and_its_error_names_the_packages(
    no_fonts, stored, tmp_path: Path
) -> None:
    for args in (["letter", "HZ-2024-004"], ["notice", "town", "单县浮岗镇"]):
        code, _, err = cli(*args, "-f", "pdf", "-o", str(tmp_path / "pdf"), "--db", stored)
        assert code == 2
        assert "未安装中文字体" in err and "fonts-noto-cjk" in err and "fonts-arphic-ukai" in err
        assert "-f html" in err  # what works without a font
    assert not (tmp_path / "pdf").exists() or not any((tmp_path / "pdf").iterdir())  # nothing half-written
    with pytest.raises(pdf_mod.PdfUnavailable, match="fonts-noto-cjk"):
        pdf_mod.html_to_pdf("<p>审查意见书</p>")
