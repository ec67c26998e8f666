"""Letter numbers are issued once per judgement, never lost to a failed write, and cite finished runs only."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from engine.cli import main
from engine.store import Store
from engine.store.letters import judgement_fingerprint
from engine.store.models import Letter, LetterJudgement, LetterSequence, Run
from engine.store.testing import BACKENDS, store_url
from tests.test_letters_support import PROJECTS_CSV, evaluated, write_projects


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(params=BACKENDS)
def stored(request, tmp_path: Path):
    (tmp_path / "db").mkdir()
    for url in store_url(request.param, tmp_path / "db"):
        src = tmp_path / "in"
        src.mkdir()
        write_projects(src)
        code, _, err = cli("evaluate", str(src), "--db", url, "--format", "json")
        assert code in (0, 1), err
        yield url, src


def _rows(url: str, model):  # type: ignore[no-untyped-def]
    with Store(url, create=False) as store, store.session() as s:
        return list(s.execute(select(model)).scalars())


def test_rendering_the_same_judgement_again_in_any_format_reuses_its_number(stored, tmp_path: Path) -> None:
    url, _ = stored
    out = tmp_path / "out"
    for formats in (["-f", "md"], ["-f", "html"], ["-f", "md", "-f", "html"]):
        code, stdout, err = cli("letter", "P-FAIL", *formats, "-o", str(out), "--db", url)
        assert code == 0, err
        assert all("菏城审〔2026〕1号_P-FAIL" in line for line in stdout.split())
    letters = _rows(url, Letter)
    assert sorted((le.number, le.format) for le in letters) == [
        ("菏城审〔2026〕1号", "html"),
        ("菏城审〔2026〕1号", "md"),
    ]
    for le in letters:  # the register points at the file written last, with its hash
        import hashlib

        assert le.sha256 == hashlib.sha256(Path(le.path).read_bytes()).hexdigest()
    code, stdout, err = cli("letter", "P-OK", "-f", "md", "-o", str(out), "--db", url)
    assert stdout.strip().endswith("菏城审〔2026〕2号_P-OK.md")  # no gap left by the reprints
    assert [s.last for s in _rows(url, LetterSequence)] == [2]


def test_a_new_judgement_of_the_record_gets_a_new_number(stored, tmp_path: Path) -> None:
    url, src = stored
    out = tmp_path / "out"
    assert cli("letter", "P-FAIL", "-f", "md", "-o", str(out), "--db", url)[0] == 0
    # the same data evaluated again: same record version, same judgement -> same number
    assert cli("evaluate", str(src), "--db", url, "--format", "json")[0] in (0, 1)
    code, stdout, _ = cli("letter", "P-FAIL", "-f", "md", "-o", str(out), "--db", url)
    assert code == 0 and stdout.strip().endswith("菏城审〔2026〕1号_P-FAIL.md")
    # the project now invests 520万元: a new judgement (compliant) -> the next number
    (src / "projects.csv").write_text(
        PROJECTS_CSV.replace("技改项目,480,35", "技改项目,520,35"), encoding="utf-8"
    )
    assert cli("evaluate", str(src), "--db", url, "--format", "json")[0] in (0, 1)
    code, stdout, _ = cli("letter", "P-FAIL", "-f", "md", "-o", str(out), "--db", url)
    assert code == 0 and stdout.strip().endswith("菏城审〔2026〕2号_P-FAIL.md")
    assert "符合" in Path(stdout.strip()).read_text(encoding="utf-8")
    assert len(_rows(url, LetterJudgement)) == 2


def test_judgement_fingerprint_follows_status_value_threshold_and_review_only() -> None:
    _, findings = evaluated()
    fs = findings["P-FAIL"]
    key = judgement_fingerprint(fs)
    assert judgement_fingerprint(list(reversed(fs))) == key  # order does not matter
    assert (
        judgement_fingerprint([f.model_copy(update={"message": "x", "source_text": "y"}) for f in fs]) == key
    )
    flagged = [f.model_copy(update={"review": True}) if i == 0 else f for i, f in enumerate(fs)]
    assert judgement_fingerprint(flagged) != key
    changed = [f.model_copy(update={"status": "compliant"}) if f.status == "non_compliant" else f for f in fs]
    assert judgement_fingerprint(changed) != key


def test_disk_full_gives_a_clear_error_keeps_the_number_and_leaves_no_file(
    stored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = stored
    out = tmp_path / "out"
    from engine.render import files

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    code, _, err = cli("letter", "P-FAIL", "-f", "md", "-f", "html", "-o", str(out), "--db", url)
    assert code == 2 and "磁盘空间不足" in err and "Traceback" not in err
    assert list(out.iterdir()) == []  # no partial file, no temporary file
    assert _rows(url, Letter) == [] and _rows(url, LetterJudgement) == []
    monkeypatch.undo()
    code, stdout, err = cli("letter", "P-FAIL", "-f", "md", "-o", str(out), "--db", url)
    assert code == 0 and stdout.strip().endswith("菏城审〔2026〕1号_P-FAIL.md")  # the number was not used up


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="needs root to mount a tmpfs")
def test_a_real_full_disk_leaves_no_partial_letter(stored, tmp_path: Path) -> None:
    url, _ = stored
    out = tmp_path / "tiny"
    out.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(out)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (out / "filler").write_bytes(b"x" * 12 * 1024)
        code, _, err = cli("letter", "P-FAIL", "-f", "html", "-f", "md", "-o", str(out), "--db", url)
        assert code == 2 and "磁盘空间不足" in err
        assert sorted(p.name for p in out.iterdir()) == ["filler"]
        assert _rows(url, Letter) == [] and _rows(url, LetterJudgement) == []
    finally:
        subprocess.run(["umount", str(out)], check=False)


def test_a_letter_never_cites_a_run_that_is_not_finished(stored, tmp_path: Path) -> None:
    url, src = stored
    assert cli("evaluate", str(src), "--db", url, "--format", "json")[0] in (0, 1)  # run 2
    with Store(url, create=False) as store, store.write_session() as s:
        latest = max(s.execute(select(Run.id)).scalars())
        s.execute(update(Run).where(Run.id == latest).values(finished_at=None))  # still being written
    code, _, err = cli("letter", "P-FAIL", "-f", "md", "-o", str(tmp_path / "o"), "--db", url)
    assert code == 0, err
    (row,) = _rows(url, Letter)
    assert row.run_id == latest - 1  # the finished run, not the one being written
    code, _, err = cli("letter", "P-FAIL", "--run", str(latest), "-o", str(tmp_path / "o"), "--db", url)
    assert code == 2 and "not finished" in err
    code, _, err = cli(
        "letter", "--every-project", "--run", str(latest), "-o", str(tmp_path / "o"), "--db", url
    )
    assert code == 2 and "not finished" in err
