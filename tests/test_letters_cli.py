"""`compliance letter` / `compliance notice` end to end: store numbering and register, --from, safe paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.cli import main
from engine.store import Store
from engine.store.models import Letter, Run
from engine.store.testing import BACKENDS, store_url
from tests.test_letters_support import write_projects

TOWNS = """records:
  - {id: T-FG, kind: town, name: 单县浮岗镇, county: 单县, report_year: 2024, 镇区人口目标档次: 3万人,
     镇区常住人口(万人): 2.71, 基期镇区常住人口(万人): 2.55, 基期年度: 2023}
"""


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(params=BACKENDS)
def stored(request, tmp_path: Path):  # a store holding one evaluation of the sample projects and a town
    (tmp_path / "db").mkdir()
    for url in store_url(request.param, tmp_path / "db"):
        src = tmp_path / "in"
        src.mkdir()
        write_projects(src)
        (src / "towns.yaml").write_text(TOWNS, encoding="utf-8")
        code, _, err = cli("evaluate", str(src), "--db", url, "--format", "json")
        assert code in (0, 1), err
        yield url, src


def _letters(url: str) -> list[Letter]:
    store = Store(url, create=False)
    try:
        with store.session() as s:
            return list(s.execute(select(Letter).order_by(Letter.id)).scalars())
    finally:
        store.close()


def test_letter_from_store_is_numbered_recorded_and_hashed(stored, tmp_path: Path) -> None:
    url, _ = stored
    out = tmp_path / "out"
    code, stdout, err = cli("letter", "P-FAIL", "-f", "md", "-f", "html", "-o", str(out), "--db", url)
    assert code == 0, err
    md = next(out.glob("*_P-FAIL.md"))
    assert md.name == "菏城审〔2026〕1号_P-FAIL.md"
    text = md.read_text(encoding="utf-8")
    assert "菏政发〔2024〕11号" in text and "480万元" in text and "不符合" in text
    rows = _letters(url)
    assert [(r.format, r.number) for r in rows] == [
        ("md", "菏城审〔2026〕1号"),
        ("html", "菏城审〔2026〕1号"),
    ]
    for r in rows:
        assert r.sha256 == hashlib.sha256(Path(r.path).read_bytes()).hexdigest()
    store = Store(url, create=False)
    with store.session() as s:
        latest = max(s.execute(select(Run.id)).scalars())
        fingerprint = s.get(Run, latest).policy_fingerprint
    store.close()
    assert {r.run_id for r in rows} == {latest} and {r.pack_fingerprint for r in rows} == {fingerprint}
    # the next letter takes the next number
    code, stdout, err = cli("letter", "P-OK", "-f", "md", "-o", str(out), "--db", url)
    assert code == 0, err
    assert stdout.strip().endswith("菏城审〔2026〕2号_P-OK.md")


def test_letter_all_writes_one_file_per_project_inside_the_folder(stored, tmp_path: Path) -> None:
    url, _ = stored
    out = tmp_path / "deep" / "out"
    code, stdout, err = cli("letter", "--every-project", "-f", "md", "-o", str(out), "--db", url)
    assert code == 0, err
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 5 and all(f.startswith("菏城审〔") for f in files)
    assert any(f.endswith("_x.md") for f in files) and any(f.endswith("_项目_一期.md") for f in files)
    assert not (tmp_path / "x.md").exists() and not list(tmp_path.glob("**/一期*"))
    assert len(_letters(url)) == 5
    assert "审查意见书 letters" in err  # the progress bar / summary went to stderr, paths to stdout
    assert len(stdout.split()) == 5


def test_letter_from_files_numbers_locally_and_records_nothing(stored, tmp_path: Path) -> None:
    url, src = stored
    out = tmp_path / "o"
    code, stdout, err = cli(
        "letter",
        "P-MISSING",
        "--from",
        str(src / "projects.csv"),
        "-f",
        "md",
        "--number-start",
        "7",
        "-o",
        str(out),
        "--db",
        url,
        "--date",
        "2025-01-02",
    )
    assert code == 0, err
    (path,) = out.iterdir()
    assert path.name == "菏城审〔2025〕7号_P-MISSING.md"
    text = path.read_text(encoding="utf-8")
    assert "基本符合" in text and "2025年1月2日" in text
    assert _letters(url) == []


def test_notice_from_store_names_the_town(stored, tmp_path: Path) -> None:
    url, _ = stored
    code, stdout, err = cli(
        "notice", "town", "单县浮岗镇", "-f", "md", "-o", str(tmp_path / "n"), "--db", url
    )
    assert code == 0, err
    text = Path(stdout.strip()).read_text(encoding="utf-8")
    assert "单县浮岗镇新型城镇化建设目标达标情况通报" in text and "进度滞后" in text
    code, _, err = cli("notice", "town", "不存在镇", "-o", str(tmp_path / "n"), "--db", url)
    assert code == 2 and "单县浮岗镇" in err  # the error lists the towns it knows


def test_unknown_record_and_missing_font_fail_clearly(
    stored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = stored
    code, _, err = cli("letter", "NOPE", "-o", str(tmp_path), "--db", url)
    assert code == 2 and "NOPE" in err
    from engine.render import pdf

    monkeypatch.setattr(pdf, "cjk_fonts", lambda: [])
    code, _, err = cli("letter", "P-FAIL", "-f", "pdf", "-o", str(tmp_path / "p"), "--db", url)
    assert code == 2 and "fonts-noto-cjk" in err
    assert _letters(url) == []  # no number was spent on a letter that could not be written
