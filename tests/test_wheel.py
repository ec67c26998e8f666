"""The wheel works alone: built from the project, installed into a fresh venv outside the checkout,
it evaluates the samples and renders a letter from a temporary folder (issue 14).

The new venv sees the test venv's dependencies through a ``.pth`` line (so nothing is downloaded),
but not the checkout: the editable install's finder is activated by a ``.pth`` file of the test venv,
which Python does not read for a folder added by a ``.pth`` line, and the wheel is installed with
``--no-deps --force-reinstall``. The test checks ``engine.__file__`` lies inside the new venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What the build reads: the project's metadata, the engine and the data folders mapped into it.
_SOURCES = ("pyproject.toml", "README.md", "engine", "rules", "reports")


def _copy_sources(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    dest.mkdir()
    for name in _SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert res.returncode in (0, 1), (
        f"{cmd}: exit {res.returncode}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    )
    return res


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(the new venv's bin folder, an environment that knows nothing of the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    home = base / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "COMPLIANCE_", "XDG_", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHONNOUSERSITE="1",
    )
    src = _copy_sources(base / "src")
    wheels = base / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(wheels),
            str(src),
        ],
        cwd=base,
        env=env,
    )
    (wheel,) = wheels.glob("heze_compliance-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=base, env=env)
    py = venv / "bin" / "python"
    site = _run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=base, env=env
    )
    # the test venv's packages (dependencies) after the new venv's own
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "test-deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    _run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--force-reinstall",
            "--no-index",
            "-q",
            "--disable-pip-version-check",
            str(wheel),
        ],
        cwd=base,
        env=env,
    )
    return venv / "bin", env


def test_the_package_list_names_every_engine_package() -> None:
    """pyproject.toml lists the packages (the data folders are mapped in), so a new one must be added."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.relative_to(ROOT).parts)
        for p in (ROOT / "engine").rglob("*")
        if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_the_installed_wheel_evaluates_the_samples_and_writes_a_letter(installed, tmp_path: Path) -> None:
    bin_dir, env = installed
    work = tmp_path / "work"
    work.mkdir()
    where = _run(
        [
            str(bin_dir / "python"),
            "-c",
            "import engine, engine.resources as r; "
            "print(engine.__file__); print(r.rules_dir()); print(r.templates_dir())",
        ],
        cwd=work,
        env=env,
    )
    venv = bin_dir.parent.resolve()
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(venv), f"{line} is not from the wheel in {venv}"
    shutil.copytree(ROOT / "samples", work / "samples")
    db = tmp_path / "store.db"
    compliance = str(bin_dir / "compliance")
    res = _run([compliance, "evaluate", "samples", "--db", str(db), "--format", "summary"], cwd=work, env=env)
    assert "读取" in res.stdout + res.stderr
    res = _run([compliance, "runs", "--db", str(db)], cwd=work, env=env)
    assert res.returncode == 0 and "1" in res.stdout
    res = _run(
        [compliance, "letter", "HZ-2024-004", "-f", "html", "-f", "md", "-o", "letters", "--db", str(db)],
        cwd=work,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    (html,) = (work / "letters").glob("*HZ-2024-004.html")
    text = html.read_text(encoding="utf-8")
    assert "审查意见书" in text and "菏政发〔2024〕11号" in text
    res = _run(
        [compliance, "notice", "town", "单县浮岗镇", "-f", "md", "-o", "notices", "--db", str(db)],
        cwd=work,
        env=env,
    )
    assert res.returncode == 0 and list((work / "notices").glob("*.md")), res.stderr
    res = _run(
        [compliance, "evaluate", "samples/projects-2024.csv", "--no-store", "--format", "json"],
        cwd=work,
        env=env,
    )
    assert res.returncode == 0 and '"record_id": "HZ-2024-004"' in res.stdout


def test_the_installed_wheel_lists_lints_and_tests_its_rule_packs(installed, tmp_path: Path) -> None:
    bin_dir, env = installed
    compliance = str(bin_dir / "compliance")
    res = _run([compliance, "rules", "list"], cwd=tmp_path, env=env)
    assert res.returncode == 0 and "27" in res.stdout
    res = _run([compliance, "rules", "lint"], cwd=tmp_path, env=env)
    assert res.returncode == 0 and "通过 clean" in res.stdout, res.stdout
    res = _run([compliance, "rules", "test"], cwd=tmp_path, env=env)
    assert res.returncode == 0 and " 0 failed" in res.stdout
    res = _run([compliance, "runs"], cwd=tmp_path, env=env)  # the default store, in the new HOME: none yet
    assert res.returncode == 0 and "还没有存储" in res.stdout and env["XDG_DATA_HOME"] in res.stdout
